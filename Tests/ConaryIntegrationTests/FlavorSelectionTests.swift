@testable import ConaryVersions
@testable import ConaryFormats
@testable import ConaryOperations
import XCTest

final class FlavorSelectionTests: XCTestCase {
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
