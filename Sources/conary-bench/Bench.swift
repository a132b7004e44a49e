import ConaryModel
import ConaryOperations
import Foundation

/// conary-bench [WORK_DIR] [FILES] [DEB...]: measures Conary against cp -al and ostree on one tree,
/// against dpkg-deb and apt-get -s on the Debian packages, in one run, and prints ratios. Needs root (it deploys real states) and a conary binary
/// beside itself for the whole-command rollback timing.
@main
struct Bench {
    static func main() throws {
        let arguments = CommandLine.arguments
        let work = arguments.count > 1 ? arguments[1] : FileManager.default.currentDirectoryPath + "/bench-work"
        let files = arguments.count > 2 ? Int(arguments[2])! : 50_000
        let debs = Array(arguments.dropFirst(3))
        let conary = URL(fileURLWithPath: arguments[0]).deletingLastPathComponent().path + "/conary"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var bench = Bench(work: work, conary: conary)
        do {
            try bench.run(files: files)
            if !debs.isEmpty {
                try bench.runCorpus(debs)
                try bench.runResolution(debs)
            }
            try bench.runArchiveResolution()
            bench.printSummary()
        } catch {
            FileHandle.standardError.write(Data("conary-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    let work: String
    let conary: String
    var rows: [(String, String)] = []
    let ostree = Shell.which("ostree")

    mutating func run(files: Int) throws {
        print("Generating a \(files)-file tree…")
        let source = work + "/tree"
        let bytes = try TreeGenerator(shape: .init(files: files)).write(to: source + "/usr/share/bench")
        let small = work + "/small"
        _ = try TreeGenerator(shape: .init(files: 1_000)).write(to: small + "/usr/share/small")
        try FileManager.default.createDirectory(atPath: work + "/one/usr/share", withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: work + "/one/usr/share/one"))
        report("tree", "\(files) files, \(bytes / 1_048_576) MiB")

        // Import: conary commit vs ostree commit of the same tree into a bare repository.
        let rootPath = work + "/root"
        try FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true)
        var root: ConaryRoot? = try ConaryRoot(path: rootPath, create: true)
        let (_, importSeconds) = try time { try root!.commit(directory: source, name: "big", version: "1") }
        let ostreeImport = try ostree.map { ostree -> Double in
            try Shell.run(ostree, ["--repo=\(work)/repo", "init", "--mode=bare"])
            return try time { try Shell.run(ostree, ["--repo=\(work)/repo", "commit", "--branch=bench", "--tree=dir=\(source)"]) }.1
        }
        compare("import (commit)", importSeconds, against: "ostree commit", ostreeImport)

        // Staging: a full blit (includes syncfs) vs cp -al and ostree checkout, each followed by sync -f.
        _ = try root!.commit(directory: work + "/one", name: "one", version: "1")
        _ = try root!.commit(directory: small, name: "small", version: "1")
        var plans: [Double] = []
        var blits: [Double] = []
        var swaps: [Double] = []
        try root!.install(["big"], command: "bench")
        for round in 0..<3 {
            let result = round % 2 == 0 ? try root!.install(["one"], command: "bench") : try root!.remove(["one"], command: "bench")
            plans.append(result.planSeconds)
            blits.append(result.blitSeconds)
            swaps.append(result.swapSeconds)
        }
        let live = rootPath + "/usr"
        let cpSeconds = try median((0..<3).map { round in
            try time { try Shell.run("cp", ["-al", live, "\(work)/cp\(round)"]); try Shell.run("sync", ["-f", work]) }.1
        })
        let checkoutSeconds = try ostree.map { ostree in
            try median((0..<3).map { round in
                try time {
                    try Shell.run(ostree, ["--repo=\(work)/repo", "checkout", "--require-hardlinks", "bench", "\(work)/co\(round)"])
                    try Shell.run("sync", ["-f", work])
                }.1
            })
        }
        compare("staging (blit)", median(blits), against: "cp -al", cpSeconds)
        compare("staging (blit)", median(blits), against: "ostree checkout --require-hardlinks", checkoutSeconds)
        report("plan (VFS build, conflicts, tree hash)", String(format: "%.3f s", median(plans)))
        report("swap (renameat2 + fsyncs)", String(format: "%.3f ms", median(swaps) * 1000))

        // One changed file: a new trove version differing in one file, deployed as an update.
        let changed = try FileManager.default.subpathsOfDirectory(atPath: source).sorted().first { $0.hasPrefix("usr/share/bench/d1/") && $0.hasSuffix("f1") }!
        try FileManager.default.removeItem(atPath: "\(source)/\(changed)")
        try Data("changed".utf8).write(to: URL(fileURLWithPath: "\(source)/\(changed)"))
        let (_, reimport) = try time { try root!.commit(directory: source, name: "big", version: "2") }
        report("re-import with one file changed", String(format: "%.2f s", reimport))
        let update = try root!.install(["big=2"], command: "bench")
        compare("one-file update staging", update.blitSeconds, against: "cp -al", cpSeconds)

        // Whole rollback command, big tree vs a small one: it must not grow with the tree.
        root = nil  // releases the root's lock for the conary processes
        let bigRollback = try rollbackSeconds(rootPath, returningTo: update.state.id)
        let smallRoot = work + "/small-root"
        try FileManager.default.createDirectory(atPath: smallRoot, withIntermediateDirectories: true)
        try Shell.run(conary, ["--root", smallRoot, "commit", small, "--name", "small", "--version", "1"])
        try Shell.run(conary, ["--root", smallRoot, "commit", work + "/one", "--name", "one", "--version", "1"])
        try Shell.run(conary, ["--root", smallRoot, "install", "small"])
        try Shell.run(conary, ["--root", smallRoot, "install", "one"])
        let smallRollback = try rollbackSeconds(smallRoot, returningTo: 2)
        compare("rollback command, \(files) files", bigRollback, against: "rollback command, 1000 files", smallRollback)

    }

    /// Real Debian packages: importing them vs unpacking them with dpkg-deb -x, then deploying.
    mutating func runCorpus(_ debs: [String]) throws {
        let rootPath = work + "/corpus-root"
        try FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true)
        let root = try ConaryRoot(path: rootPath, create: true)
        let (troves, importSeconds) = try time { try root.importPackages(debs) }
        let dpkgSeconds = try time {
            for deb in debs { try Shell.run("dpkg-deb", ["-x", deb, work + "/dpkg-x"]) }
        }.1
        compare("import \(debs.count) .debs", importSeconds, against: "dpkg-deb -x of each", dpkgSeconds)
        // The corpus holds alternatives that conflict (several init systems), so it deploys as given.
        let (result, deploySeconds) = try time { try root.install(troves.map(\.spec), resolving: false, command: "bench") }
        report("deploy them as one state (\(result.state.fileCount) entries)",
               String(format: "%.3f s (plan %.3f s, blit %.3f s, swap %.3f ms)", deploySeconds, result.planSeconds,
                      result.blitSeconds, result.swapSeconds * 1000))
    }

    /// Resolving Debian's required and important packages from an empty system over the
    /// corpus's Packages index (written by apt-ftparchive): `conary install --dry-run` against
    /// `apt-get -s install` with a private apt state that knows only the same index.
    mutating func runResolution(_ debs: [String]) throws {
        guard let ftparchive = Shell.which("apt-ftparchive") else {
            return report("resolution vs apt-get -s", "skipped: apt-ftparchive (apt-utils) is not installed")
        }
        let repository = work + "/index-repo"
        try FileManager.default.createDirectory(atPath: repository, withIntermediateDirectories: true)
        for deb in debs { try FileManager.default.linkItem(atPath: deb, toPath: repository + "/" + (deb as NSString).lastPathComponent) }
        let index = try Shell.output(ftparchive, ["packages", "."], in: repository)
        try Data(index.utf8).write(to: URL(fileURLWithPath: repository + "/Packages"))
        let seeds = Self.seeds(index)

        try compareResolution("corpus index (\(debs.count) packages)", repositories: [repository], requests: [seeds], rounds: 5)
    }

    /// The same comparison at the scale of a distribution: python3, openssh-server and
    /// gnome-core over Debian's whole main archive as this machine's apt lists hold it
    /// (bookworm, -updates, -security; skipped when there are none).
    mutating func runArchiveResolution() throws {
        // Scripts/bench.sh runs the benchmark from the repository's top folder.
        let repositories = try Shell.output(FileManager.default.currentDirectoryPath + "/Scripts/archive-repositories.sh", [work + "/archive"])
            .split(separator: "\n").map(String.init)
        guard !repositories.isEmpty else { return report("resolution over the Debian archive", "skipped: no Debian main package lists in /var/lib/apt/lists") }
        try compareResolution("Debian's archive (\(repositories.count) lists)", repositories: repositories,
                              requests: [["python3"], ["openssh-server"], ["gnome-core"]], rounds: 3)
    }

    /// Times `conary repo sync` against `apt-get update`, then `conary install --dry-run REQUEST`
    /// against `apt-get -s install REQUEST` for each request, each from an empty system that
    /// knows only the repositories' indexes (no Recommends), and compares what they pick.
    private mutating func compareResolution(_ label: String, repositories: [String], requests: [[String]], rounds: Int) throws {
        let rootPath = work + "/" + (repositories[0] as NSString).lastPathComponent + "-root"
        try FileManager.default.createDirectory(atPath: rootPath, withIntermediateDirectories: true)
        for (index, repository) in repositories.enumerated() {
            try Shell.run(conary, ["--root", rootPath, "repo", "add", "bench-\(index)", "file://" + repository])
        }
        let syncSeconds = try time { try Shell.run(conary, ["--root", rootPath, "repo", "sync"]) }.1
        // Scripts/bench.sh runs the benchmark from the repository's top folder.
        let privateApt = FileManager.default.currentDirectoryPath + "/Scripts/private-apt.sh"
        var options: [String] = []
        let updateSeconds = try time {
            options = try Shell.output(privateApt, [rootPath + "-apt"] + repositories).split(separator: "\n").map(String.init)
        }.1
        compare("\(label): conary repo sync", syncSeconds, against: "apt-get update (in Scripts/private-apt.sh)", updateSeconds)
        for request in requests {
            var conaryPlan = "", aptPlan = ""
            let conarySeconds = try median((0..<rounds).map { _ in
                try time { conaryPlan = try Shell.output(conary, ["--root", rootPath, "install", "--dry-run", "--no-recommends"] + request) }.1
            })
            let aptSeconds = try median((0..<rounds).map { _ in
                try time { aptPlan = try Shell.output("apt-get", options + ["-o", "APT::Install-Recommends=false", "-s", "install"] + request) }.1
            })
            let named = request.count > 3 ? "\(request.count) packages" : request.joined(separator: " ")
            compare("  resolve \(named): conary install --dry-run", conarySeconds, against: "apt-get -s install", aptSeconds)
            let ours = Set(conaryPlan.split(separator: "\n").filter { $0.hasPrefix("  + ") }.map { String($0.dropFirst(4).prefix { $0 != "=" }) })
            let theirs = Set(aptPlan.split(separator: "\n").filter { $0.hasPrefix("Inst ") }.map { String($0.split(separator: " ")[1]) })
            report("    packages chosen: conary vs apt", "\(ours.count) vs \(theirs.count), \(ours.intersection(theirs).count) in common"
                   + (ours == theirs ? "" : "; only conary: \(ours.subtracting(theirs).sorted().joined(separator: " ")); "
                      + "only apt: \(theirs.subtracting(ours).sorted().joined(separator: " "))"))
        }
    }

    /// Packages of priority required or important in a Packages index.
    static func seeds(_ index: String) -> [String] {
        Set(index.components(separatedBy: "\n\n").compactMap { paragraph -> String? in
            let lines = paragraph.split(separator: "\n")
            guard lines.contains("Priority: required") || lines.contains("Priority: important"),
                  let name = lines.first(where: { $0.hasPrefix("Package: ") }) else { return nil }
            return String(name.dropFirst("Package: ".count))
        }).sorted()
    }

    func printSummary() {
        print("")
        let width = rows.map(\.0.count).max() ?? 0
        for (name, value) in rows { print(name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
    }

    /// Median time of a whole `conary rollback` process; each round activates `state` again.
    private func rollbackSeconds(_ root: String, returningTo state: Int64) throws -> Double {
        try median((0..<3).map { _ in
            let seconds = try time { try Shell.run(conary, ["--root", root, "rollback"]) }.1
            try Shell.run(conary, ["--root", root, "state", "activate", "\(state)"])
            return seconds
        })
    }

    private mutating func report(_ name: String, _ value: String) {
        rows.append((name, value))
        print("\(name): \(value)")
    }

    private mutating func compare(_ name: String, _ seconds: Double, against baseline: String, _ baselineSeconds: Double?) {
        guard let baselineSeconds else {
            report("\(name) vs \(baseline)", String(format: "%.3f s (baseline not installed)", seconds))
            return
        }
        report("\(name) vs \(baseline)",
               String(format: "%.3f s vs %.3f s = %.2f×", seconds, baselineSeconds, seconds / baselineSeconds))
    }
}

func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let result = try body()
    return (result, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

enum Shell {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func which(_ name: String) -> String? {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
            .map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ command: String, _ arguments: [String]) throws {
        _ = try output(command, arguments)
    }

    /// Runs a command (in `directory`, if given) and returns its standard output.
    static func output(_ command: String, _ arguments: [String], in directory: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command.hasPrefix("/") ? command : which(command) ?? command)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(command) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
