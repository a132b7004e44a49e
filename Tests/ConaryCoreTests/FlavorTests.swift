@testable import ConaryModel
@testable import ConaryVersions
@testable import ConarySupport
@testable import ConaryStore
@testable import ConaryDatabase
@testable import ConaryFormats
@testable import ConaryResolve
@testable import ConaryVFS
@testable import ConaryBoot
@testable import ConaryDeploy
@testable import ConaryOperations
import XCTest

final class FlavorTests: XCTestCase {
    func testParsePrintAndNormalize() throws {
        let flavor = try Flavor("~readline, ssl,!pam,~!debug is: x86_64 x86(sse2,~mmx)")
        XCTAssertEqual(flavor.description, "~!debug,!pam,~readline,ssl is: x86(~mmx,sse2) x86_64")
        XCTAssertEqual(try Flavor(flavor.description), flavor, "the printed form parses back to the same flavor")
        XCTAssertEqual(try Flavor("ssl,ssl").description, "ssl")
        XCTAssertEqual(try Flavor("").description, "")
        XCTAssertEqual(try Flavor("is: x86_64").description, "is: x86_64")
        XCTAssertThrowsError(try Flavor("ssl,!ssl"))
        XCTAssertThrowsError(try Flavor("!!ssl"))
        XCTAssertThrowsError(try Flavor("ssl is: x86 is: arm"))
        XCTAssertThrowsError(try Flavor("s s l"))
    }

    func testScoringTable() throws {
        func score(_ trove: String, _ system: String) throws -> Int? { try Flavor(trove).score(on: Flavor(system)) }
        XCTAssertEqual(try score("ssl", "ssl"), 3)
        XCTAssertEqual(try score("ssl", "~ssl"), 2)
        XCTAssertEqual(try score("ssl", "~!ssl"), -2)
        XCTAssertNil(try score("ssl", "!ssl"), "a required flag the system disallows cannot run")
        XCTAssertNil(try score("ssl", ""), "a required flag the system does not have cannot run")
        XCTAssertNil(try score("!ssl", "ssl"))
        XCTAssertEqual(try score("!ssl", "!ssl"), 3)
        XCTAssertEqual(try score("!ssl", ""), 0)
        XCTAssertEqual(try score("~ssl", "~!ssl"), -1)
        XCTAssertEqual(try score("~ssl", "ssl"), 1)
        XCTAssertEqual(try score("is: x86_64", "is: x86_64 x86(sse2)"), 0)
        XCTAssertNil(try score("is: aarch64", "is: x86_64"))
        XCTAssertNil(try score("is: x86(sse3)", "is: x86(sse2)"))
        XCTAssertEqual(try score("", "ssl is: x86_64"), 0, "a flavorless trove runs anywhere")
    }

    func testForeignArchitecturesMapToInstructionSets() {
        XCTAssertEqual(Flavor.architecture("amd64").description, "is: x86_64")
        XCTAssertEqual(Flavor.architecture("all").description, "")
        XCTAssertEqual(Flavor.architecture("noarch").description, "")
        XCTAssertEqual(Flavor.architecture("arm64").description, "is: aarch64")
    }

    /// Two builds of one CCS package; `install 'tool[ssl]'` and the system flavor choose.
    func testInstallPicksTheBestFlavor() throws {
        try requireRoot()
        let scratch = try Scratch()
        _ = try CCSPackage.generateKeys(prefix: scratch.base + "/key")
        let secret = try CCSPackage.readKey(scratch.base + "/key.secret", bytes: 64)
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        try root.trust(publicKey: CCSSigning.hex(try CCSPackage.readKey(scratch.base + "/key.pub", bytes: 32)))
        var packages: [String] = []
        for (name, flavor) in [("ssl", "ssl is: x86_64"), ("nossl", "!ssl is: x86_64"), ("arm", "is: aarch64")] {
            var metadata = CCSPackage.Metadata(name: "tool", version: "1")
            metadata.flavor = try Flavor(flavor)
            let path = scratch.base + "/\(name).ccs"
            _ = try CCSPackage.build(directory: try scratch.tree(name, ["usr/bin/tool": name]), output: path, metadata: metadata, secretKey: secret)
            packages.append(path)
        }
        let imported = try root.importPackages(packages)
        XCTAssertEqual(imported.map(\.flavor), ["ssl is: x86_64", "!ssl is: x86_64", "is: aarch64"])
        guard try root.systemFlavor().architectures["x86_64"] != nil else { throw XCTSkip("SKIPPED: this test expects an x86_64 machine.") }

        try root.install(["tool"], command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/bin/tool"), "nossl", "a system without ssl can only run the !ssl build")
        try root.install(["tool[ssl]"], command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/bin/tool"), "ssl")
        // Version 2 in both flavors: the update keeps the flavor the user chose.
        var updates: [String] = []
        for (name, flavor) in [("ssl2", "ssl is: x86_64"), ("nossl2", "!ssl is: x86_64")] {
            var metadata = CCSPackage.Metadata(name: "tool", version: "2")
            metadata.flavor = try Flavor(flavor)
            updates.append(scratch.base + "/\(name).ccs")
            _ = try CCSPackage.build(directory: try scratch.tree(name, ["usr/bin/tool": name]), output: updates.last!, metadata: metadata, secretKey: secret)
        }
        _ = try root.importPackages(updates)
        try root.update([], command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/bin/tool"), "ssl2")
        XCTAssertThrowsError(try root.install([packages[2]], command: "t")) { error in
            XCTAssertTrue("\(error)".contains("cannot run"), "\(error)")
        }
        XCTAssertThrowsError(try root.install(["tool[debug]"], command: "t")) { error in
            XCTAssertTrue("\(error)".hasPrefix("No flavor of tool[debug] fits"), "\(error)")
        }
        try Data("~ssl is: x86_64".utf8).write(to: URL(fileURLWithPath: root.path + "/conary/system-flavor"))
        try root.remove(["tool"], command: "t")
        try root.install(["tool=1"], command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/bin/tool"), "ssl", "a system preferring ssl gets the ssl build")
    }
}
