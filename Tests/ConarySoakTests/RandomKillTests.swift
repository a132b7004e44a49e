@testable import ConaryDeploy
@testable import ConaryModel
@testable import ConaryOperations
import ConaryTestSupport
import Foundation
import XCTest

/// SIGKILLs `conary` at random moments of random commands on a root of more than 20,000
/// files, and checks after each kill what a user relies on: the next command recovers by
/// itself, verify is clean, every kept state passes `conary fsck`, one state is active and it
/// is the live one, nothing is left in staging or trash, and every tree on disk belongs to a
/// kept state. CONARY_SOAK_KILLS sets the number of kills (default 200, some 340 rounds of about
/// 2 s with the debug binary), CONARY_SOAK_SEED the seed.
final class RandomKillTests: XCTestCase {
    /// A small deterministic generator, so a failing run can be replayed from its seed.
    private struct Generator {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    private var rootPath: String!
    private var binary: String!

    /// `seconds` runs from the start to the end of stderr, on the clock the kill delay uses.
    private func run(_ arguments: [String], killAfter delay: Double? = nil) throws -> (status: Int32, killed: Bool, err: String, seconds: Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--root", rootPath] + arguments
        process.standardOutput = FileHandle.nullDevice
        let err = Pipe()
        process.standardError = err
        try process.run()
        let start = Date()
        if let delay {
            Thread.sleep(forTimeInterval: delay)
            kill(process.processIdentifier, SIGKILL)
        }
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let seconds = Date().timeIntervalSince(start)
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason == .uncaughtSignal, text, seconds)
    }

    /// A tree of `count` small files in folders of 100, each file's content unique.
    private func generatedTree(_ path: String, count: Int, salt: String) throws -> String {
        for index in 0..<count {
            let folder = "\(path)/usr/share/bulk/\(index / 100)"
            if index % 100 == 0 { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            try Data("\(salt) file \(index)\n".utf8).write(to: URL(fileURLWithPath: "\(folder)/f\(index)"))
        }
        return path
    }

    func testRandomKillsAlwaysLeaveAConsistentRoot() throws {
        guard geteuid() == 0 else { throw XCTSkip("SKIPPED: this test deploys real states and needs root.") }
        binary = try conaryBinary()
        let scratch = NSTemporaryDirectory() + "conary-soak-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        rootPath = scratch + "/root"
        try FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true)
        let kills = Int(ProcessInfo.processInfo.environment["CONARY_SOAK_KILLS"] ?? "") ?? 200
        var random = Generator(state: UInt64(ProcessInfo.processInfo.environment["CONARY_SOAK_SEED"] ?? "") ?? 20261129)

        // base: 20,000 files; app 1 to 3 change one file and add a few; extra is a second package.
        let base = try generatedTree(scratch + "/base", count: 20_000, salt: "base")
        XCTAssertEqual(try run(["commit", base, "--name", "base", "--version", "1"]).status, 0)
        for version in 1...3 {
            let app = try generatedTree(scratch + "/app\(version)", count: 50 * version, salt: "app \(version)")
            try FileManager.default.moveItem(atPath: app + "/usr/share/bulk", toPath: app + "/usr/share/app")
            XCTAssertEqual(try run(["commit", app, "--name", "app", "--version", "\(version)"]).status, 0)
        }
        let extra = try generatedTree(scratch + "/extra", count: 300, salt: "extra")
        try FileManager.default.moveItem(atPath: extra + "/usr/share/bulk", toPath: extra + "/usr/share/extra")
        XCTAssertEqual(try run(["commit", extra, "--name", "extra", "--version", "1"]).status, 0)
        // Pinned states hold every trove, so gc keeps them all in the store for later rounds.
        for (state, request) in [["base", "app=1"], ["app=2"], ["app=3"], ["extra"]].enumerated() {
            XCTAssertEqual(try run(["install"] + request).status, 0)
            XCTAssertEqual(try run(["state", "pin", String(state + 1)]).status, 0)
        }

        // Each round runs a command that changes the root (so a kill lands mid-work), picked
        // from what the active state allows, and kills it at a random moment of a window as
        // long as the median finished run of that kind of command (not the longest: one run
        // slowed by a busy machine would let most later ones finish), plus a tenth so some
        // rounds still finish. Until one has finished, the window starts at 0.3 s and grows by
        // half after each kill. A fixed window spends rounds on fast commands (activate, prune)
        // that finish before the kill, and never reaches the end of slow ones (an install).
        var counts: [String: Int] = [:]
        var finished: [String: [Double]] = [:], growing: [String: Double] = [:]
        var killed = 0, round = 0
        let started = Date()
        while killed < kills && round < kills * 3 {
            let command = try nextCommand(&random)
            let kind = command.prefix(2).joined(separator: " ")
            let window = finished[kind].map { $0.sorted()[$0.count / 2] * 1.1 } ?? growing[kind, default: 0.3]
            let result = try run(command, killAfter: window * Double(random.next(1000)) / 1000)
            if result.killed {
                killed += 1
                if finished[kind] == nil { growing[kind] = window * 1.5 }
            } else {
                finished[kind, default: []].append(result.seconds)
            }
            XCTAssertTrue(result.killed || result.status == 0, "round \(round): \(command.joined(separator: " ")) failed: \(result.err)")
            counts[command[0] + (result.killed ? " (killed)" : ""), default: 0] += 1
            try checkAfterKill(round: round, after: command)
            round += 1
        }
        let seconds = Date().timeIntervalSince(started)
        print("RandomKillTests: \(killed) kills in \(round) rounds (\(String(format: "%.2f", seconds / Double(max(round, 1)))) s a round) "
              + "on a root of 20,000+ files: \(counts.sorted { $0.key < $1.key }); median finished runs (s): "
              + finished.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.2f", $0.value.sorted()[$0.value.count / 2]))" }
                .joined(separator: ", "))
        XCTAssertGreaterThanOrEqual(killed, kills, "the commands were killed mid-way often enough")
    }

    /// A command that changes something on the root as it is now.
    private func nextCommand(_ random: inout Generator) throws -> [String] {
        let root = try ConaryRoot(path: rootPath, create: false)
        let active = try XCTUnwrap(root.activeState())
        let installed = try root.state(active.id).troves
        let app = installed.first { $0.name == "app" }.map { Int($0.version) ?? 1 } ?? 1
        let states = try root.states().map(\.state)
        let archived = states.filter { $0.status == .archived }.map(\.id)
        // fsck after every kill checks every kept tree: pruning whenever more than two
        // unpinned states wait keeps a round's cost from growing with the rounds.
        if states.filter({ $0.status == .archived && !$0.pinned }).count > 2 { return ["state", "prune", "--keep", "2"] }
        var choices: [[String]] = [["install", "app=\(app % 3 + 1)"],
                                   installed.contains { $0.name == "extra" } ? ["remove", "extra"] : ["install", "extra"],
                                   ["gc"]]
        if app < 3 { choices.append(["update", "app"]) }
        if let parent = active.parent, archived.contains(parent) { choices.append(["rollback"]) }
        if !archived.isEmpty { choices.append(["state", "activate", String(archived[random.next(archived.count)])]) }
        return choices[random.next(choices.count)]
    }

    /// Every check made after each round, killed or not: the one place to add more.
    private func checkAfterKill(round: Int, after command: [String]) throws {
        let label = "round \(round) (\(command.joined(separator: " ")))"
        // The first command after a kill recovers; verify re-hashes every live file, so it
        // also catches a half-written copy that kept its size.
        let verify = try run(["verify"])
        XCTAssertEqual(verify.status, 0, "\(label): the next command recovers and verify is clean: \(verify.err)")
        // Every object and every kept state's tree: structure, sizes, untouched mtimes, manifests.
        let fsck = try run(["fsck"])
        XCTAssertEqual(fsck.status, 0, "\(label): fsck: \(fsck.err)")
        let root = try ConaryRoot(path: rootPath, create: false)
        let states = try root.states().map(\.state)
        let active = states.filter { $0.status == .active }
        XCTAssertEqual(active.count, 1, "\(label): one active state")
        XCTAssertFalse(states.contains { $0.status == .pending }, "\(label): no pending state")
        XCTAssertEqual(readMarker(), active.first?.id, "\(label): the live marker is the active state")
        XCTAssertEqual(try root.changesets().filter { $0.status == .pending }.count, 0, "\(label): no pending changeset")
        for leftover in ["staging", "downloads"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary/" + leftover), "\(label): \(leftover) left")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: rootPath + "/conary/trash"), [], "\(label): trash left")
        for state in states where state.status == .archived {
            XCTAssertEqual(try String(contentsOfFile: rootPath + "/conary/states/\(state.id)/usr/.conary-state", encoding: .utf8), "\(state.id)\n",
                           "\(label): the tree of archived state \(state.id)")
        }
        XCTAssertTrue(try root.trees.statesOnDisk().isSubset(of: Set(states.filter { $0.status != .pruned }.map(\.id))),
                      "\(label): every tree on disk belongs to a kept state")
    }

    private func readMarker() -> Int64? {
        (try? String(contentsOfFile: rootPath + "/usr/.conary-state", encoding: .utf8)).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
