// swift-tools-version:6.1
import PackageDescription

// One target per layer, lowest first; a layer imports only layers below it
// (Docs/architecture.md draws them; Scripts/check-layers.py checks the imports).
let package = Package(
    name: "Conary",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "conary", targets: ["conary"]),
        .executable(name: "conary-bench", targets: ["conary-bench"]),
        .library(name: "ConaryOperations", targets: ["ConaryOperations"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // Linux syscalls that Glibc's Swift overlay does not expose (renameat2, syncfs, xattrs, mounts).
        .target(name: "CLinux"),
        // Package payloads (ar, tar, cpio; gzip, xz, zstd) are read with libarchive.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // Ed25519 signatures of Conary's own package format.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        // The SAT solver behind install/update/autoremove (Docs/resolution.md).
        .systemLibrary(name: "CSolv", pkgConfig: "libsolv", providers: [.apt(["libsolv-dev"])]),

        // Values: troves, files, dependencies, states, changesets, the root layout. No I/O.
        .target(name: "ConaryModel"),
        // Version ordering per scheme, native versions, flavors. Pure.
        .target(name: "ConaryVersions", dependencies: ["ConaryModel"]),
        // Syscalls, descriptors, hashing, file copy, locking, fault injection.
        .target(name: "ConarySupport", dependencies: ["CLinux", .product(name: "Crypto", package: "swift-crypto")]),
        // The content-addressed object store.
        .target(name: "ConaryStore", dependencies: ["ConaryModel", "ConarySupport", .product(name: "Crypto", package: "swift-crypto")]),
        // Schema, migrations and every SQL statement, behind typed records.
        .target(name: "ConaryDatabase", dependencies: ["ConaryModel", "ConarySupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // Package files and directory trees → troves in the store and the database.
        .target(name: "ConaryFormats", dependencies: [
            "ConaryModel", "ConaryVersions", "ConarySupport", "ConaryStore", "ConaryDatabase", "CArchive", "CSodium",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Dependency resolution over an in-memory catalog (libsolv): no database, no files.
        .target(name: "ConaryResolve", dependencies: ["ConaryModel", "ConaryVersions", "CSolv"]),
        // The arena tree of a state: merged-/usr reparenting, conflicts, tree hash.
        .target(name: "ConaryVFS", dependencies: ["ConaryModel", "ConarySupport", .product(name: "Crypto", package: "swift-crypto")]),
        // Kernels in state trees, Boot Loader Specification entries, boot loader variables.
        .target(name: "ConaryBoot", dependencies: ["ConaryModel", "ConaryVersions", "ConarySupport", "ConaryStore", "ConaryVFS", "CLinux"]),
        // The state transaction: record, staging steps (blit, initramfs) in the sandbox, swap, archive, recovery.
        .target(name: "ConaryDeploy", dependencies: [
            "ConaryModel", "ConarySupport", "ConaryStore", "ConaryDatabase", "ConaryVFS", "ConaryBoot", "CLinux",
        ]),
        // What the commands do: a thin facade over the layers below.
        .target(name: "ConaryOperations", dependencies: [
            "ConaryModel", "ConaryVersions", "ConarySupport", "ConaryStore", "ConaryDatabase", "ConaryFormats",
            "ConaryResolve", "ConaryVFS", "ConaryBoot", "ConaryDeploy",
        ]),
        // The CLI works on a root through ConaryOperations; `ccs`, which works on package
        // files alone, calls ConaryFormats directly.
        .executableTarget(
            name: "conary",
            dependencies: [
                "ConaryOperations", "ConaryModel", "ConaryVersions", "ConaryFormats",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "conary-bench", dependencies: ["ConaryOperations", "ConaryModel"]),
        .executableTarget(name: "conary-fuzz", dependencies: ["ConaryModel", "ConaryFormats"]),
        // Assertions both test targets share.
        .target(name: "ConaryTestSupport", path: "Tests/ConaryTestSupport"),
        // Pure layers (values, versions and flavors, the resolver, the VFS): no database, no
        // files, no root; `make test` also runs them as an unprivileged user.
        .testTarget(
            name: "ConaryUnitTests",
            dependencies: ["ConaryModel", "ConaryVersions", "ConaryResolve", "ConaryVFS", "ConaryTestSupport"]),
        // Hundreds of SIGKILLs at random moments on a root of 20,000+ files (long; as root).
        .testTarget(
            name: "ConarySoakTests",
            dependencies: ["ConaryModel", "ConaryDeploy", "ConaryOperations", "ConaryTestSupport", "conary"]),
        // Everything on real roots: stores, databases, deployments, crashes, packages, boots (as root).
        .testTarget(
            name: "ConaryIntegrationTests",
            dependencies: ["ConaryTestSupport",
                "ConaryModel", "ConaryVersions", "ConarySupport", "ConaryStore", "ConaryDatabase", "ConaryFormats",
                "ConaryResolve", "ConaryVFS", "ConaryBoot", "ConaryDeploy", "ConaryOperations", "CLinux", "conary",
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "GRDB", package: "GRDB.swift"),
            ]),
    ],
    swiftLanguageModes: [.v5]
)
