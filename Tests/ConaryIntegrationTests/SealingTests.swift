@testable import ConaryDatabase
@testable import ConaryOperations
import ConaryStore
import ConarySupport
import ConaryTestSupport
import GRDB
import XCTest

/// Sealing objects with fs-verity where the filesystem cannot seal: roots on tmpfs, which has
/// no fs-verity on any kernel. Sealing itself needs a kernel with fs-verity, which this
/// machine lacks; Tests/VM/run.sh proves it on Debian's kernel.
final class SealingTests: XCTestCase {
    private var scratch: Scratch!
    private var mounts: [TestMount] = []

    override func setUpWithError() throws {
        scratch = try Scratch()
    }

    override func tearDown() {
        for mount in mounts.reversed() { mount.unmount() }
        mounts = []
        scratch = nil
    }

    /// A root on a tmpfs of its own.
    private func tmpfsRoot() throws -> String {
        let path = scratch.base + "/tmpfs"
        mounts.append(try TestMount(at: path, megabytes: 64, in: scratch, tmpfs: true))
        return path
    }

    func testImportWhereTheFilesystemCannotSealRecordsNoDigest() throws {
        let root = try ConaryRoot(path: try tmpfsRoot(), create: true)
        _ = try root.commit(directory: try scratch.tree("app", ["usr/bin/app": "app", "usr/share/app/data": "data"]), name: "app", version: "1")
        XCTAssertEqual(try root.store.sealing, .unsupported(errno: ENOTTY), "tmpfs has no fs-verity")
        XCTAssertEqual(try root.database.read { try $0.verityDigests() }, [:])
        let objects = try root.store.storedObjectIDs()
        XCTAssertEqual(objects.count, 2)
        for id in objects {
            XCTAssertNil(try root.store.verityDigest(id))
            XCTAssertNil(try root.store.seal(id), "sealing an object is refused quietly, as the store cannot seal")
        }
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: root.store.path).contains { $0.hasPrefix(".incoming") })
    }

    /// The store asks the kernel once, not once per object: one measuring ioctl on the
    /// store folder, and no object is offered for sealing.
    func testTheFilesystemIsAskedOncePerImport() throws {
        let binary = try conaryBinary()
        let path = try tmpfsRoot()
        var files: [String: String] = [:]
        for index in 0..<40 { files["usr/share/many/\(index)"] = "file \(index)" }
        let tree = try scratch.tree("many", files)
        let trace = scratch.base + "/trace"
        let traced = try runTool("strace", ["-f", "-e", "trace=ioctl", "-o", trace, binary, "--root", path, "commit", tree, "--name", "many", "--version", "1"])
        guard traced.status == 0, let calls = readFile(trace) else { throw XCTSkip("SKIPPED: strace could not trace conary here.") }
        XCTAssertEqual(calls.components(separatedBy: "FS_IOC_MEASURE_VERITY").count - 1, 1, calls)
        XCTAssertEqual(calls.components(separatedBy: "FS_IOC_ENABLE_VERITY").count - 1, 0, calls)
        XCTAssertEqual(try ConaryRoot(path: path, create: false).store.storedObjectIDs().count, 40)
    }

    /// A database from before v5-verity gains the column; its objects have no digest until
    /// one is recorded.
    func testVerityDigestsAreRecordedInADatabaseFromBeforeSealing() throws {
        let path = scratch.base + "/conary.db"
        do {
            let old = try DatabaseQueue(path: path)
            try StateDatabase.migrator.migrate(old, upTo: "v4-boot")
            try old.write { db in
                for id in ["aa", "bb"] { try db.execute(sql: "INSERT INTO objects (id, sha256, size) VALUES (?, 'sum', 1)", arguments: [id]) }
            }
        }
        let database = try StateDatabase(path: path)
        XCTAssertEqual(try database.read { try $0.verityDigests() }, [:])
        try database.write { try $0.recordVerityDigest(id: "aa", digest: "d1") }
        XCTAssertEqual(try database.read { try $0.verityDigests() }, ["aa": "d1"])
    }
}
