@testable import ConaryModel
@testable import ConaryStore
@testable import ConaryDatabase
@testable import ConaryFormats
@testable import ConaryVFS
@testable import ConaryDeploy
@testable import ConaryOperations
import GRDB
import CLinux
import ConaryTestSupport
import XCTest

/// install, remove, rollback, activate, prune, gc and verify on temporary roots.
final class DeploymentTests: XCTestCase {
    var scratch: Scratch!
    var rootPath: String!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
        rootPath = try scratch.root()
    }

    private func open() throws -> ConaryRoot { try ConaryRoot(path: rootPath, create: true) }

    private func commit(_ root: ConaryRoot, _ name: String, _ version: String, _ entries: [String: String]) throws {
        let source = try scratch.tree("\(name)-\(version)", entries)
        _ = try root.commit(directory: source, name: name, version: version)
    }

    private func statusOf(_ root: ConaryRoot, _ id: Int64) throws -> StateStatus {
        try root.state(id).state.status
    }

    func testInstallDeploysHardlinkedReadOnlyTreeWithMarker() throws {
        let root = try open()
        try commit(root, "base", "1", ["bin/sh": "#!shell", "usr/share/doc/base/README": "docs", "usr/lib/empty": "",
                                       "usr/bin/link": "->../../bin/sh"])
        let result = try root.install(["base"], command: "test")
        XCTAssertEqual(result.state.id, 1)
        XCTAssertEqual(liveMarker(rootPath), 1)
        XCTAssertEqual(readFile(rootPath + "/usr/bin/sh"), "#!shell")
        XCTAssertEqual(readFile(rootPath + "/bin/sh"), "#!shell", "the merged-/usr link in the root reaches the file")
        let deployed = try XCTUnwrap(lstatOf(rootPath + "/usr/share/doc/base/README"))
        XCTAssertEqual(deployed.st_mode & 0o7777, 0o444, "write bits are stripped")
        XCTAssertEqual(deployed.st_mtim.tv_sec, 0, "objects carry the canonical mtime")
        XCTAssertGreaterThanOrEqual(deployed.st_nlink, 2, "non-empty files are hardlinks into the store")
        XCTAssertEqual(try XCTUnwrap(lstatOf(rootPath + "/usr/lib/empty")).st_nlink, 1, "empty files are copies")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: rootPath + "/usr/bin/link"), "../../bin/sh")
        XCTAssertEqual(try root.verify(), [])
    }

    func testUpdateRollbackAndActivateSwapWholeTrees() throws {
        let root = try open()
        try commit(root, "app", "1", ["usr/bin/app": "v1"])
        try commit(root, "app", "2", ["usr/bin/app": "v2", "usr/share/app/new": "n"])
        try commit(root, "tool", "1", ["usr/bin/tool": "t"])
        try root.install(["app=1"], command: "t")
        try root.install(["tool"], command: "t")
        let update = try root.install(["app=2"], command: "t")
        XCTAssertEqual(update.summary, "update app 1 → 2")
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "v2")

        let inode = try XCTUnwrap(lstatOf(rootPath + "/conary/states/2/usr/bin/tool")).st_ino
        XCTAssertEqual(try root.rollback(command: "t").id, 2)
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "v1")
        XCTAssertEqual(lstatOf(rootPath + "/usr/bin/tool")?.st_ino, inode, "rollback moves the archived tree, no re-blit")
        XCTAssertNil(lstatOf(rootPath + "/usr/share/app"))
        XCTAssertEqual(liveMarker(rootPath), 2)
        XCTAssertEqual(try statusOf(root, 3), .archived)
        XCTAssertEqual(try root.verify(), [])

        try root.activate(3, command: "t")
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "v2")
        XCTAssertEqual(try statusOf(root, 2), .archived)
        XCTAssertThrowsExactly(DeployError.alreadyActive(3), try root.activate(3, command: "t"))
        XCTAssertEqual(try root.verify(), [])

        let diff = try root.diff(1, 3)
        XCTAssertEqual(diff.addedTroves, ["tool=1"])
        XCTAssertEqual(diff.changedTroves.map(\.name), ["app"])
        XCTAssertEqual(diff.changedPaths, ["/usr/bin/app"])
        XCTAssertEqual(diff.addedPaths, ["/usr/bin/tool", "/usr/share", "/usr/share/app", "/usr/share/app/new"])
        let kinds = try root.changesets().map(\.kind)
        XCTAssertEqual(kinds, [.install, .install, .install, .rollback, .activate])
    }

    func testBareNameInstallsTheNewestVersion() throws {
        let root = try open()
        for version in ["1.9", "1.10", "1.10~rc1"] { try commit(root, "app", version, ["usr/bin/app": version]) }
        try root.install(["app"], command: "t")
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "1.10", "1.10 is newer than 1.9 and than its own ~rc1")
        try root.install(["app=1.9"], command: "t")
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "1.9")
    }

    func testUpdateMovesToTheNewestVersionsAndPinsHold() throws {
        let root = try open()
        for version in ["1", "2", "10"] { try commit(root, "app", version, ["usr/bin/app": version]) }
        try commit(root, "tool", "1", ["usr/bin/tool": "t"])
        try root.install(["app=1", "tool"], command: "t")
        try root.pinTrove("app", true)
        XCTAssertThrowsExactly(ConaryError.nothingToDo("Nothing to update: every trove is at its newest version."), try root.update([], command: "t"))
        XCTAssertThrowsExactly(ConaryError.pinned("app"), try root.install(["app=2"], command: "t"))
        XCTAssertThrowsExactly(ConaryError.pinned("app"), try root.remove(["app"], command: "t"))
        try root.pinTrove("app", false)

        let plan = try root.planUpdate([])
        XCTAssertEqual(plan.updated, ["app 1 → 10"])
        XCTAssertEqual(plan.incomingBytes, 2)
        XCTAssertEqual(try root.states().count, 1, "planning changes nothing")
        let result = try root.update([], command: "t")
        XCTAssertEqual(result.summary, "update app 1 → 10")
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "10")
        XCTAssertEqual(readFile(rootPath + "/usr/bin/tool"), "t")
        XCTAssertThrowsExactly(ConaryError.troveNotInstalled("nope"), try root.update(["nope"], command: "t"))
        XCTAssertThrowsExactly(ConaryError.troveNotInstalled("nope"), try root.pinTrove("nope", true))
    }

    func testRemoveDropsTheTroveAndRefusesUnknownNames() throws {
        let root = try open()
        try commit(root, "a", "1", ["usr/bin/a": "a"])
        try commit(root, "b", "1", ["usr/bin/b": "b"])
        try root.install(["a", "b"], command: "t")
        XCTAssertThrowsExactly(ConaryError.troveNotInstalled("c"), try root.remove(["c"], command: "t"))
        try root.remove(["a"], command: "t")
        XCTAssertNil(lstatOf(rootPath + "/usr/bin/a"))
        XCTAssertEqual(readFile(rootPath + "/usr/bin/b"), "b")
        XCTAssertEqual(try root.state(2).troves.map(\.spec), ["b=1"])
    }

    func testConflictRefusesTheChangesetWithoutTouchingAnything() throws {
        let root = try open()
        try commit(root, "a", "1", ["usr/bin/sh": "a"])
        try commit(root, "b", "1", ["bin/sh": "b"])
        try root.install(["a"], command: "t")
        XCTAssertThrowsExactly(TreeError.fileConflict(path: "/usr/bin/sh", first: "a=1", second: "b=1"), try root.install(["b"], command: "t"))
        XCTAssertEqual(try root.states().count, 1)
        XCTAssertEqual(try root.changesets().count, 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary/staging"))
        XCTAssertEqual(try root.verify(), [])
    }

    func testPruneKeepsActivePinnedAndNewest() throws {
        let root = try open()
        for version in 1...5 { try commit(root, "app", "\(version)", ["usr/bin/app": "v\(version)"]) }
        for version in 1...5 { try root.install(["app=\(version)"], command: "t") }
        try root.pin(1, true)
        XCTAssertEqual(try root.prune(keep: 1), [3, 2])
        XCTAssertEqual(try root.states().map(\.state.status), [.archived, .pruned, .pruned, .archived, .active])
        XCTAssertTrue(FileManager.default.fileExists(atPath: rootPath + "/conary/states/1/usr/bin/app"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary/states/2"))
        XCTAssertThrowsExactly(DeployError.stateUnavailable(2, reason: "it was pruned"), try root.activate(2, command: "t"))
        try root.activate(1, command: "t")
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "v1")
    }

    func testGarbageCollectionDropsUnusedTrovesAndObjects() throws {
        let root = try open()
        try commit(root, "app", "1", ["usr/bin/app": "old", "usr/share/common": "same"])
        try commit(root, "app", "2", ["usr/bin/app": "new", "usr/share/common": "same"])
        try root.install(["app=1"], command: "t")
        try root.install(["app=2"], command: "t")
        XCTAssertEqual(try root.collectGarbage().removedObjects, 0, "state 1 still holds app=1")
        _ = try root.prune(keep: 0)
        // app=1's record (the object state manifests name it by) goes with it.
        let records = try root.database.read { try $0.recordObjects(of: try $0.allTroves()) }.values
        XCTAssertEqual(records.count, 2)
        let recordBytes = records.map { Int64(root.store.identity(of: $0)!.st_size) }
        let report = try root.collectGarbage()
        XCTAssertEqual(report.droppedTroves, ["app=1"])
        XCTAssertEqual(report.removedObjects, 2)
        XCTAssertTrue(recordBytes.map { 3 + $0 }.contains(report.freedBytes), "\(report.freedBytes)")
        XCTAssertEqual(try root.store.storedObjectIDs().count, 3, "app=2's two files and its record")
        XCTAssertEqual(try root.fsck(depth: .full, repair: false).problemCount, 0)
        XCTAssertEqual(try root.verify(), [])
    }

    func testVerifyReportsModifiedMissingAndUnexpectedFiles() throws {
        let root = try open()
        try commit(root, "a", "1", ["usr/bin/a": "a", "usr/bin/b": "b", "usr/bin/c": "c", "usr/share/d": "d"])
        try root.install(["a"], command: "t")
        // An in-place edit changes the shared inode: verify must catch it by content.
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: rootPath + "/usr/bin/a"))
        unlink(rootPath + "/usr/bin/b")
        chmod(rootPath + "/usr/bin/c", 0o4755)
        try Data("x".utf8).write(to: URL(fileURLWithPath: rootPath + "/usr/share/extra"))
        let problems = try root.verify()
        XCTAssertEqual(problems.map(\.kind), [.modified, .missing, .modified, .unexpected])
        XCTAssertEqual(problems.map(\.path), ["/usr/bin/a", "/usr/bin/b", "/usr/bin/c", "/usr/share/extra"])
    }

    func testOwnersSetuidAndExtendedAttributesSurviveAndAreIdentity() throws {
        let root = try open()
        let source = try scratch.tree("meta", ["usr/bin/suid": "s", "usr/bin/plain": "s", "usr/bin/tagged": "s"])
        chown(source + "/usr/bin/suid", 0, 1000)
        chmod(source + "/usr/bin/suid", 0o4755)
        let tagged = Glibc.open(source + "/usr/bin/tagged", O_RDONLY)
        defer { close(tagged) }
        guard conary_fsetxattr(tagged, "user.conary-test", "v1", 2) == 0 else {
            throw XCTSkip("SKIPPED: the filesystem under \(source) refuses user xattrs (errno \(errno)).")
        }
        let summary = try root.commit(directory: source, name: "meta", version: "1")
        XCTAssertEqual(summary.newObjects, 3, "same content with other metadata makes other objects")
        try root.install(["meta"], command: "t")
        let suid = try XCTUnwrap(lstatOf(rootPath + "/usr/bin/suid"))
        XCTAssertEqual(suid.st_mode & 0o7777, 0o4555)
        XCTAssertEqual(suid.st_gid, 1000)
        var value = [UInt8](repeating: 0, count: 8)
        XCTAssertEqual(conary_lgetxattr(rootPath + "/usr/bin/tagged", "user.conary-test", &value, 8), 2)
        XCTAssertEqual(Array(value.prefix(2)), Array("v1".utf8))
        XCTAssertEqual(try root.verify(), [])
    }

    func testObjectAtTheLinkLimitIsCopied() throws {
        let root = try open()
        try commit(root, "a", "1", ["usr/bin/a": "busy"])
        let objectID = try XCTUnwrap(root.database.queue.read { try String.fetchOne($0, sql: "SELECT objectId FROM files WHERE objectId IS NOT NULL") })
        let object = root.store.path + "/" + ObjectStore.relativePath(objectID)
        let farm = try scratch.root("links")
        var made = 1
        while link(object, "\(farm)/\(made)") == 0 { made += 1 }
        guard errno == EMLINK else { throw XCTSkip("SKIPPED: could not fill the inode's links (errno \(errno)).") }
        let result = try root.install(["a"], command: "t")
        XCTAssertEqual(result.copies, 1)
        XCTAssertEqual(result.links, 0)
        XCTAssertEqual(readFile(rootPath + "/usr/bin/a"), "busy")
        XCTAssertEqual(try root.verify(), [])
    }

    func testRefusesUnmanagedUsrAndNonMergedRoots() throws {
        let root = try open()
        try commit(root, "a", "1", ["usr/bin/a": "a"])
        try FileManager.default.createDirectory(atPath: rootPath + "/usr/local", withIntermediateDirectories: true)
        XCTAssertThrowsExactly(DeployError.unmanagedUsr(rootPath + "/usr"), try root.install(["a"], command: "t"))
        try FileManager.default.removeItem(atPath: rootPath + "/usr")
        try FileManager.default.createDirectory(atPath: rootPath + "/bin", withIntermediateDirectories: true)
        XCTAssertThrowsExactly(DeployError.notMergedUsr(path: rootPath + "/bin"), try root.install(["a"], command: "t"))
        XCTAssertEqual(try root.states().count, 0)
    }

    func testSeparatelyMountedUsrIsRefusedClearly() throws {
        let root = try open()
        try commit(root, "a", "1", ["usr/bin/a": "a"])
        try FileManager.default.createDirectory(atPath: rootPath + "/usr", withIntermediateDirectories: true)
        let mount = Process()
        mount.executableURL = URL(fileURLWithPath: "/bin/mount")
        mount.arguments = ["-t", "tmpfs", "conary-test", rootPath + "/usr"]
        try mount.run()
        mount.waitUntilExit()
        guard mount.terminationStatus == 0 else { throw XCTSkip("SKIPPED: cannot mount a tmpfs here to stand in for a separate /usr.") }
        defer { umount(rootPath + "/usr") }
        XCTAssertThrowsExactly(DeployError.crossDevice(rootPath + "/usr"), try root.install(["a"], command: "t"))
        XCTAssertEqual(try root.states().count, 0)
    }

    func testCommitRefusesDeviceNodesAndImportsNothing() throws {
        let root = try open()
        let source = try scratch.tree("dev", ["usr/bin/a": "a"])
        guard mknod(source + "/usr/bin/null", S_IFCHR | 0o666, (1 << 8) | 3) == 0 else {
            throw XCTSkip("SKIPPED: mknod needs root (errno \(errno)).")
        }
        XCTAssertThrowsError(try root.commit(directory: source, name: "dev", version: "1")) { error in
            XCTAssertTrue("\(error)".contains("device node"), "\(error)")
        }
        XCTAssertEqual(try root.troves().count, 0)
        XCTAssertEqual(try root.store.storedObjectIDs().count, 0)
        XCTAssertThrowsExactly(ConaryError.troveNotFound("dev"), try root.install(["dev"], command: "t"))
    }

    func testDuplicateCommitIsRefused() throws {
        let root = try open()
        try commit(root, "a", "1", ["usr/bin/a": "a"])
        XCTAssertThrowsExactly(PackageError.troveExists(name: "a", version: "1"), try commit(root, "a", "1", ["usr/bin/a": "b"]))
    }

    func testSecondProcessWaitsForTheRootLock() throws {
        _ = try open()
        let holder = Glibc.open(rootPath + "/conary", O_RDONLY | O_DIRECTORY)
        XCTAssertEqual(flock(holder, LOCK_EX), 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { close(holder) }
        var waited = false
        _ = try ConaryRoot(path: rootPath, create: false) { _ in waited = true }
        XCTAssertTrue(waited, "the lock was held, so opening had to wait and say so")
    }
}
