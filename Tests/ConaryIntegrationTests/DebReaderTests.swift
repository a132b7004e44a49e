@testable import ConaryModel
@testable import ConaryFormats
@testable import ConaryOperations
import Foundation
import ConaryTestSupport
import XCTest

final class DebControlTests: XCTestCase {
    func testParagraphFieldsAndContinuationLines() {
        let fields = DebControl.fields("Package: hello\nVersion: 2.10-3\nDescription: example\n more text\n .\nDepends: libc6\n\nPackage: other\n")
        XCTAssertEqual(fields["package"], "hello")
        XCTAssertEqual(fields["description"], "example\nmore text\n.")
        XCTAssertEqual(fields["depends"], "libc6")
    }

    func testRelationsWithVersionsAlternativesArchesAndProfiles() {
        let deps = DebControl.relations("libc6 (>= 2.34), foo:any | bar (<< 1:2.0~rc1) [amd64], baz <!nocheck>", as: .requires)
        XCTAssertEqual(deps, [
            Dependency(relation: .requires, capability: "libc6", comparison: ">=", version: "2.34", alternative: 0),
            Dependency(relation: .requires, capability: "foo", alternative: 1),
            Dependency(relation: .requires, capability: "bar", comparison: "<<", version: "1:2.0~rc1", alternative: 1),
            Dependency(relation: .requires, capability: "baz", alternative: 2),
        ])
    }

    func testQualifiersNeverEatIntoAVersionAndLinesJoin() {
        // A build profile after a "<<" constraint, and a field continued on the next line.
        let deps = DebControl.relations("foo (<< 2) <!nocheck>,\n bar(>=1.0)\t[amd64 i386],\n\tbaz:native", as: .requires)
        XCTAssertEqual(deps, [
            Dependency(relation: .requires, capability: "foo", comparison: "<<", version: "2", alternative: 0),
            Dependency(relation: .requires, capability: "bar", comparison: ">=", version: "1.0", alternative: 1),
            Dependency(relation: .requires, capability: "baz", alternative: 2),
        ])
        XCTAssertEqual(DebControl.relations(" , | ", as: .requires), [])
    }

    /// An explicit architecture names another package than the plain name (libc6-i386
    /// conflicts with libc6-x32:i386, not with the native libc6-x32); :any and :native are
    /// satisfied by the package of that name, as dpkg does.
    func testArchitectureQualifiersKeepTheirMeaning() {
        let deps = DebControl.relations("libc6-x32:i386, libc6-i386:x32 (<< 2), foo:any (>= 1), bar:native", as: .conflicts)
        XCTAssertEqual(deps.map(\.capability), ["libc6-x32:i386", "libc6-i386:x32", "foo", "bar"])
        XCTAssertEqual(deps[1].version, "2")
        XCTAssertEqual(deps[2].comparison, ">=")
    }

    func testPackagesIndexEntriesAreCheckedAsTheyAreRead() throws {
        let good = """
            Package: a
            Version: 1.0-1
            Architecture: amd64
            Depends: b (>= 2) | c,
             d
            Filename: pool/main/a/a_1.0-1_amd64.deb
            Size: 1234
            SHA256: \(String(repeating: "ab", count: 32))
            Description: the a package
             longer text

            """
        let entries = try DebianIndex.parse(good + "\n", display: "Packages")
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries[0].filename, "pool/main/a/a_1.0-1_amd64.deb")
        XCTAssertEqual(entries[0].summary, "the a package")
        XCTAssertEqual(DebianIndex.relations(entries[0].relationFields).map(\.capability), ["b", "c", "d"])
        XCTAssertEqual(DebianIndex.relations(entries[0].relationFields).map(\.alternative), [0, 0, 1])
        for (bad, message) in [
            (good.replacingOccurrences(of: "pool/main", with: "../../etc"), "points outside the repository"),
            (good.replacingOccurrences(of: "Filename: pool", with: "Filename: /pool"), "points outside the repository"),
            (good.replacingOccurrences(of: "Size: 1234", with: "Size: lots"), "Size that is not a number"),
            (good.replacingOccurrences(of: String(repeating: "ab", count: 32), with: "abc"), "SHA256 that is not 64 hex digits"),
            (good.replacingOccurrences(of: "Version: 1.0-1\n", with: ""), "no Version field"),
        ] {
            XCTAssertThrowsError(try DebianIndex.parse(bad, display: "Packages")) { error in
                XCTAssertTrue("\(error)".contains(message), "\(error)")
            }
        }
    }

    func testMd5sumsBecomeAbsolutePaths() {
        XCTAssertEqual(DebControl.md5sums("0123  usr/bin/hello\nabcd  usr/share/doc/a b\n"),
                       ["/usr/bin/hello": "0123", "/usr/share/doc/a b": "abcd"])
    }

    func testComponentRules() {
        let cases: [(String, FileKind, String)] = [
            ("/usr/bin/hello", .regular, "runtime"), ("/bin/busybox", .regular, "runtime"),
            ("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13", .regular, "lib"), ("/lib/x86_64-linux-gnu/libc.so.6", .regular, "lib"),
            ("/usr/lib/x86_64-linux-gnu/libz.so", .symlink, "devellib"), ("/usr/lib/x86_64-linux-gnu/libz.a", .regular, "devellib"),
            ("/usr/lib/x86_64-linux-gnu/pkgconfig/zlib.pc", .regular, "devellib"), ("/usr/include/zlib.h", .regular, "devel"),
            ("/usr/share/man/man1/hello.1.gz", .regular, "doc"), ("/usr/share/info/hello.info.gz", .regular, "doc"),
            ("/usr/share/doc/hello/copyright", .regular, "supdoc"), ("/usr/share/locale/de/LC_MESSAGES/hello.mo", .regular, "locale"),
            ("/etc/hello.conf", .regular, "config"), ("/usr/lib/debug/.build-id/ab/cd.debug", .regular, "debuginfo"),
            ("/usr/share/hello/data", .regular, "runtime"),
        ]
        for (path, kind, expected) in cases {
            XCTAssertEqual(ComponentRules.component(for: path, kind: kind), expected, path)
        }
    }

    func testELFDynamicSectionGivesSonameAndNeeded() throws {
        let library = "/lib/x86_64-linux-gnu/libc.so.6"
        guard let st = lstatOf(library) else { throw XCTSkip("SKIPPED: no \(library) on this machine.") }
        let file = open(library, O_RDONLY)
        defer { close(file) }
        let dynamic = try XCTUnwrap(ELFDynamic(fd: file, size: Int64(st.st_size)))
        XCTAssertEqual(dynamic.soname, "libc.so.6")
        XCTAssertTrue(dynamic.needed.contains("ld-linux-x86-64.so.2"), "\(dynamic.needed)")
        XCTAssertEqual(dynamic.bits, "(64bit)")
        XCTAssertNil(ELFDynamic(fd: file, size: 63), "a size too small for the header")
        let text = open(packageRoot + "/README.md", O_RDONLY)
        defer { close(text) }
        XCTAssertNil(ELFDynamic(fd: text, size: 100))
    }

    func testPayloadPathsAreNormalizedAndClimbingIsRefused() throws {
        XCTAssertEqual(try PayloadPath.normalize("./usr//bin/./x", package: "p"), "/usr/bin/x")
        XCTAssertNil(try PayloadPath.normalize("./", package: "p"))
        XCTAssertThrowsError(try PayloadPath.normalize("usr/../../etc/passwd", package: "p"))
        XCTAssertEqual(PayloadPath.ancestors(of: "/a/b/c"), ["/a", "/a/b"])
    }
}

/// Packages as other tools write them.
final class RepackedDebTests: XCTestCase {
    /// `ar rcD` writes member modes as "644" with no file type; dpkg-deb reads that.
    func testArMembersWithoutAFileTypeAreRead() throws {
        try requireRoot()
        let scratch = try Scratch()
        let tree = try scratch.tree("pkg", ["DEBIAN/control": "Package: repacked\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n",
                                            "usr/bin/repacked": "#!/bin/sh\n"])
        let built = scratch.base + "/built.deb", repacked = scratch.base + "/repacked.deb", members = scratch.base + "/members"
        guard try runTool("dpkg-deb", ["--root-owner-group", "-Zgzip", "-b", tree, built]).status == 0 else {
            throw XCTSkip("SKIPPED: dpkg-deb could not build a package.")
        }
        try FileManager.default.createDirectory(atPath: members, withIntermediateDirectories: true)
        let repack = try runTool("sh", ["-c", "cd '\(members)' && ar x '\(built)' && ar rcD '\(repacked)' debian-binary control.tar.* data.tar.*"])
        guard repack.status == 0 else { throw XCTSkip("SKIPPED: ar (binutils) could not re-pack the package.") }
        XCTAssertEqual(try runTool("dpkg-deb", ["-I", repacked]).status, 0, "dpkg-deb reads the re-packed file")
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        try root.install([repacked], resolving: false, command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/bin/repacked"), "#!/bin/sh\n")
    }
}

/// Hand-made hostile .deb files (Tests/Fixtures/make-hostile-debs.py): each is refused with
/// one sentence naming it, and nothing of it reaches the store.
final class HostileDebTests: XCTestCase {
    private var scratch: Scratch!
    private var packages: String!
    /// Written once for the whole class: the bomb alone is 128 MiB of zeros to compress.
    private static let generated: Scratch? = {
        guard let scratch = try? Scratch(),
              (try? runTool("python3", [packageRoot + "/Tests/Fixtures/make-hostile-debs.py", scratch.base + "/debs"]))?.status == 0
        else { return nil }
        return scratch
    }()

    override class func tearDown() {
        if let generated { try? FileManager.default.removeItem(atPath: generated.base) }
    }

    override func setUpWithError() throws {
        try requireRoot()
        guard let generated = Self.generated else {
            throw XCTSkip("SKIPPED: python3 is needed to write the hostile test packages.")
        }
        scratch = try Scratch()
        packages = generated.base + "/debs"
    }

    private func assertRefused(_ file: String, _ expected: String, line: UInt = #line) throws {
        let root = try ConaryRoot(path: try scratch.root(file), create: true)
        XCTAssertThrowsError(try root.install(["\(packages!)/\(file)"], command: "t"), line: line) { error in
            XCTAssertTrue("\(error)".hasPrefix(file), "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(expected), "\(error)", line: line)
            XCTAssertFalse("\(error)".contains("\n"), line: line)
        }
        XCTAssertEqual(try root.troves().count, 0, line: line)
        XCTAssertEqual(try root.store.storedObjectIDs().count, 0, line: line)
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: root.store.path).contains { $0.hasPrefix(".incoming") }, line: line)
        XCTAssertNil(try root.activeState(), line: line)
    }

    func testGoodPackageFromTheSameGeneratorInstalls() throws {
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        try root.install([packages + "/good.deb"], resolving: false, command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/bin/good"), "#!/bin/sh\necho good\n")
        XCTAssertEqual(lstatOf(root.path + "/usr/bin/good").map { $0.st_mode & 0o777 }, 0o555)
    }

    func testPathClimbingOutIsRefused() throws { try assertRefused("climb.deb", "climbs out") }
    func testDeviceNodeIsRefused() throws { try assertRefused("device.deb", "device node") }
    func testFileThroughOwnSymlinkIsRefused() throws { try assertRefused("through-symlink.deb", "goes through the package's own symlink /usr/evil") }
    func testChecksumMismatchIsRefused() throws { try assertRefused("md5.deb", "does not match its recorded checksum") }
    func testDecompressionBombIsRefused() throws { try assertRefused("bomb.deb", "decompression bomb") }
    func testTruncatedPackageIsRefused() throws { try assertRefused("truncated.deb", "damaged") }
    func testEmptyPackageNameIsRefused() throws { try assertRefused("empty-name.deb", "is not a trove name: it is empty") }
    func testNonPackageIsRefused() throws { try assertRefused("not-a-package.deb", "not a package Conary can read") }
    func testNameLongerThanLinuxAllowsIsRefused() throws { try assertRefused("long-name.deb", "has a name longer than 255 bytes") }
    func testPathLongerThanLinuxAllowsIsRefused() throws { try assertRefused("long-path.deb", "is longer than 4095 bytes") }
    func testEmptySymlinkTargetIsRefused() throws { try assertRefused("empty-target.deb", "is a symlink with an empty target") }
    func testSymlinkTargetLongerThanLinuxAllowsIsRefused() throws { try assertRefused("long-target.deb", "is a symlink whose target is longer than 4095 bytes") }

    func testOneBadPackageKeepsTheGoodOnesOutToo() throws {
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        XCTAssertThrowsError(try root.install([packages + "/good.deb", packages + "/md5.deb"], command: "t"))
        XCTAssertEqual(try root.troves().count, 0)
        XCTAssertEqual(try root.store.storedObjectIDs().count, 0)
    }
}
