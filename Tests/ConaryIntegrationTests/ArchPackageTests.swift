@testable import ConaryModel
@testable import ConaryFormats
@testable import ConaryOperations
import ConaryTestSupport
import XCTest

/// Arch packages built by Debian's makepkg from Tests/Fixtures/arch/arch-hello.
final class ArchPackageTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
    }

    private func build(_ ext: String) throws -> String {
        let result = try runTool(packageRoot + "/Scripts/build-arch-fixture.sh", [scratch.base + "/pkg", ext])
        guard result.status == 0, let path = result.output.split(separator: "\n").last(where: { $0.hasSuffix(ext) }) else {
            throw XCTSkip("SKIPPED: makepkg (Debian's makepkg and fakeroot) could not build the test Arch package.")
        }
        return String(path)
    }

    func testZstdAndXzPackagesInstallWithMetadata() throws {
        for ext in [".pkg.tar.zst", ".pkg.tar.xz"] {
            let root = try ConaryRoot(path: try scratch.root(ext), create: true)
            try root.install([try build(ext)], resolving: false, command: "t")
            XCTAssertEqual(readFile(root.path + "/usr/bin/arch-hello"), "#!/bin/sh\necho hello from arch\n", ext)
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: root.path + "/usr/bin/ahello"), "arch-hello")
            XCTAssertEqual(readFile(root.path + "/usr/etc/arch-hello.conf"), "greeting=hello\n")
            let trove = try root.installedTrove("arch-hello")
            XCTAssertEqual(trove.license, "MIT")
            XCTAssertEqual(trove.url, "https://example.org/arch-hello")
            XCTAssertEqual(trove.version, "1.0-2")
            XCTAssertEqual(trove.format, .arch)
            let info = try root.info(trove)
            XCTAssertEqual(info.components, ["arch-hello:config", "arch-hello:runtime", "arch-hello:supdoc"])
            XCTAssertEqual(info.scriptlets, ["install"])
            XCTAssertTrue(info.dependencies.contains(.init(relation: "requires", capability: "glibc", comparison: ">=", version: "2.34", alternative: 0)))
            XCTAssertTrue(info.dependencies.contains(.init(relation: "provides", capability: "hello-greeting", comparison: "=", version: "1.0", alternative: 0)))
            XCTAssertEqual(try root.owner(ofPath: "/etc/arch-hello.conf").flags, ["config", "noreplace"])
            XCTAssertEqual(try root.whatProvides("hello-greeting").map(\.name), ["arch-hello"])
            XCTAssertEqual(try root.verify(), [])
        }
    }

    func testContentThatDisagreesWithMtreeIsRefused() throws {
        let package = try build(".pkg.tar.zst")
        let unpacked = scratch.base + "/unpacked"
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        XCTAssertEqual(try runTool("bsdtar", ["-xf", package, "-C", unpacked]).status, 0)
        try Data("#!/bin/sh\necho tampered\n".utf8).write(to: URL(fileURLWithPath: unpacked + "/usr/bin/arch-hello"))
        let tampered = scratch.base + "/tampered.pkg.tar.zst"
        XCTAssertEqual(try runTool("bsdtar", ["--zstd", "-cf", tampered, "-C", unpacked, ".PKGINFO", ".MTREE", ".INSTALL", "etc", "usr"]).status, 0)
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        XCTAssertThrowsError(try root.install([tampered], command: "t")) { error in
            XCTAssertEqual("\(error)", "tampered.pkg.tar.zst is damaged: /usr/bin/arch-hello does not match its recorded checksum.")
        }
        XCTAssertEqual(try root.troves().count, 0)
        XCTAssertEqual(try root.store.storedObjectIDs().count, 0)
    }

    func testPkgInfoParsing() {
        let info = PkgInfo.parse("# comment\npkgname = a\ndepend = b>=1\ndepend = c\noptdepend = d: for extra things\n")
        XCTAssertEqual(info["depend"], ["b>=1", "c"])
        XCTAssertEqual(PkgInfo.dependency("libfoo.so=1-64", relation: .provides, alternative: 0),
                       Dependency(relation: .provides, capability: "libfoo.so", comparison: "=", version: "1-64", alternative: 0))
        XCTAssertEqual(PkgInfo.dependency("d: for extra things", relation: .recommends, alternative: 1).capability, "d")
        // An epoch's ":" is part of the version; only ": " starts an optdepend's reason.
        XCTAssertEqual(PkgInfo.dependency("q>0:1.1", relation: .requires, alternative: 0),
                       Dependency(relation: .requires, capability: "q", comparison: ">", version: "0:1.1", alternative: 0))
        XCTAssertEqual(PkgInfo.dependency("r>=2:3-1: newer r", relation: .recommends, alternative: 0),
                       Dependency(relation: .recommends, capability: "r", comparison: ">=", version: "2:3-1", alternative: 0))
        XCTAssertEqual(PkgInfo.mtreeDigests("#mtree\n./usr/bin/a\\040b size=1 sha256digest=ab\n./usr type=dir\n"), ["/usr/bin/a b": "ab"])
    }
}
