@testable import ConaryFormats
@testable import ConaryOperations
import XCTest

/// A local folder of package files with several versions, synced into the store.
final class RepositoryTests: XCTestCase {
    /// An index entry is installed by name, so it obeys the rules of every stored trove.
    func testIndexEntriesFollowTheTroveNameRules() {
        for (name, version) in [("a/b", "1"), ("a:b", "1"), ("a", "1 2")] {
            let paragraph = "Package: \(name)\nVersion: \(version)\nFilename: a.deb\nSize: 1\nSHA256: \(String(repeating: "0", count: 64))\n"
            XCTAssertThrowsError(try DebianIndex.parse(paragraph, display: "Packages")) { error in
                XCTAssertTrue("\(error)".hasPrefix("Packages is refused: ") && "\(error)".contains("is not a trove"), "\(error)")
            }
        }
    }

    func testSyncInstallUpdateAndSearch() throws {
        try requireRoot()
        let scratch = try Scratch()
        _ = try CCSPackage.generateKeys(prefix: scratch.base + "/key")
        let secret = try CCSPackage.readKey(scratch.base + "/key.secret", bytes: 64)
        let folder = try scratch.root("repo")
        func publish(_ version: String, content: String? = nil) throws {
            var metadata = CCSPackage.Metadata(name: "tool", version: version, summary: "A tool for testing repositories")
            metadata.provides = ["tooling"]
            _ = try CCSPackage.build(directory: try scratch.tree("tool-\(version)-\(UUID().uuidString.prefix(4))",
                                                                 ["usr/bin/tool": content ?? version]),
                                     output: "\(folder)/tool-\(version).ccs", metadata: metadata, secretKey: secret)
        }
        try publish("1.0")
        try publish("1.2")
        try Data("not a package".utf8).write(to: URL(fileURLWithPath: folder + "/README"))

        let root = try ConaryRoot(path: try scratch.root("root"), create: true)
        try root.trust(publicKey: CCSSigning.hex(try CCSPackage.readKey(scratch.base + "/key.pub", bytes: 32)))
        XCTAssertThrowsError(try root.addRepository(name: "local", url: "http://example.org/repo"))
        XCTAssertThrowsError(try root.addRepository(name: "local", url: "file://\(folder)/missing"))
        try root.addRepository(name: "local", url: "file://\(folder)")
        XCTAssertThrowsError(try root.addRepository(name: "local", url: "file://\(folder)"), "names are unique")

        XCTAssertEqual(try root.sync().map { $0.imported.map(\.version) }, [["1.0", "1.2"]])
        try root.install(["tool"], command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/bin/tool"), "1.2")

        try publish("1.10")
        let second = try XCTUnwrap(try root.sync(["local"]).first)
        XCTAssertEqual(second.imported.map(\.version), ["1.10"])
        XCTAssertEqual(second.unchanged, 2)
        XCTAssertEqual(try root.update([], command: "t").summary, "update tool 1.2 → 1.10")
        XCTAssertEqual(readFile(root.path + "/usr/bin/tool"), "1.10")

        let hits = try root.search("REPOSITORIES")
        XCTAssertEqual(hits.map(\.version), ["1.0", "1.2", "1.10"])
        XCTAssertEqual(hits.map(\.installed), [false, false, true])
        XCTAssertEqual(hits.first?.repositories, ["local"])
        XCTAssertEqual(try root.whatProvides("tooling").count, 3)

        // A repository must not change a published version in place.
        try publish("1.0", content: "tampered")
        XCTAssertThrowsError(try root.sync()) { error in
            XCTAssertTrue("\(error)".contains("differs from the tool=1.0 already in the store"), "\(error)")
        }
        try root.removeRepository("local")
        XCTAssertEqual(try root.repositories().count, 0)
        XCTAssertThrowsError(try root.sync(["local"]))
    }
}
