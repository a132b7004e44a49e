import ArgumentParser
import ConaryModel
import ConaryOperations
import Foundation

struct RepoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repo", abstract: "Manage package sources: local folders of package files.",
        subcommands: [Add.self, Remove.self, List.self, Sync.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a folder of package files as a repository.")
        @OptionGroup var options: RootOptions
        @Argument var name: String
        @Argument(help: "file:///path/to/folder") var url: String

        func run() throws {
            try options.open(create: true).addRepository(name: name, url: url)
            print("Added repository \(name) (\(url)); run conary repo sync to read it.")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget a repository (its troves stay in the store until gc).")
        @OptionGroup var options: RootOptions
        @Argument var name: String

        func run() throws {
            try options.open().removeRepository(name)
            print("Removed repository \(name).")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List repositories.")
        @OptionGroup var options: RootOptions

        func run() throws {
            Output.table(["NAME", "URL", "SYNCED"], try options.open().repositories().map {
                [$0.name, $0.url, $0.synced.map(Output.date) ?? "never"]
            })
        }
    }

    struct Sync: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import new and changed package files from repositories.")
        @OptionGroup var options: RootOptions
        @Argument(help: "Repositories; all when none is named.") var names: [String] = []

        func run() throws {
            for report in try options.open().sync(names) {
                if report.indexed > 0 {
                    print("\(report.repository): \(report.indexed) packages indexed; install downloads what it picks.")
                } else {
                    print("\(report.repository): \(report.imported.count) imported, \(report.unchanged) unchanged.")
                }
                for trove in report.imported { print("  + \(trove.spec)\(trove.flavor.isEmpty ? "" : " [\(trove.flavor)]")") }
            }
        }
    }
}

struct Search: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Find packages in the store by name or summary.")
    @OptionGroup var options: RootOptions
    @OptionGroup var format: FormatOptions
    @Argument var term: String

    func run() throws {
        let hits = try options.open().search(term)
        if hits.isEmpty && !format.json { Output.fail("No package in the store matches \(term).") }
        try format.emit(hits) {
            Output.table(["NAME", "VERSION", "FORMAT", "REPOSITORY", "INSTALLED", "SUMMARY"], hits.map {
                [$0.name, $0.version, $0.format, $0.repositories.joined(separator: ","), $0.installed ? "yes" : "", $0.summary ?? ""]
            })
        }
    }
}
