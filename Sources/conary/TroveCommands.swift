import ArgumentParser
import ConaryModel
import ConaryOperations
import Foundation

struct Commit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import a directory tree into the store as a trove.")
    @OptionGroup var options: RootOptions
    @Argument(help: "The directory whose contents become the trove's files.") var directory: String
    @Option(help: "The trove's name.") var name: String
    @Option(help: "The trove's version.") var version: String

    func run() throws {
        let (summary, seconds) = try options.creating { root in try timed { try root.commit(directory: directory, name: name, version: version) } }
        print("Committed \(summary.trove.spec): \(summary.files) entries, \(summary.newObjects) new objects, "
              + "\(summary.bytes) bytes in \(Output.seconds(seconds)).")
    }
}

struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Import package files into the store without installing them.")
    @OptionGroup var options: RootOptions
    @Argument(help: "Package files: .deb, .rpm, .pkg.tar.zst/.xz, .ccs.") var packages: [String]

    func run() throws {
        // Before the root is locked: a pipe or FIFO argument is refused, not read.
        try ConaryRoot.requireRegularFiles(packages)
        for trove in try options.creating({ try $0.importPackages(packages) }) {
            print("Imported \(trove.spec)\(trove.flavor.isEmpty ? "" : " [\(trove.flavor)]") (\(trove.format)).")
        }
    }
}

/// --dry-run prints the plan and changes nothing.
struct PlanOptions: ParsableArguments {
    @Flag(help: "Print what would change and change nothing.") var dryRun = false

    func run(_ root: ConaryRoot, command: String, plan: () throws -> ConaryRoot.Plan) throws {
        let plan = try plan()
        guard dryRun else { return report(try root.apply(plan, command: command)) }
        try root.check(plan)
        print("Would \(plan.kind): \(plan.summary)")
        for spec in plan.added { print("  + \(spec)") }
        for change in plan.updated { print("  ~ \(change)") }
        for spec in plan.removed { print("  - \(spec)") }
        print("  \(plan.members.count + plan.downloads.count) troves in the new state; \(Output.bytes(plan.downloadBytes)) to download "
              + "(\(plan.downloads.count) package files); \(Output.bytes(plan.incomingBytes)) of files arrive from the store; "
              + "the tree \(plan.treeGrowth >= 0 ? "grows" : "shrinks") by \(Output.bytes(abs(plan.treeGrowth))).")
    }
}

struct Install: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add troves to the system as a new state.")
    @OptionGroup var options: RootOptions
    @OptionGroup var plan: PlanOptions
    @Argument(help: "Troves as NAME, NAME=VERSION, NAME[FLAVOR], NAME:COMPONENT, or package files.") var troves: [String]
    @Flag(help: "Install exactly these troves, as rpm --nodeps does: requirements and conflicts are not checked.") var noDeps = false
    @Flag(help: "Leave out what the new troves only recommend (apt's --no-install-recommends).") var noRecommends = false

    func run() throws {
        let files = ConaryRoot.packageFiles(among: troves)
        if plan.dryRun, let file = files.first {
            Output.fail("--dry-run changes nothing, so it cannot read \(file) into the store; run conary import first.")
        }
        // Before the root is locked: a pipe or FIFO argument is refused, not read.
        try ConaryRoot.requireRegularFiles(files)
        try options.creating { root in try plan.run(root, command: options.command) { try root.planInstall(troves, resolving: !noDeps, recommends: !noRecommends) } }
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove troves from the system as a new state.")
    @OptionGroup var options: RootOptions
    @OptionGroup var plan: PlanOptions
    @Argument(help: "Names of installed troves.") var troves: [String]
    @Flag(help: "Remove even if installed troves require what goes.") var allowBroken = false

    func run() throws {
        let root = try options.open()
        try plan.run(root, command: options.command) { try root.planRemove(troves, allowBreaking: allowBroken) }
    }
}

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Move installed troves (all, or the named ones) to their newest versions in the store.")
    @OptionGroup var options: RootOptions
    @OptionGroup var plan: PlanOptions
    @Argument(help: "Installed troves; all when none is named.") var troves: [String] = []
    @Flag(help: "Leave out what the new versions newly recommend (apt's --no-install-recommends).") var noRecommends = false

    func run() throws {
        let root = try options.open()
        try plan.run(root, command: options.command) { try root.planUpdate(troves, recommends: !noRecommends) }
    }
}

struct Autoremove: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove troves installed only as dependencies that nothing explicit needs any more.")
    @OptionGroup var options: RootOptions
    @OptionGroup var plan: PlanOptions

    func run() throws {
        let root = try options.open()
        try plan.run(root, command: options.command) { try root.planAutoremove() }
    }
}

struct PinTrove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pin", abstract: "Keep an installed package at its version.")
    @OptionGroup var options: RootOptions
    @Argument var trove: String

    func run() throws {
        try options.open().pinTrove(trove, true)
        print("\(trove) is pinned.")
    }
}

struct UnpinTrove: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "unpin", abstract: "Let a pinned package change again.")
    @OptionGroup var options: RootOptions
    @Argument var trove: String

    func run() throws {
        print(try options.open().pinTrove(trove, false) ? "\(trove) is no longer pinned." : "\(trove) was not pinned.")
    }
}

func report(_ result: ConaryRoot.DeployResult) {
    print("State \(result.state.id) is active (\(result.summary)): \(result.state.fileCount) entries; "
          + "\(result.links) linked, \(result.copies) copied, \(result.symlinks) symlinks, \(result.directories) directories.")
    let steps = result.stepSeconds.map { "\($0.step) \(Output.seconds($0.seconds))" }
    print("  " + (["plan \(Output.seconds(result.planSeconds))"] + steps + ["swap \(Output.seconds(result.swapSeconds))"]).joined(separator: ", "))
}

func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}
