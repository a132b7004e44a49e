@testable import ConaryFormats
@testable import ConaryOperations
import ConaryTestSupport
import XCTest

/// `conary install ./x.rpm ./y.deb ./z.pkg.tar.zst ./w.ccs`: four formats, one changeset.
final class MixedFormatTests: XCTestCase {
    func testFourFormatsDeployInOneChangeset() throws {
        try requireRoot()
        let scratch = try Scratch()
        let debs = try fetchDebs(["libc6", "hello"])
        guard let rpm = try runTool(packageRoot + "/Scripts/build-rpm-fixture.sh", [scratch.base + "/out", "zstd"]).output
            .split(separator: "\n").last,
              let arch = try runTool(packageRoot + "/Scripts/build-arch-fixture.sh", [scratch.base + "/out", ".pkg.tar.zst"]).output
            .split(separator: "\n").last(where: { $0.hasSuffix(".zst") }) else {
            throw XCTSkip("SKIPPED: rpmbuild or makepkg could not build the test packages.")
        }
        _ = try CCSPackage.generateKeys(prefix: scratch.base + "/key")
        let ccs = scratch.base + "/out/tool.ccs"
        _ = try CCSPackage.build(directory: try scratch.tree("ccs", ["usr/bin/ccs-tool": "tool"]), output: ccs,
                                 metadata: .init(name: "ccs-tool", version: "1"),
                                 secretKey: try CCSPackage.readKey(scratch.base + "/key.secret", bytes: 64))

        let root = try ConaryRoot(path: try scratch.root(), create: true)
        try root.trust(publicKey: CCSSigning.hex(try CCSPackage.readKey(scratch.base + "/key.pub", bytes: 32)))
        let result = try root.install(debs + [String(rpm), String(arch), ccs], resolving: false, command: "t")
        XCTAssertEqual(result.state.id, 1)
        let formats = Dictionary(try root.installedTroves().filter { $0.kind == .package }.map { ($0.name, $0.format.rawValue) },
                                 uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(formats, ["libc6": "deb", "hello": "deb", "conary-hello": "rpm", "arch-hello": "arch", "ccs-tool": "ccs"])
        for path in ["/usr/bin/hello", "/usr/bin/conary-hello", "/usr/bin/arch-hello", "/usr/bin/ccs-tool"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: root.path + path), path)
        }
        XCTAssertEqual(try runTool("chroot", [root.path, "/usr/bin/hello"]).output, "Hello, world!\n")
        XCTAssertEqual(try root.verify(), [])
        XCTAssertEqual(try root.changesets().count, 1)
    }
}
