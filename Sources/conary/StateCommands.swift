import ArgumentParser
import ConaryModel
import ConaryOperations
import Foundation

struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Return to the state the active one was built from.")
    @OptionGroup var options: RootOptions

    func run() throws {
        let root = try options.open()
        let (state, seconds) = try timed { try root.rollback(command: options.command) }
        print("Rolled back: state \(state.id) is active (\(state.summary)) in \(Output.seconds(seconds)).")
    }
}

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state", abstract: "List, inspect and switch states.",
        subcommands: [List.self, Show.self, Diff.self, Activate.self, Prune.self, Pin.self, Unpin.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every state.")
        @OptionGroup var options: RootOptions

        func run() throws {
            let rows = try options.open().states().map { entry -> [String] in
                let state = entry.state
                let status = state.status.rawValue + (state.pinned ? ",pinned" : "")
                return [String(state.id), status, Output.date(state.created), String(entry.troves.count),
                        String(state.fileCount), state.summary]
            }
            Output.table(["STATE", "STATUS", "CREATED", "TROVES", "ENTRIES", "SUMMARY"], rows)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one state and its troves.")
        @OptionGroup var options: RootOptions
        @Argument var state: Int64

        func run() throws {
            let entry = try options.open().state(state)
            let state = entry.state
            print("State \(state.id): \(state.status.rawValue)\(state.pinned ? ", pinned" : "")")
            print("  created   \(Output.date(state.created))")
            print("  parent    \(state.parent.map(String.init) ?? "none")")
            print("  summary   \(state.summary)")
            print("  entries   \(state.fileCount)")
            print("  tree hash \(state.treeHash)")
            print("  troves:")
            for trove in entry.troves {
                print("    \(trove.spec)  [\(entry.reasons[trove.id!] ?? .explicit)]  (\(trove.source))")
            }
        }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what changes from state A to state B.")
        @OptionGroup var options: RootOptions
        @Argument var from: Int64
        @Argument var to: Int64
        @Flag(help: "List every changed path.") var files = false

        func run() throws {
            let diff = try options.open().diff(from, to)
            print("State \(from) → state \(to):")
            for spec in diff.addedTroves { print("  + \(spec)") }
            for spec in diff.removedTroves { print("  - \(spec)") }
            for change in diff.changedTroves { print("  ~ \(change.name) \(change.from) → \(change.to)") }
            print("  paths: \(diff.addedPaths.count) added, \(diff.removedPaths.count) removed, \(diff.changedPaths.count) changed")
            guard files else { return }
            for path in diff.addedPaths { print("    A \(path)") }
            for path in diff.removedPaths { print("    D \(path)") }
            for path in diff.changedPaths { print("    M \(path)") }
        }
    }

    struct Activate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an archived state live, now or at the next boot.")
        @OptionGroup var options: RootOptions
        @Argument var state: Int64
        @Flag(help: "Boot the state next and make it live once it has booted well (conary boot mark-good).") var nextBoot = false

        func run() throws {
            let root = try options.open()
            if nextBoot {
                try root.activateAtNextBoot(state)
                return print("State \(state) boots next and becomes live once it has booted well.")
            }
            let (activated, seconds) = try timed { try root.activate(state, command: options.command) }
            print("State \(activated.id) is active (\(activated.summary)) in \(Output.seconds(seconds)).")
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete old archived states; active and pinned states stay.")
        @OptionGroup var options: RootOptions
        @Option(help: "How many archived states to keep besides the active and pinned ones.") var keep: Int

        func run() throws {
            let pruned = try options.open().prune(keep: keep)
            print(pruned.isEmpty ? "Nothing to prune." : "Pruned states \(pruned.map(String.init).joined(separator: ", ")).")
        }
    }

    struct Pin: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Keep a state from being pruned.")
        @OptionGroup var options: RootOptions
        @Argument var state: Int64

        func run() throws {
            try options.open().pin(state, true)
            print("State \(state) is pinned.")
        }
    }

    struct Unpin: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a pinned state be pruned again.")
        @OptionGroup var options: RootOptions
        @Argument var state: Int64

        func run() throws {
            try options.open().pin(state, false)
            print("State \(state) is no longer pinned.")
        }
    }
}

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List every changeset.")
    @OptionGroup var options: RootOptions

    func run() throws {
        let rows = try options.open().changesets().map { changeset -> [String] in
            [String(changeset.id!), Output.date(changeset.started), changeset.kind.rawValue, changeset.status.rawValue,
             "\(changeset.fromState.map(String.init) ?? "-") → \(changeset.toState)", changeset.command]
        }
        Output.table(["ID", "STARTED", "KIND", "STATUS", "STATES", "COMMAND"], rows)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the live /usr against the database.")
    @OptionGroup var options: RootOptions

    func run() throws {
        let problems = try options.open().verify()
        for problem in problems { print(problem) }
        if !problems.isEmpty {
            Output.fail("\(problems.count) problem\(problems.count == 1 ? "" : "s") found in the live state.")
        }
        print("The live state matches the database.")
    }
}

struct GarbageCollect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc", abstract: "Drop troves no kept state uses and objects no trove uses.")
    @OptionGroup var options: RootOptions

    func run() throws {
        let report = try options.open().collectGarbage()
        for spec in report.droppedTroves { print("Dropped \(spec).") }
        print("Removed \(report.removedObjects) objects, \(report.freedBytes) bytes.")
    }
}
