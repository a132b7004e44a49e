import ArgumentParser
import ConaryModel
import ConaryOperations
import Foundation

@main
struct Conary: ParsableCommand {
    /// The release this tree builds; `conary --version` prints it.
    static let version = "0.11.0"

    /// ArgumentParser offers a configured version on every subcommand too, where it clashes
    /// with the trove versions of `commit --version V` and `ccs build --version V`: their help
    /// lists --version twice, and when their parse fails (no --name) the version is printed
    /// with exit status 0 instead of the usage error. So the version is configured only for
    /// command lines that name no subcommand (`conary --version`, `conary --help`, `conary help`),
    /// and not for the JSON and completion dumps, which describe every subcommand (the man page
    /// and the shell completions come from them).
    nonisolated(unsafe) static var versionOffered = true

    static func offersVersion(for arguments: [String]) -> Bool {
        guard let first = arguments.first, arguments != ["help"] else { return true }
        return first.hasPrefix("-")
            && !["--generate-completion-script", "--experimental-dump-help"].contains { first.hasPrefix($0) }
    }

    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "conary",
            abstract: "Atomic system states built from troves.",
            discussion: """
                Commands that work on a system take --root DIR (default /), before or after the \
                command's name. Errors are one line on stderr ("conary: ...") with exit status 1. \
                conary --version prints the version.
                """,
            version: versionOffered ? "conary \(version)" : "",
            subcommands: [Commit.self, Import.self, Install.self, Remove.self, Update.self, Autoremove.self, PinTrove.self, UnpinTrove.self,
                          Rollback.self, StateCommand.self,
                          History.self, Verify.self, Fsck.self, DatabaseCommand.self, GarbageCollect.self, Query.self, ListComponents.self,
                          WhatProvides.self, ReverseDependencies.self, WhatBreaks.self, CCSCommand.self,
                          RepoCommand.self, Search.self, BootCommand.self])
    }

    /// Usage errors, --help, --version and --generate-completion-script go through
    /// ArgumentParser; everything a command throws becomes one "conary: …" line and exit status 1.
    static func main() {
        let arguments = globalOptionsMovedLast(Array(CommandLine.arguments.dropFirst()))
        versionOffered = offersVersion(for: arguments)
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error as ConaryError {
            Output.fail(error.description)
        } catch where exitCode(for: error) == .success {
            // Help asked for at run time: `conary help …` and `--help` parse to ArgumentParser's
            // help command, and a command with subcommands but none named (`conary`,
            // `conary state`) asks for its own help. ArgumentParser prints it on stdout, exit 0.
            exit(withError: error)
        } catch {
            Output.fail("\(error)")
        }
    }
}

/// `conary --root DIR install x` reads like rpm and dnf; ArgumentParser wants subcommand
/// options after the subcommand, so a leading --root moves to the end.
func globalOptionsMovedLast(_ arguments: [String]) -> [String] {
    var leading: [String] = []
    var rest = arguments[...]
    while let first = rest.first, first.hasPrefix("--root") {
        leading.append(rest.removeFirst())
        if first == "--root", let value = rest.first {
            leading.append(value)
            rest.removeFirst()
        }
    }
    return Array(rest) + leading
}

/// Options every command shares.
struct RootOptions: ParsableArguments {
    @Option(name: .long, help: "The system root to manage.")
    var root: String = "/"

    func open(create: Bool = false) throws -> ConaryRoot {
        try ConaryRoot(path: root, create: create, log: Output.note)
    }

    /// Opens the root for a command that may be its first: if the command fails, a root that
    /// had no conary/ folder is left without one.
    func creating<T>(_ body: (ConaryRoot) throws -> T) throws -> T {
        let root = try open(create: true)
        do {
            return try body(root)
        } catch {
            root.discardIfCreated()
            throw error
        }
    }

    var command: String { CommandLine.arguments.dropFirst().joined(separator: " ") }
}

enum Output {
    static func note(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("conary: \(message)\n".utf8))
    }

    static func fail(_ message: String) -> Never {
        error(message)
        exit(1)
    }

    static func seconds(_ value: Double) -> String {
        value < 0.01 ? String(format: "%.2f ms", value * 1000) : String(format: "%.2f s", value)
    }

    private static let dateFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }()

    /// 1536 → "1.5 KiB"
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count), unit = 0
        while value >= 1024 && unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(count) B" : String(format: "%.1f ", value) + units[unit]
    }

    static func date(_ date: Date) -> String { dateFormatter.string(from: date) }

    /// Prints rows as left-aligned columns.
    static func table(_ header: [String], _ rows: [[String]]) {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        for row in all {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }
}
