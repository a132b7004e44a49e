// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Conary",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "conary", targets: ["conary"]),
        .executable(name: "conary-bench", targets: ["conary-bench"]),
        .library(name: "ConaryCore", targets: ["ConaryCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Linux syscalls that Glibc's Swift overlay does not expose (renameat2, syncfs, xattrs).
        .target(name: "CLinux"),
        // Package payloads (ar, tar, cpio; gzip, xz, zstd) are read with libarchive.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // Ed25519 signatures of Conary's own package format.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        // The SAT solver behind install/update/autoremove (Docs/resolution.md).
        .systemLibrary(name: "CSolv", pkgConfig: "libsolv", providers: [.apt(["libsolv-dev"])]),
        .target(
            name: "ConaryCore",
            dependencies: [
                "CLinux",
                "CArchive",
                "CSodium",
                "CSolv",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .executableTarget(
            name: "conary",
            dependencies: [
                "ConaryCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "conary-bench",
            dependencies: ["ConaryCore"]),
        .executableTarget(
            name: "conary-fuzz",
            dependencies: ["ConaryCore"]),
        .testTarget(
            name: "ConaryCoreTests",
            dependencies: [
                "ConaryCore", "CLinux", "conary",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
    ],
    swiftLanguageModes: [.v5]
)
