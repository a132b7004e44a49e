import ArgumentParser
import ConaryCore

struct BootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot", abstract: "Boot Loader Specification entries for the states (ROOT/boot/loader/entries).",
        subcommands: [List.self, Sync.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List Conary's boot entries; * marks the default.")
        @OptionGroup var options: RootOptions

        func run() throws {
            let entries = try options.open().bootEntryFiles()
            if entries.isEmpty { return print("No state has a kernel, so there are no boot entries.") }
            Output.table(["", "STATE", "ENTRY"], entries.map { [$0.isDefault ? "*" : "", String($0.state), $0.fileName] })
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
}
