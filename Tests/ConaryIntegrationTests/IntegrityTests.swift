@testable import ConaryDeploy
@testable import ConaryOperations
import ConaryStore
import ConaryTestSupport
import Foundation
import XCTest

/// Damage outside the live tree is found and repaired: `conary fsck` checks every object and
/// every kept tree (fast: structure and sizes; full: content), `--repair` restores what it can
/// from good copies and the package files objects came from, `state activate`/`rollback`
/// refuse a damaged tree, and every state carries a manifest that can rebuild the database.
final class IntegrityTests: XCTestCase {
    private var scratch: Scratch!
    private var rootPath: String!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
        rootPath = try scratch.root()
    }

    private func open() throws -> ConaryRoot { try ConaryRoot(path: rootPath, create: true) }

    /// app 1, 2 and 3 committed as trees; `installed` of them installed in order (states 1…).
    private func makeRoot(installed: Int) throws {
        let root = try open()
        for version in 1...3 {
            _ = try root.commit(directory: try scratch.tree("app\(version)", ["usr/bin/app": "app \(version)", "usr/share/app/data": "shared",
                                                                              "usr/share/app/v\(version)/": ""]),
                                name: "app", version: "\(version)")
        }
        for version in 1...installed { try root.install(["app=\(version)"], command: "t") }
    }

    /// Writes over the first bytes of `path` in place (through its hardlink, so the object
    /// changes with it), keeping its size; `keepMTime` puts the canonical mtime back, as bit
    /// rot would leave it.
    private func overwrite(_ path: String, with text: String, keepMTime: Bool) throws {
        let fd = Glibc.open(path, O_WRONLY)
        XCTAssertGreaterThanOrEqual(fd, 0, path)
        XCTAssertEqual(write(fd, text, text.utf8.count), text.utf8.count)
        if keepMTime {
            var times = [timespec(tv_sec: 0, tv_nsec: 0), timespec(tv_sec: 0, tv_nsec: 0)]
            XCTAssertEqual(futimens(fd, &times), 0)
        }
        close(fd)
    }

    private func problems(_ report: ConaryRoot.FsckReport) -> [String] {
        report.objectFaults.map { "object: \($0.detail)" }
            + report.trees.flatMap { tree in tree.problems.map { "state \(tree.state): \($0)" } + (tree.manifestProblem.map { ["state \(tree.state): \($0)"] } ?? []) }
    }

    func testACleanRootPassesBothChecks() throws {
        try makeRoot(installed: 3)
        let root = try open()
        for depth in [TreeCheck.Depth.fast, .full] {
            let report = try root.fsck(depth: depth, repair: false)
            XCTAssertEqual(problems(report), [])
            XCTAssertEqual(report.trees.map(\.state).sorted(), [1, 2, 3], "every kept tree is checked")
            XCTAssertGreaterThanOrEqual(report.objectsChecked, 4)
        }
    }

    func testEveryStateCarriesAManifestThatDescribesIt() throws {
        try makeRoot(installed: 2)
        let root = try open()
        let live = try XCTUnwrap(try root.trees.manifest(at: .live))
        XCTAssertEqual(live.state.id, 2)
        XCTAssertEqual(live.state.treeHash, try root.state(2).state.treeHash)
        XCTAssertEqual(live.troves.map(\.trove), ["app=2"])
        // Each trove is named by its record, an object of the store written once per trove.
        let record = try XCTUnwrap(try StateManifests.storedRecord(live.troves[0].record, in: root.store)).record
        XCTAssertEqual(record.trove.spec, "app=2")
        XCTAssertEqual(Set(record.files.map(\.path)), ["/usr", "/usr/bin", "/usr/bin/app", "/usr/share", "/usr/share/app",
                                                       "/usr/share/app/data", "/usr/share/app/v2"])
        let archived = try XCTUnwrap(try root.trees.manifest(at: .archived(folder: 1)))
        XCTAssertEqual(archived.troves.map(\.trove), ["app=1"])
        XCTAssertNotEqual(archived.troves[0].record, live.troves[0].record)
        XCTAssertEqual(try root.trees.manifest(at: .archived(folder: 1))?.state.id, 1, "the manifest moved with its tree")
        XCTAssertEqual(try root.verify(), [], "the manifest is one of Conary's files in /usr, not an unexpected one")
    }

    func testBitRotInAnObjectIsSeenByTheFullCheckAndRepairedFromAGoodTreeCopy() throws {
        try makeRoot(installed: 2)
        // State 1's tree holds its own copy of app 1 (linking failed, say): the store's object
        // and every link to it rot, the copy does not.
        let archived = rootPath + "/conary/states/1/usr/bin/app"
        let copy = rootPath + "/copy"
        XCTAssertEqual(try runTool("cp", ["-a", archived, copy]).status, 0)
        XCTAssertEqual(rename(copy, archived), 0)
        let object = try open().store.path + "/" + ObjectStore.relativePath(try objectID(of: "app=1", path: "/usr/bin/app"))
        try overwrite(object, with: "APP", keepMTime: true)

        let root = try open()
        XCTAssertEqual(problems(try root.fsck(depth: .fast, repair: false)), [], "structure and sizes did not change")
        let full = try root.fsck(depth: .full, repair: false)
        XCTAssertEqual(problems(full), ["object: content or metadata no longer match its id"])

        let repaired = try root.fsck(depth: .full, repair: true)
        XCTAssertEqual(problems(repaired), [], "\(repaired.repairs)")
        XCTAssertTrue(repaired.repairs.contains { $0.contains("from state 1's /usr/bin/app") }, "\(repaired.repairs)")
        XCTAssertEqual(readFile(object), "app 1")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootPath + "/conary/quarantine").count, 1)
    }

    private func objectID(of spec: String, path: String) throws -> String {
        let root = try ConaryRoot(path: rootPath, create: false)
        let trove = try root.troves().first { $0.spec == spec }!
        let files = try root.database.read { try $0.files(of: [trove]) }
        return try XCTUnwrap(files.first { $0.entry.path == path }?.entry.objectID)
    }

    func testAWriteThroughTheLiveTreeIsSeenByTheFastCheckAndRepairedFromASyncedFolder() throws {
        try checkWriteThroughRepair(indexed: false)
    }

    func testAWriteThroughTheLiveTreeIsRepairedFromAnIndexedRepositorysDownload() throws {
        try checkWriteThroughRepair(indexed: true)
    }

    /// hello installed from a folder of package files (imported whole at sync) or from a
    /// repository with a Packages index (downloaded at install); root then writes through
    /// /usr/bin/hello, so every tree sharing the object holds the damage and only the
    /// package file can restore it.
    private func checkWriteThroughRepair(indexed: Bool) throws {
        let debs = try fetchDebs(["libc6", "libgcc-s1", "gcc-12-base", "hello"])
        let folder = scratch.base + "/repo"
        if indexed {
            _ = try publishRepository(debs, in: folder)
        } else {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for deb in debs { try FileManager.default.linkItem(atPath: deb, toPath: folder + "/" + (deb as NSString).lastPathComponent) }
        }
        do {
            let root = try open()
            try root.addRepository(name: "local", url: "file://" + folder)
            _ = try root.sync()
            try root.install(["hello"], command: "t")
        }
        let hello = rootPath + "/usr/bin/hello"
        let original = try XCTUnwrap(FileManager.default.contents(atPath: hello))
        try overwrite(hello, with: "#!/bin/sh\necho owned\n", keepMTime: false)

        let root = try open()
        let fast = try root.fsck(depth: .fast, repair: false)
        XCTAssertEqual(problems(fast), ["object: written to since it was stored (its mtime is no longer 0)",
                                        "state 1: modified: /usr/bin/hello (written to since it was deployed; its mtime is no longer 0)"])
        let repaired = try root.fsck(depth: .full, repair: true)
        XCTAssertEqual(problems(repaired), [], "\(repaired.repairs)")
        let source = indexed ? "from repository local" : "from " + folder
        XCTAssertTrue(repaired.repairs.contains { $0.hasPrefix("Re-imported hello=") && $0.contains(source) }, "\(repaired.repairs)")
        XCTAssertEqual(FileManager.default.contents(atPath: hello), original, "the live file is the package's again")
        XCTAssertEqual(try root.verify(), [])
    }

    func testImportingThePackageAgainReplacesADamagedObject() throws {
        let debs = try fetchDebs(["libc6", "libgcc-s1", "gcc-12-base", "hello"])
        do {
            let root = try open()
            _ = try root.importPackages(debs)
            try root.install(["hello"], command: "t")
        }
        let hello = rootPath + "/usr/bin/hello"
        let original = try XCTUnwrap(FileManager.default.contents(atPath: hello))
        try overwrite(hello, with: "#!/bin/sh\necho owned\n", keepMTime: false)
        let object = rootPath + "/conary/objects/" + ObjectStore.relativePath(try objectID(of: "hello:runtime=2.10-3", path: "/usr/bin/hello"))
        let root = try open()

        _ = try root.importPackages([debs[3]])
        XCTAssertEqual(FileManager.default.contents(atPath: object), original, "the store holds the package's content again")
        XCTAssertEqual(lstatOf(object)?.st_mtim.tv_sec, 0)
        // The live tree still links the damaged inode: the fast check sees it, and repair re-links it.
        XCTAssertEqual(problems(try root.fsck(depth: .fast, repair: false)),
                       ["state 1: modified: /usr/bin/hello (written to since it was deployed; its mtime is no longer 0)"])
        XCTAssertEqual(problems(try root.fsck(depth: .full, repair: true)), [])
        XCTAssertEqual(FileManager.default.contents(atPath: hello), original)
        XCTAssertEqual(try root.verify(), [])
    }

    func testAnObjectWithNoGoodCopyAndNoPackageIsReportedNotInvented() throws {
        try makeRoot(installed: 2)
        let live = rootPath + "/usr/bin/app"
        try overwrite(live, with: "APP", keepMTime: false)
        let root = try open()
        let report = try root.fsck(depth: .fast, repair: true)
        XCTAssertTrue(report.repairs.contains { $0.hasPrefix("Could not restore object") && $0.contains("app=2 /usr/bin/app") }, "\(report.repairs)")
        XCTAssertEqual(problems(report).first, "object: missing from the store", "still reported after the repair")
        // The package comes back: the object is restored by importing it again.
        _ = try root.commit(directory: try scratch.tree("app2", ["usr/bin/app": "app 2"]), name: "app-again", version: "2")
        XCTAssertEqual(problems(try root.fsck(depth: .full, repair: true)), [])
        XCTAssertEqual(readFile(live), "app 2")
    }

    func testActivateAndRollbackRefuseATreeThatLostFilesUntilFsckRepairsIt() throws {
        try makeRoot(installed: 2)
        try FileManager.default.removeItem(atPath: rootPath + "/conary/states/1/usr/bin/app")
        try "stray".write(toFile: rootPath + "/conary/states/1/usr/share/app/stray", atomically: false, encoding: .utf8)
        XCTAssertEqual(chmod(rootPath + "/conary/states/1/usr/share/app", 0o700), 0)
        let root = try open()
        for attempt in [{ _ = try root.rollback(command: "t") }, { _ = try root.activate(1, command: "t") }, { try root.activateAtNextBoot(1) }] {
            XCTAssertThrowsError(try attempt()) { error in
                guard case let DeployError.damagedTree(state, first, count) = error else { return XCTFail("threw \(error)") }
                XCTAssertEqual(state, 1)
                XCTAssertEqual(first, "missing: /usr/bin/app")
                XCTAssertEqual(count, 3)
            }
        }
        XCTAssertEqual(liveMarker(rootPath), 2, "nothing went live")

        let report = try root.fsck(depth: .fast, repair: true)
        XCTAssertEqual(problems(report), [])
        XCTAssertTrue(report.repairs.contains("Repaired 3 paths of state 1's tree (conary/states/1/usr)."), "\(report.repairs)")
        XCTAssertEqual(try root.rollback(command: "t").id, 1)
        XCTAssertEqual(try root.verify(), [])
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "app 1")
    }

    func testRepairPutsBackWhatChangedType() throws {
        try makeRoot(installed: 2)
        let archived = rootPath + "/conary/states/1/usr"
        // A directory became a file, a file became a directory, a file became a symlink.
        try FileManager.default.removeItem(atPath: archived + "/share/app")
        try "not a directory".write(toFile: archived + "/share/app", atomically: false, encoding: .utf8)
        try FileManager.default.removeItem(atPath: archived + "/bin/app")
        try FileManager.default.createDirectory(atPath: archived + "/bin/app/inside", withIntermediateDirectories: true)
        let root = try open()
        XCTAssertEqual(problems(try root.fsck(depth: .fast, repair: false)),
                       ["state 1: modified: /usr/bin/app (file type changed)", "state 1: modified: /usr/share/app (file type changed)"])
        XCTAssertEqual(problems(try root.fsck(depth: .full, repair: true)), [])
        XCTAssertEqual(readFile(archived + "/bin/app"), "app 1")
        XCTAssertEqual(readFile(archived + "/share/app/data"), "shared")
        XCTAssertEqual(try root.rollback(command: "t").id, 1)
    }

    func testRepairRestoresMissingDirectoriesAndManifests() throws {
        try makeRoot(installed: 2)
        try FileManager.default.removeItem(atPath: rootPath + "/conary/states/1/usr/share")
        try FileManager.default.removeItem(atPath: rootPath + "/conary/states/1/usr/.conary-manifest")
        let root = try open()
        let before = try root.fsck(depth: .fast, repair: false)
        XCTAssertEqual(problems(before), ["state 1: missing: /usr/share", "state 1: the tree has no manifest"],
                       "what is below a missing directory is not listed one by one")
        XCTAssertEqual(problems(try root.fsck(depth: .full, repair: true)), [])
        XCTAssertEqual(try root.trees.manifest(at: .archived(folder: 1))?.state.id, 1)
        XCTAssertEqual(readFile(rootPath + "/conary/states/1/usr/share/app/data"), "shared")
    }

    func testALostTroveRecordIsStoredAgainAndTheTreesStillRebuildTheDatabase() throws {
        try makeRoot(installed: 2)
        do {
            let root = try open()  // released before the rebuild locks the root
            _ = try root.store.remove(try XCTUnwrap(try root.trees.manifest(at: .live)).troves[0].record)
        }
        XCTAssertThrowsError(try ConaryRoot.rebuildDatabase(path: rootPath), "a manifest naming a lost record cannot be restored") { error in
            XCTAssertTrue("\(error)".contains("the store lacks a good record of app=2"), "\(error)")
        }
        do {
            let root = try open()
            XCTAssertEqual(problems(try root.fsck(depth: .fast, repair: false)), ["object: missing from the store"])
            let repaired = try root.fsck(depth: .fast, repair: true)
            XCTAssertEqual(problems(repaired), [], "\(repaired.repairs)")
            XCTAssertTrue(repaired.repairs.contains("Wrote the manifest of state 2 (usr) from the database."), "\(repaired.repairs)")
            XCTAssertNotNil(try StateManifests.storedRecord(try XCTUnwrap(try root.trees.manifest(at: .live)).troves[0].record, in: root.store))
        }
        database.delete()
        XCTAssertEqual(try ConaryRoot.rebuildDatabase(path: rootPath).states, [1, 2])
    }

    // MARK: Rebuilding the database

    private var database: DatabaseFiles { DatabaseFiles(root: rootPath) }

    private struct Snapshot: Equatable {
        let states: [String]
        let members: [[String]]
    }

    private func snapshot(_ root: ConaryRoot) throws -> Snapshot {
        let states = try root.states()
        return Snapshot(states: states.map { "\($0.state.id) \($0.state.status) \($0.state.parent ?? 0) \($0.state.treeHash) \($0.state.summary)" },
                        members: states.map { $0.troves.map(\.spec).sorted() })
    }

    func testALostDatabaseIsRebuiltFromTheTreesAndTheRootWorksOn() throws {
        try makeRoot(installed: 3)
        try open().rollback(command: "t")  // state 2 live, 1 and 3 archived
        let before = try snapshot(try open())
        database.delete()
        XCTAssertThrowsExactly(DeployError.databaseMissing(root: rootPath), try open())

        let report = try ConaryRoot.rebuildDatabase(path: rootPath)
        XCTAssertEqual(report.states, [1, 2, 3])
        XCTAssertEqual(report.active, 2)
        XCTAssertNil(report.previousDatabase)
        let root = try open()
        XCTAssertEqual(try snapshot(root), before, "the same states, statuses, parents, tree hashes and troves")
        XCTAssertEqual(try root.verify(), [])
        XCTAssertEqual(problems(try root.fsck(depth: .full, repair: false)), [])
        XCTAssertEqual(try root.install(["app=1"], command: "t").state.id, 4, "numbers go on after the highest")
        XCTAssertEqual(try root.activate(3, command: "t").id, 3)
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "app 3")
    }

    func testADatabaseFromAnOlderCopyIsReplacedAndKeptAside() throws {
        try makeRoot(installed: 1)
        try open().addRepository(name: "here", url: "file://" + scratch.base)
        try open().pin(1, true)
        try database.copy(to: scratch.base + "/backup")
        try open().install(["app=2"], command: "t")
        try database.restore(from: scratch.base + "/backup")
        XCTAssertThrowsError(try open().install(["app=3"], command: "t"), "the old copy disagrees with the disk")

        let report = try ConaryRoot.rebuildDatabase(path: rootPath)
        XCTAssertEqual(report.states, [1, 2])
        XCTAssertEqual(report.keptRepositories, ["here"])
        let aside = try XCTUnwrap(report.previousDatabase)
        XCTAssertTrue(FileManager.default.fileExists(atPath: aside), "the replaced database is kept")
        let root = try open()
        XCTAssertEqual(try root.state(1).state.pinned, true, "pins come from the old database")
        XCTAssertEqual(try root.repositories().map(\.name), ["here"])
        // A trove no state held is not in the trees: it is imported again.
        XCTAssertThrowsExactly(ConaryError.troveNotFound("app=3"), try root.install(["app=3"], command: "t"))
        _ = try root.commit(directory: try scratch.tree("app3", ["usr/bin/app": "app 3"]), name: "app", version: "3")
        XCTAssertEqual(try root.install(["app=3"], command: "t").state.id, 3)
    }

    func testRebuildRefusesTreesWithoutAManifestInOneSentence() throws {
        try makeRoot(installed: 2)
        try FileManager.default.removeItem(atPath: rootPath + "/conary/states/1/usr/.conary-manifest")
        try FileManager.default.removeItem(atPath: rootPath + "/conary/conary.db")
        XCTAssertThrowsError(try ConaryRoot.rebuildDatabase(path: rootPath)) { error in
            let sentence = "\(error)"
            XCTAssertTrue(sentence.contains("conary/states/1/usr (state 1) has no manifest"), sentence)
            XCTAssertFalse(sentence.contains("\n"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary/conary.db"), "nothing was made")
    }

    func testTheCommandLineReportsAndExitsNonZeroWhileProblemsRemain() throws {
        try makeRoot(installed: 2)
        let conary = try conaryBinary()
        var result = try runConary(conary, ["fsck", "--root", rootPath])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.contains("no problems"), result.out)
        try FileManager.default.removeItem(atPath: rootPath + "/conary/states/1/usr/bin/app")
        result = try runConary(conary, ["fsck", "--full", "--root", rootPath])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.out.contains("state 1 (conary/states/1/usr): missing: /usr/bin/app"), result.out)
        XCTAssertEqual(result.err, "conary: 1 problem found in 6 objects and 2 state trees (full: content); conary fsck --repair restores what it can.\n")
        result = try runConary(conary, ["fsck", "--repair", "--root", rootPath])
        XCTAssertEqual(result.status, 0, result.err)
        database.delete()
        result = try runConary(conary, ["db", "rebuild", "--root", rootPath])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.contains("Rebuilt the database from 2 state trees (states 1, 2; state 2 is active)."), result.out)
        XCTAssertEqual(try runConary(conary, ["verify", "--root", rootPath]).status, 0)
    }
}
