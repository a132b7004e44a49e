@testable import ConaryDeploy
@testable import ConaryOperations
import ConaryTestSupport
import Foundation
import XCTest

/// The database and the trees on disk must tell one story. When they do not (a database
/// restored from an older copy, deleted, or a marker edited by hand), nothing on disk is
/// changed, no state number is used twice, and every change is refused with one sentence;
/// after a swap, a failure of the follow-up work never turns a live state into an error.
final class DiskAgreementTests: XCTestCase {
    private var scratch: Scratch!
    private var rootPath: String!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
        rootPath = try scratch.root()
    }

    private func open() throws -> ConaryRoot { try ConaryRoot(path: rootPath, create: true) }

    /// app 1, 2 and 3 in the store; `installed` of them installed in order (states 1…).
    private func makeRoot(installed: Int) throws {
        let root = try open()
        for version in 1...3 {
            _ = try root.commit(directory: try scratch.tree("app\(version)", ["usr/bin/app": "app \(version)"]), name: "app", version: "\(version)")
        }
        for version in 1...installed { try root.install(["app=\(version)"], command: "t") }
    }

    private var database: DatabaseFiles { DatabaseFiles(root: rootPath) }

    /// Every tree on disk, by where it is, with the state its marker names.
    private func trees() -> [String: String] {
        var result = ["usr": readFile(rootPath + "/usr/.conary-state") ?? "-"]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: rootPath + "/conary/states")) ?? [] {
            result["states/" + name] = readFile(rootPath + "/conary/states/\(name)/usr/.conary-state") ?? "-"
        }
        return result
    }

    private func assertRefused<T>(_ body: @autoclosure () throws -> T, mentioning text: String, line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            guard case let DeployError.databaseDisagrees(sentence) = error else { return XCTFail("threw \(error)", line: line) }
            XCTAssertTrue(sentence.contains(text), sentence, line: line)
            XCTAssertFalse(sentence.contains("\n"), "one line", line: line)
        }
    }

    func testADatabaseRestoredFromAnOlderCopyChangesNothingAndIsRefused() throws {
        try makeRoot(installed: 2)
        try database.copy(to: scratch.base + "/backup")  // knows states 1 and 2
        try open().install(["app=3"], command: "t")    // state 3 goes live (the root is released at once)
        try database.restore(from: scratch.base + "/backup")
        let before = trees()
        XCTAssertEqual(before, ["usr": "3\n", "states/1": "1\n", "states/2": "2\n"])

        let root = try open()
        assertRefused(try root.install(["app=1"], command: "t"), mentioning: "does not know state 3")
        assertRefused(try root.rollback(command: "t"), mentioning: "does not know state 3")
        assertRefused(try root.prune(keep: 0), mentioning: "does not know state 3")
        assertRefused(try root.collectGarbage(), mentioning: "does not know state 3")
        XCTAssertEqual(trees(), before, "no tree moved or deleted")
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "app 3")
        XCTAssertEqual(try root.states().map(\.state.id), [1, 2], "reading still works")
    }

    func testAMarkerEditedByHandIsRefused() throws {
        try makeRoot(installed: 3)
        // The live tree (state 3's) now claims to be state 2, whose archive also says 2.
        let marker = rootPath + "/usr/.conary-state"
        chmod(marker, 0o644)
        try "2\n".write(toFile: marker, atomically: false, encoding: .utf8)
        let before = trees()
        let root = try open()
        assertRefused(try root.install(["app=1"], command: "t"), mentioning: "Two trees on disk say they hold state 2")
        XCTAssertEqual(trees(), before)
        XCTAssertEqual(try root.state(3).state.status, .active, "recovery did not rewrite the database either")
    }

    func testAMissingDatabaseIsNotReplacedOnARootWithStates() throws {
        try makeRoot(installed: 2)
        database.delete()
        XCTAssertThrowsExactly(DeployError.databaseMissing(root: rootPath), try open())
        XCTAssertThrowsExactly(DeployError.databaseMissing(root: rootPath), try ConaryRoot(path: rootPath, create: false))
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary/conary.db"), "no fresh database was made")
        XCTAssertEqual(trees(), ["usr": "2\n", "states/1": "1\n"])
    }

    func testATruncatedDatabaseIsRefusedToo() throws {
        try makeRoot(installed: 2)
        database.delete()
        XCTAssertTrue(FileManager.default.createFile(atPath: rootPath + "/conary/conary.db", contents: Data()))
        let root = try open()
        assertRefused(try root.install(["app=1"], command: "t"), mentioning: "does not know state 1 and 2")
        XCTAssertEqual(trees(), ["usr": "2\n", "states/1": "1\n"])
    }

    func testNumbersOnDiskCountForTheNextState() throws {
        try makeRoot(installed: 2)
        let root = try open()
        XCTAssertEqual(try root.trees.highestStateOnDisk(), 2)
        // A tree waiting in staging (its archive failed) carries a number too.
        try FileManager.default.createDirectory(atPath: rootPath + "/conary/staging/usr", withIntermediateDirectories: true)
        try "5\n".write(toFile: rootPath + "/conary/staging/usr/.conary-state", atomically: false, encoding: .utf8)
        XCTAssertEqual(try root.trees.highestStateOnDisk(), 5)
    }

    func testAFailureAfterTheSwapLeavesTheNewStateLiveAndIsFinishedLater() throws {
        try makeRoot(installed: 2)
        // Archiving the tree of state 2 will fail: its holder is taken by a file.
        let holder = rootPath + "/conary/states/2"
        XCTAssertTrue(FileManager.default.createFile(atPath: holder, contents: Data("in the way".utf8)))
        var messages: [String] = []
        do {
            let root = try ConaryRoot(path: rootPath, create: true, log: { messages.append($0) })
            let result = try root.install(["app=3"], command: "t")
            XCTAssertEqual(result.state.id, 3)
            XCTAssertEqual(liveMarker(rootPath), 3, "the new state is live")
            XCTAssertEqual(try root.activeState()?.id, 3, "and recorded as active")
            XCTAssertTrue(messages.contains { $0.contains("State 3 is live, but archiving the previous tree failed") }, "\(messages)")
            XCTAssertEqual(try root.verify(), [])
        }

        // Until the obstacle goes, reading works, and a new state is refused rather than
        // built over the tree of state 2 waiting in staging.
        do {
            var next: [String] = []
            let reopened = try ConaryRoot(path: rootPath, create: false, log: { next.append($0) })
            XCTAssertTrue(next.contains { $0.contains("The tree of state 2 is still in staging") }, "\(next)")
            XCTAssertThrowsExactly(DeployError.stagingOccupied(state: 2), try reopened.install(["app=1"], command: "t"))
            XCTAssertEqual(readFile(rootPath + "/conary/staging/usr/.conary-state"), "2\n")
        }

        try FileManager.default.removeItem(atPath: holder)
        let recovered = try open()
        XCTAssertEqual(readFile(holder + "/usr/.conary-state"), "2\n", "recovery archived state 2's tree")
        XCTAssertEqual(try recovered.install(["app=1"], command: "t").state.id, 4)
        XCTAssertEqual(try recovered.rollback(command: "t").id, 3)
        XCTAssertEqual(try recovered.verify(), [])
    }

    func testAnArchivedStateWhoseTreeWasDeletedIsNoLongerOffered() throws {
        try makeRoot(installed: 3)
        try FileManager.default.removeItem(atPath: rootPath + "/conary/states/1")
        var messages: [String] = []
        let root = try ConaryRoot(path: rootPath, create: false, log: { messages.append($0) })
        XCTAssertEqual(try root.state(1).state.status, .pruned, "listed for the record, not as a state to go back to")
        XCTAssertTrue(messages.contains { $0.contains("The tree of state 1 is missing") }, "\(messages)")
        XCTAssertThrowsExactly(DeployError.stateUnavailable(1, reason: "it was pruned"), try root.activate(1, command: "t"))
        XCTAssertEqual(try root.state(2).state.status, .archived)
        XCTAssertEqual(try root.rollback(command: "t").id, 2)
    }
}
