import ArgumentParser
import ConaryCore
import Foundation

struct Commit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import a directory tree into the store as a trove.")
    @OptionGroup var options: RootOptions
    @Argument(help: "The directory whose contents become the trove's files.") var directory: String
    @Option(help: "The trove's name.") var name: String
    @Option(help: "The trove's version.") var version: String

    func run() throws {
        let root = try options.open(create: true)
        let (summary, seconds) = try timed { try root.commit(directory: directory, name: name, version: version) }
        print("Committed \(summary.trove.spec): \(summary.files) entries, \(summary.newObjects) new objects, "
              + "\(summary.bytes) bytes in \(Output.seconds(seconds)).")
    }
}

struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add troves to the system as a new state.")
    @OptionGroup var options: RootOptions
    @Argument(help: "Troves as NAME or NAME=VERSION.") var troves: [String]

    func run() throws {
        let root = try options.open(create: true)
        report(try root.install(troves, command: options.command))
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove troves from the system as a new state.")
    @OptionGroup var options: RootOptions
    @Argument(help: "Names of installed troves.") var troves: [String]

    func run() throws {
        let root = try options.open()
        report(try root.remove(troves, command: options.command))
    }
}

func report(_ result: ConaryRoot.DeployResult) {
    print("State \(result.state.id) is active (\(result.summary)): \(result.state.fileCount) entries; "
          + "\(result.links) linked, \(result.copies) copied, \(result.symlinks) symlinks, \(result.directories) directories.")
    print("  plan \(Output.seconds(result.planSeconds)), blit \(Output.seconds(result.blitSeconds)), "
          + "swap \(Output.seconds(result.swapSeconds))")
}

func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
