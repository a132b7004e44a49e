@testable import ConaryFormats
@testable import ConaryOperations
import XCTest

/// Native Conary versions at the door: commit and CCS refuse malformed ones, and install and
/// update choose among branches as the ordering says.
final class NativeVersionImportTests: XCTestCase {
    func testCommitAndCCSRefuseMalformedNativeVersions() throws {
        try requireRoot()
        let scratch = try Scratch()
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        let tree = try scratch.tree("t", ["usr/bin/t": "t"])
        XCTAssertThrowsError(try root.commit(directory: tree, name: "t", version: "/nolabel/1.0-1-1"))
        XCTAssertNoThrow(try root.commit(directory: tree, name: "t", version: "/local@me:dev/1.0-1-1"))
        _ = try root.commit(directory: tree, name: "t", version: "/local@me:dev/1.0-1-2")
        _ = try root.commit(directory: tree, name: "t", version: "/local@me:dev/0.9-2-1")
        // Without commit times, upstream then counts decide: 1.0-1-2 is the newest.
        XCTAssertEqual(try root.trove(matching: "t").version, "/local@me:dev/1.0-1-2")
        // update moves along the installed branch, not to another branch that sorts later.
        _ = try root.commit(directory: tree, name: "t", version: "/other@me:dev/9.0-1-1")
        try root.install(["t=/local@me:dev/0.9-2-1"], command: "t")
        try root.update([], command: "t")
        XCTAssertEqual(try root.installedTrove("t").version, "/local@me:dev/1.0-1-2")
        XCTAssertThrowsError(try root.update([], command: "t"), "nothing newer on this branch")
        XCTAssertThrowsError(try CCSPackage.build(directory: tree, output: scratch.base + "/t.ccs",
                                                  metadata: .init(name: "t", version: "/bad/1-1-1"), secretKey: nil))
    }
}
