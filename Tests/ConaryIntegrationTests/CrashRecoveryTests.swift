@testable import ConaryDatabase
@testable import ConaryOperations
@testable import ConarySupport
import Foundation
import ConaryTestSupport
import XCTest

/// Kills `conary` with SIGKILL at every fault-injection step, then checks that the root
/// is on the old or the new state, that the database agrees, and that work goes on.
final class CrashRecoveryTests: XCTestCase {
    private struct Scenario {
        let arguments: [String]
        /// The live state after recovery: the old one for crashes before the swap.
        let expectedLive: Int64
        var prepare: (ConaryRoot) throws -> Void = { _ in }
    }

    private var scratch: Scratch!
    private var rootPath: String!

    /// Every root starts with states 1 (base), 2 (+app 1) and 3 (app 2, active); extra=1 is in the store.
    private func makeRoot() throws -> ConaryRoot {
        rootPath = try scratch.root(UUID().uuidString)
        let root = try ConaryRoot(path: rootPath, create: true)
        let trees: [(String, String, [String: String])] = [
            ("base", "1", ["bin/sh": "shell", "usr/lib/libc.so": "libc", "usr/share/empty": "", "usr/bin/ls": "->../../bin/sh"]),
            ("app", "1", ["usr/bin/app": "app one", "usr/share/app/data": "data"]),
            ("app", "2", ["usr/bin/app": "app two", "usr/share/app/data": "data"]),
            ("extra", "1", ["usr/share/extra/a": "a", "usr/share/extra/b": "b"]),
        ]
        for (name, version, entries) in trees {
            _ = try root.commit(directory: try scratch.tree(UUID().uuidString, entries), name: name, version: version)
        }
        for spec in ["base", "app=1", "app=2"] { try root.install([spec], command: "setup") }
        return root
    }

    private lazy var scenarios: [String: Scenario] = {
        let newTree = { [unowned self] in try! scratch.tree("new", ["usr/share/new/file": "new", "usr/bin/new": "n"]) }
        let importNew = Scenario(arguments: ["commit", newTree(), "--name", "new", "--version", "1"], expectedLive: 3)
        let install = { (live: Int64) in Scenario(arguments: ["install", "extra"], expectedLive: live) }
        let rollback = { (live: Int64) in Scenario(arguments: ["rollback"], expectedLive: live) }
        // A kernel without an initramfs on a root whose boot entries Conary keeps: the state's
        // dracut (a stand-in) runs in the sandbox, and the image is recorded before the swap.
        // (base goes first: its /bin/sh would clash with the kernel tree's busybox.)
        let kernel = Scenario(arguments: ["install", "kernel"], expectedLive: 4, prepare: { [unowned self] root in
            try root.remove(["base"], command: "setup")
            try FileManager.default.createDirectory(atPath: rootPath + "/boot/loader/entries", withIntermediateDirectories: true)
            _ = try root.commit(directory: try dracutSystemTree(in: scratch, UUID().uuidString, which: "crash"), name: "kernel", version: "1")
        })
        let prune = Scenario(arguments: ["state", "prune", "--keep", "0"], expectedLive: 3)
        let gc = Scenario(arguments: ["gc"], expectedLive: 3, prepare: { _ = try $0.prune(keep: 0) })
        let rebuild = Scenario(arguments: ["db", "rebuild"], expectedLive: 3)
        return [
            "import.objects-written": importNew, "import.objects-placed": importNew, "import.recorded": importNew,
            "changeset.recorded": install(3), "blit.midway": install(3), "blit.done": install(3), "initramfs.recorded": kernel,
            "swap.before": install(3),
            "swap.exchanged": install(4), "swap.archived": install(4), "changeset.applied": install(4),
            "activate.recorded": rollback(3), "activate.exchanged": rollback(2), "activate.archived": rollback(2),
            "prune.recorded": prune, "prune.deleting": prune, "gc.recorded": gc, "gc.deleting": gc,
            "rebuild.staged": rebuild, "rebuild.exchanged": rebuild,
        ]
    }()

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
    }

    func testEveryStepHasAScenario() {
        XCTAssertEqual(Set(scenarios.keys), Set(FaultInjection.steps))
        XCTAssertGreaterThanOrEqual(FaultInjection.steps.count, 10)
    }

    func testCrashAtEveryStepRecoversToOldOrNewState() throws {
        let binary = try conaryBinary()
        let sandboxWorks = (try? requireSandbox("")) != nil
        for step in FaultInjection.steps {
            let scenario = try XCTUnwrap(scenarios[step])
            if step == "initramfs.recorded" && !sandboxWorks {
                print("SKIPPED: \(step): the sandbox cannot run here (no PID, network, UTS or IPC namespaces), so dracut cannot.")
                continue
            }
            do {
                let root = try makeRoot()
                try scenario.prepare(root)
            }
            let crashed = try run(binary, scenario.arguments, crashAt: step)
            XCTAssertEqual(crashed.reason, .uncaughtSignal, "\(step): conary should have been killed")
            XCTAssertEqual(crashed.status, SIGKILL, step)

            let listed = try run(binary, ["state", "list"])
            XCTAssertEqual(listed.status, 0, "\(step): the next command recovers and runs")
            try checkConsistent(step: step, expectedLive: scenario.expectedLive)
            try checkNextChangesetWorks(step: step, binary: binary)
        }
    }

    private func checkConsistent(step: String, expectedLive: Int64) throws {
        let root = try ConaryRoot(path: rootPath, create: false)
        XCTAssertEqual(liveMarker(rootPath), expectedLive, "\(step): live /usr")
        XCTAssertEqual(try root.activeState()?.id, expectedLive, "\(step): database active state")
        XCTAssertEqual(try root.verify(), [], "\(step): verify")
        let fsck = try root.fsck(depth: .full, repair: false)
        XCTAssertEqual(fsck.problemCount, 0, "\(step): fsck: \(fsck.objectFaults) \(fsck.trees.filter { !$0.problems.isEmpty || $0.manifestProblem != nil })")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary/staging"), "\(step): staging left")
        XCTAssertEqual(try root.changesets().filter { $0.status == .pending }.count, 0, "\(step): pending changesets")
        for summary in try root.states() {
            let archive = rootPath + "/conary/states/\(summary.state.id)/usr"
            switch summary.state.status {
            case .archived:
                XCTAssertEqual(readFile(archive + "/.conary-state"), "\(summary.state.id)\n", "\(step): archive of \(summary.state.id)")
            case .pruned, .active:
                XCTAssertFalse(FileManager.default.fileExists(atPath: archive), "\(step): stray tree for \(summary.state.id)")
            case .pending:
                XCTFail("\(step): pending state \(summary.state.id) survived recovery")
            }
        }
        let referenced = Set(try root.database.queue.read { try String.fetchAll($0, sql: "SELECT DISTINCT objectId FROM files WHERE objectId IS NOT NULL") })
        XCTAssertTrue(referenced.isSubset(of: Set(try root.store.storedObjectIDs())), "\(step): every recorded object is stored")
    }

    private func checkNextChangesetWorks(step: String, binary: String) throws {
        let (installed, stored) = try { () throws -> ([String], [String]) in
            let root = try ConaryRoot(path: rootPath, create: false)  // released before conary runs
            return (try root.state(liveMarker(rootPath)!).troves.map(\.name), try root.troves().map(\.name))
        }()
        // gc drops extra=1 (no state holds it), so those roots change by removing app instead.
        let next = installed.contains("extra") ? ["remove", "extra"] : stored.contains("extra") ? ["install", "extra"] : ["remove", "app"]
        XCTAssertEqual(try run(binary, next).status, 0, "\(step): \(next.joined(separator: " "))")
        XCTAssertEqual(try run(binary, ["verify"]).status, 0, "\(step): verify after the next changeset")
        XCTAssertEqual(try run(binary, ["gc"]).status, 0, "\(step): gc")
        XCTAssertEqual(try run(binary, ["verify"]).status, 0, "\(step): verify after gc")
    }

    private func run(_ binary: String, _ arguments: [String], crashAt step: String? = nil) throws -> (status: Int32, reason: Process.TerminationReason) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--root", rootPath] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment[FaultInjection.environmentVariable] = step
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + 120) == .timedOut {
            process.terminate()
            XCTFail("conary \(arguments.joined(separator: " ")) did not finish within 120 s")
            exited.wait()
        }
        return (process.terminationStatus, process.terminationReason)
    }
}
