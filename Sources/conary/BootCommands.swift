import ArgumentParser
import ConaryModel
import ConaryOperations

struct BootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot", abstract: "Boot Loader Specification entries for the states (ROOT/boot/loader/entries).",
        subcommands: [List.self, Sync.self, SetDefault.self, Next.self, MarkGood.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List Conary's boot entries; * marks the default.")
        @OptionGroup var options: RootOptions

        func run() throws {
            let root = try options.open()
            let entries = try root.bootEntryFiles()
            if entries.isEmpty { return print("No state has a kernel, so there are no boot entries.") }
            Output.table(["", "STATE", "ENTRY"], entries.map { [$0.isDefault ? "*" : "", String($0.state), $0.fileName] })
            if let next = try root.oneShotBootState() { print("State \(next) boots at the next boot only (conary boot next).") }
        }
    }

    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the boot entries again (they follow every state change by themselves).")
        @OptionGroup var options: RootOptions

        func run() throws {
            let entries = try options.open().synchronizeBootEntries(required: true)
            print("\(entries.count) boot entries: \(entries.map { "state \($0.state) (\($0.version))" }.joined(separator: ", ")).")
        }
    }

    struct SetDefault: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-default", abstract: "Boot state N by default (until it is pruned); --active follows the active state again.")
        @OptionGroup var options: RootOptions
        @Argument(help: "A state with a boot entry.") var state: Int64?
        @Flag(help: "Let the default follow the active state.") var active = false

        func validate() throws {
            // Exactly one of the two: a state, or --active.
            guard (state != nil) != active else { throw ValidationError("Name a state or pass --active.") }
        }

        func run() throws {
            try options.open().setDefaultBootState(state)
            print(state.map { "State \($0) boots by default." } ?? "The default boot entry follows the active state.")
        }
    }

    struct Next: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Boot state N at the next boot only; the default stays.")
        @OptionGroup var options: RootOptions
        @Argument(help: "A state with a boot entry.") var state: Int64

        func run() throws {
            let how = try options.open().bootNextOnce(state)
            print("State \(state) boots at the next boot only (\(how)).")
        }
    }

    struct MarkGood: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mark-good", abstract: "Mark the booted state good, so its entry stops counting tries (boot/conary-boot-good.service).")
        @OptionGroup var options: RootOptions
        @Option(help: "The state to mark; default: conary.state on the kernel command line.") var state: Int64?

        func run() throws {
            print("Marked good: \(try options.open().markBootGood(state: state)).")
        }
    }
}
