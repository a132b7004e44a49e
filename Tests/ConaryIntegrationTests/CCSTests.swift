@testable import ConaryFormats
@testable import ConaryOperations
import Crypto
import ConaryTestSupport
import XCTest

/// Conary's own format: build, sign, verify, trust, install, and refusal of anything altered.
final class CCSTests: XCTestCase {
    private var scratch: Scratch!
    private var tree: String!
    private var key: [UInt8]!
    private var publicKey: String!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
        tree = try scratch.tree("ccs", ["usr/bin/tool": "#!/bin/sh\necho ccs\n", "usr/bin/copy": "#!/bin/sh\necho ccs\n",
                                        "usr/bin/t": "->tool", "etc/tool.conf": "a=1\n"])
        chmod(tree + "/usr/bin/tool", 0o755)
        _ = try CCSPackage.generateKeys(prefix: scratch.base + "/key")
        key = try CCSPackage.readKey(scratch.base + "/key.secret", bytes: 64)
        publicKey = CCSSigning.hex(try CCSPackage.readKey(scratch.base + "/key.pub", bytes: 32))
    }

    private func build(signed: Bool = true, output: String = "tool.ccs") throws -> String {
        var metadata = CCSPackage.Metadata(name: "tool", version: "1.0", summary: "a tool")
        metadata.requires = ["glibc >= 2.34"]
        let path = scratch.base + "/" + output
        _ = try CCSPackage.build(directory: tree, output: path, metadata: metadata, secretKey: signed ? key : nil)
        return path
    }

    private func root(trusting: Bool) throws -> ConaryRoot {
        let root = try ConaryRoot(path: try scratch.root(UUID().uuidString), create: true)
        if trusting { try root.trust(publicKey: publicKey) }
        return root
    }

    private func assertRefused(_ package: String, _ root: ConaryRoot, _ expected: String, line: UInt = #line) throws {
        XCTAssertThrowsError(try root.install([package], command: "t"), line: line) { error in
            XCTAssertTrue("\(error)".contains(expected), "\(error)", line: line)
        }
        XCTAssertEqual(try root.troves().count, 0, line: line)
        XCTAssertEqual(try root.store.storedObjectIDs().count, 0, line: line)
    }

    func testSignedPackageInstallsOnARootThatTrustsItsKey() throws {
        let package = try build()
        let report = try CCSPackage.verify(package, trustedKeys: [publicKey])
        XCTAssertTrue(report.trusted)
        XCTAssertEqual(report.files, 7)
        let root = try root(trusting: true)
        try root.install([package], resolving: false, command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/bin/tool"), "#!/bin/sh\necho ccs\n")
        XCTAssertEqual(lstatOf(root.path + "/usr/bin/tool").map { $0.st_mode & 0o777 }, 0o555)
        let info = try root.info(try root.installedTrove("tool"))
        XCTAssertEqual(info.format, "ccs")
        XCTAssertEqual(info.signature, "verified (key \(CCSSigning.keyID(publicKey)))")
        XCTAssertEqual(info.components, ["tool:config", "tool:runtime"])
        XCTAssertEqual(try root.owner(ofPath: "/etc/tool.conf").flags, ["config", "noreplace"])
        XCTAssertEqual(try root.verify(), [])
    }

    func testUnsignedAndUntrustedPackagesAreRefused() throws {
        try assertRefused(try build(signed: false, output: "unsigned.ccs"), try root(trusting: true), "is not signed")
        try assertRefused(try build(), try root(trusting: false), "which this root does not trust")
    }

    func testResigningMovesTrust() throws {
        let package = try build()
        _ = try CCSPackage.generateKeys(prefix: scratch.base + "/other")
        let other = try CCSPackage.readKey(scratch.base + "/other.secret", bytes: 64)
        XCTAssertNotNil(try CCSPackage.sign(package, secretKey: other).signedBy)
        try assertRefused(package, try root(trusting: true), "which this root does not trust")
        XCTAssertEqual(try CCSPackage.verify(package, trustedKeys: nil).files, 7, "contents survive re-signing")
    }

    /// Rewrites one member of a package with bsdtar, keeping the member order.
    private func tamper(_ package: String, _ member: String, _ change: (String) -> String) throws -> String {
        let unpacked = scratch.base + "/unpacked-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
        XCTAssertEqual(try runTool("bsdtar", ["-xf", package, "-C", unpacked]).status, 0)
        let names = try runTool("bsdtar", ["-tf", package]).output.split(separator: "\n").map(String.init)
        let path = unpacked + "/" + member
        try Data(change(readFile(path)!).utf8).write(to: URL(fileURLWithPath: path))
        let output = scratch.base + "/tampered-\(UUID().uuidString.prefix(4)).ccs"
        XCTAssertEqual(try runTool("bsdtar", ["--zstd", "-cf", output, "-C", unpacked] + names).status, 0)
        return output
    }

    func testAlteredManifestOrContentIsRefused() throws {
        let package = try build()
        let root = try root(trusting: true)
        try assertRefused(try tamper(package, "MANIFEST.json") { $0.replacingOccurrences(of: "\"1.0\"", with: "\"6.6\"") }, root,
                          "signature does not match its manifest")
        let content = try runTool("bsdtar", ["-tf", package]).output.split(separator: "\n").first { $0.hasPrefix("files/") }!
        try assertRefused(try tamper(package, String(content)) { $0 + "evil\n" }, root, "does not match its recorded checksum")
    }

    func testManifestIsCanonicalAndMerkleRootCoversEveryEntry() throws {
        let first = try CCSPackage.inspect(try build(output: "a.ccs")).manifest
        let second = try CCSPackage.inspect(try build(output: "b.ccs")).manifest
        XCTAssertEqual(first, second, "the same tree builds the same manifest")

        let files = (0..<3).map { CCSManifest.File(path: "/f\($0)", kind: "regular", mode: 0o644, uid: 0, gid: 0, size: 1,
                                                   sha256: String(repeating: "\($0)", count: 64), target: nil, flags: 0) }
        let leaves = try files.map { Array(SHA256.hash(data: [0x00] + Array(try CCSManifest.encoder.encode($0)))) }
        let left = Array(SHA256.hash(data: [0x01] + leaves[0] + leaves[1]))
        let root = SHA256.hash(data: [0x01] + left + leaves[2]).hex
        XCTAssertEqual(try CCSManifest.merkleRoot(of: files), root)
        var changed = files
        changed[2].mode = 0o755
        XCTAssertNotEqual(try CCSManifest.merkleRoot(of: changed), root)
    }
}
