import ArgumentParser
import ConaryOperations
import Foundation

struct Fsck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every stored object and every kept state's tree; --repair restores what it can.",
        discussion: """
            The fast check (the default) compares structure and sizes: every object is present \
            with its recorded size and untouched mtime, and every kept state's tree has each \
            recorded path with its type, mode, owner, size and symlink target, nothing else, and \
            its manifest. --full also re-hashes every object and every tree file that is not a \
            link to a proven object. Where the filesystem has fs-verity, each sealed object's \
            verity digest must be the one recorded when it was sealed. --repair moves damaged \
            objects to conary/quarantine, brings \
            good copies back from a tree that still holds one or by re-importing the package file \
            they came from (a synced folder's file or an index's download), re-links the trees \
            from good objects, rewrites missing manifests and seals objects stored before the \
            filesystem could seal them; then it checks again. The exit \
            status is 1 while problems remain.
            """)
    @OptionGroup var options: RootOptions
    @Flag(help: "Re-hash every object and every tree file that is not a link to a proven object.")
    var full = false
    @Flag(help: "Restore what can be restored, then check again.")
    var repair = false

    func run() throws {
        let root = try options.open()
        let report = try root.fsck(depth: full ? .full : .fast, repair: repair)
        for line in report.repairs { print(line) }
        for fault in report.objectFaults { print(fault) }
        for tree in report.trees {
            if let problem = tree.manifestProblem { print("state \(tree.state) (\(tree.location)): \(problem)") }
            for problem in tree.problems { print("state \(tree.state) (\(tree.location)): \(problem)") }
        }
        let scope = "\(report.objectsChecked) object\(report.objectsChecked == 1 ? "" : "s") and \(report.trees.count) state "
            + "tree\(report.trees.count == 1 ? "" : "s") (\(full ? "full: content" : "fast: structure and sizes"))"
        switch report.sealing {
        case .supported where !report.unsealed.isEmpty:
            let count = report.unsealed.count
            print("\(count) object\(count == 1 ? " is" : "s are") not sealed with fs-verity yet; conary fsck --repair seals them.")
        case .supported:
            break
        case .unsupported:
            print("Objects are not sealed: \(report.sealing), so root can still change a stored file in place.")
        }
        if report.unusedObjects > 0 {
            print("\(report.unusedObjects) stored object\(report.unusedObjects == 1 ? " is" : "s are") used by no record; conary gc removes them.")
        }
        guard report.problemCount == 0 else {
            let count = report.problemCount
            Output.fail("\(count) problem\(count == 1 ? "" : "s") found in \(scope)\(repair ? " remain after the repair" : "; conary fsck --repair restores what it can").")
        }
        print("Checked \(scope): no problems.")
    }
}

struct DatabaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Look after the state database.", subcommands: [Rebuild.self])

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild conary/conary.db from the manifests inside the state trees on disk.",
            discussion: """
                For a database that is lost, damaged or restored from an older copy. Every state \
                whose tree is on disk comes back with its troves, files and kernels; the live \
                tree's state is active. The previous database is kept beside the new one. \
                Changeset history, troves no state holds and synced indexes are not in the trees: \
                run conary repo sync again. Repositories and pins are kept when the old database \
                can still be read.
                """)
        @OptionGroup var options: RootOptions

        func run() throws {
            let report = try ConaryRoot.rebuildDatabase(path: options.root, log: Output.note)
            if let previous = report.previousDatabase { print("The previous database is kept as \(previous).") }
            let states = report.states.map(String.init).joined(separator: ", ")
            print("Rebuilt the database from \(report.states.count) state tree\(report.states.count == 1 ? "" : "s") (states \(states); "
                  + "\(report.active.map { "state \($0) is active" } ?? "none is live")).")
            if !report.keptRepositories.isEmpty {
                print("Kept repositories \(report.keptRepositories.joined(separator: ", ")); run conary repo sync to read their indexes again.")
            }
            // Recovery runs on the rebuilt database: it settles a staging tree, a missing archive, …
            _ = try options.open()
        }
    }
}
