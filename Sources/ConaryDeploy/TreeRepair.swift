import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVFS
import Foundation

/// Puts a state tree back the way its records describe, from good objects of the store.
/// A missing or changed path is built again by the blitter in a private folder and renamed
/// over it, so no path is ever half-written; a directory whose only fault is its
/// mode or owner gets them back in place. What no record names is deleted from an archived
/// tree (nothing but Conary writes there) and left in the live one (it may be the admin's),
/// to be reported.
struct TreeRepair {
    let tree: ArenaTree
    let store: ObjectStore
    let trees: StateTrees

    /// Repairs `problems` of the tree at `location`; returns those it could not repair.
    func repair(_ problems: [TreeProblem], at location: StateTrees.Location) throws -> [TreeProblem] {
        let (fd, path) = trees.directory(of: location)
        let usr = try Descriptor.directory(path, relativeTo: fd)
        var rebuilt: [String] = []
        var left: [TreeProblem] = []
        for problem in problems.sorted(by: { $0.path < $1.path }) {
            // Below a directory built again whole, everything is new already.
            if rebuilt.contains(where: { problem.path.hasPrefix($0 + "/") }) { continue }
            let relative = String(problem.path.dropFirst("/usr/".count))
            let parent = (relative as NSString).deletingLastPathComponent
            guard problem.path.hasPrefix("/usr/"),
                  let parentFD = try? Descriptor.directory(parent.isEmpty ? "." : parent, relativeTo: usr.fd) else {
                left.append(problem)
                continue
            }
            let outcome = try withExtendedLifetime(parentFD) {
                try fix(problem, named: (relative as NSString).lastPathComponent, in: parentFD.fd, location: location)
            }
            switch outcome {
            case .fixed: break
            case .rebuiltDirectory: rebuilt.append(problem.path)
            case let .left(remaining): left.append(remaining)
            }
        }
        try usr.syncFilesystem()
        return left
    }

    private enum Outcome {
        case fixed, rebuiltDirectory
        case left(TreeProblem)
    }

    private func fix(_ problem: TreeProblem, named name: String, in parentFD: Int32, location: StateTrees.Location) throws -> Outcome {
        switch problem.kind {
        case .unexpected:
            guard location != .live else { return .left(problem) }
            try discard(name, in: parentFD)
            return .fixed
        case .missing, .modified:
            guard let index = tree.lookup(problem.path) else { return .left(problem) }
            if let missing = missingObject(below: index) {
                return .left(TreeProblem(kind: problem.kind, path: problem.path, detail: "object \(missing) is not in the store"))
            }
            return try rebuild(index, named: name, in: parentFD) ? .rebuiltDirectory : .fixed
        case .wrongState:
            return .left(problem)
        }
    }

    /// The first object the subtree at `index` needs that the store lacks.
    private func missingObject(below index: Int32) -> String? {
        var missing: String?
        tree.walk(from: index) { _, node in
            if missing == nil, case let .regular(objectID, _) = node.kind, !store.contains(objectID) { missing = objectID }
        }
        if missing == nil, case let .regular(objectID, _) = tree.nodes[Int(index)].kind, !store.contains(objectID) { return objectID }
        return missing
    }

    /// Returns whether a whole directory was built again.
    private func rebuild(_ index: Int32, named name: String, in parentFD: Int32) throws -> Bool {
        let node = tree.nodes[Int(index)]
        let existing = FileSystem.lstat(name, relativeTo: parentFD)
        // A directory that is still a directory keeps its contents: only its metadata was off.
        if case .directory = node.kind, let existing, FileSystem.isDirectory(existing) {
            try sys("Changing owner of", name, fchownat(parentFD, name, node.uid, node.gid, AT_SYMLINK_NOFOLLOW))
            try sys("Changing mode of", name, fchmodat(parentFD, name, mode_t(node.mode), 0))
            return false
        }
        // Built in the trash (same filesystem; emptied by recovery if a crash leaves it there).
        let scratch = "\(StateTrees.trash)/\(UUID().uuidString)"
        try sys("Creating directory", scratch, mkdirat(trees.conary.fd, scratch, 0o700))
        defer { try? FileSystem.removeTree(scratch, relativeTo: trees.conary.fd) }
        let scratchFD = try Descriptor.directory(scratch, relativeTo: trees.conary.fd)
        _ = try Blitter(tree: tree, store: store).place(index, in: scratchFD.fd)
        // rename() replaces a file with a file in one step, but nothing else: a directory in
        // the way, or anything where a directory goes, is moved out first.
        var isDirectory = false
        if case .directory = node.kind { isDirectory = true }
        if let existing, isDirectory || FileSystem.isDirectory(existing) { try discard(name, in: parentFD) }
        try sys("Replacing", name, renameat(scratchFD.fd, node.name, parentFD, name))
        return isDirectory
    }

    /// Deletes `name` through the trash: renamed out of the tree first, so a crash never
    /// leaves it half-deleted in place.
    private func discard(_ name: String, in parentFD: Int32) throws {
        let parked = "\(StateTrees.trash)/\(UUID().uuidString)"
        try sys("Moving to the trash", name, renameat(parentFD, name, trees.conary.fd, parked))
        try FileSystem.removeTree(parked, relativeTo: trees.conary.fd)
    }
}
