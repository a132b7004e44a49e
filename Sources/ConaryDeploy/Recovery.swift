import ConaryDatabase
import ConaryModel
import ConarySupport
import Foundation

/// Brings a root back to a consistent state after a crash at any point of a changeset.
///
/// The filesystem is the truth for where trees are: every tree carries its state number,
/// and the live /usr's number says which state is running. The database is the truth for
/// which states exist. A changeset is finished if its swap happened (its state is live),
/// abandoned otherwise: the staging folder and the pending state's rows (members, kernels)
/// go with it, and store objects its steps added are left to `gc`, which sweeps what no
/// record uses.
extension StateTransaction {
    /// Runs before every command, under the root's lock; returns what it did, for the user.
    public func recover() throws -> [String] {
        var messages: [String] = []
        try store.discardAbandonedIntakes()
        try trees.emptyTrash()
        // Scratch space of an interrupted changeset (package files being fetched, say): redone next time.
        for folder in transientFolders where FileSystem.exists(folder, relativeTo: trees.conary.fd) {
            try FileSystem.removeTree(folder, relativeTo: trees.conary.fd)
        }
        let live: Int64?
        do { live = try trees.liveState() } catch DeployError.unmanagedUsr { live = nil }
        let known = try database.read { try $0.allStates() }.reduce(into: [Int64: StateStatus]()) { $0[$1.id] = $1.status }
        // A database that does not describe the trees on disk (restored from an older copy,
        // or a marker edited by hand) would make the steps below delete or overwrite real
        // trees: nothing is touched, and changes are refused until it is resolved.
        disagreement = try disagreement(live: live, known: known)
        if let disagreement {
            return ["\(disagreement) Nothing on disk was changed; changes are refused until this is resolved."]
        }
        // A tree may be archived under a number only if that state exists and is not live.
        func belongsInArchive(_ id: Int64?) -> Bool {
            guard let id, id != live, let status = known[id] else { return false }
            return (status == .active || status == .archived) && !trees.hasArchive(id)
        }

        if FileSystem.exists(StateTrees.staging, relativeTo: trees.conary.fd) {
            let marker = try trees.marker(of: StateTrees.stagingUsr, relativeTo: trees.conary.fd)
            var keep = false
            if FileSystem.exists(StateTrees.stagingUsr, relativeTo: trees.conary.fd) {
                if belongsInArchive(marker) {
                    do {
                        try trees.archive(StateTrees.stagingUsr, as: marker!)
                        messages.append("Archived the tree of state \(marker!) that an interrupted swap left in staging.")
                    } catch {
                        // The tree is a real state's: it stays in staging (new states are refused
                        // until it moves) and the next command tries again.
                        keep = true
                        messages.append("The tree of state \(marker!) is still in staging, as archiving it failed: \(error) "
                                        + "The next command tries again.")
                    }
                } else {
                    messages.append("Discarded a staging tree that an interrupted changeset left behind.")
                }
            }
            if !keep { try trees.delete(StateTrees.staging) }
        }

        for id in try trees.archivedStates() {
            let holder = "\(StateTrees.states)/\(id)"
            let marker = try trees.marker(of: StateTrees.archived(id), relativeTo: trees.conary.fd)
            if marker == id { continue }
            if belongsInArchive(marker) {
                do {
                    try trees.archive(StateTrees.archived(id), as: marker!)
                    messages.append("Moved the tree of state \(marker!) back to its archive after an interrupted activation.")
                } catch {
                    messages.append("The tree of state \(marker!) is still in \(holder), as archiving it failed: \(error) "
                                    + "The next command tries again.")
                    continue
                }
            } else if FileSystem.exists(StateTrees.archived(id), relativeTo: trees.conary.fd) {
                try trees.delete(StateTrees.archived(id))
                messages.append("Removed a tree from \(holder) that belongs to no state.")
            }
            trees.removeEmptyHolder(holder)
        }

        for changeset in try database.read({ try $0.pendingChangesets() }) {
            if live == changeset.toState {
                try database.write { try $0.markActive(changeset.toState, changeset: changeset.id!) }
                messages.append("Finished the interrupted \(changeset.kind) changeset: state \(changeset.toState) is active.")
            } else {
                try database.write { try $0.abandon(changeset) }
                let stays = live.map { "state \($0)" } ?? "no state"
                messages.append("Rolled back the interrupted \(changeset.kind) changeset; the system stays on \(stays).")
            }
        }

        if let live, let status = known[live], status != .active, status != .pending {
            try database.write { try $0.markActive(live, changeset: nil) }
            messages.append("The live /usr holds state \(live); the database now records it as active.")
        }

        // An archived state whose tree is gone (deleted by hand) can never be activated again:
        // it is recorded as pruned, so it is no longer offered as one that can.
        let onDisk = try trees.statesOnDisk()
        let lost = try database.read { try $0.stateIDs(withStatus: .archived) }.filter { !onDisk.contains($0) }
        if !lost.isEmpty {
            try database.write { try $0.markPruned(lost) }
            for id in lost {
                messages.append("The tree of state \(id) is missing from conary/\(StateTrees.archived(id)); state \(id) is now recorded as pruned.")
            }
        }

        let prunedWithTrees = try database.read { try $0.stateIDs(withStatus: .pruned) }.filter(trees.hasArchive)
        for id in prunedWithTrees {
            try trees.deleteArchive(of: id)
        }
        return messages
    }

    /// Where the database and the trees on disk disagree in a way recovery must not act on:
    /// a tree (live, archived or in staging) that names a state the database does not know,
    /// or two trees that name one state.
    private func disagreement(live: Int64?, known: [Int64: StateStatus]) throws -> DeployError? {
        let database = trees.conaryPath + "/conary.db"
        var unknown: [Int64] = []
        if let live, known[live] == nil { unknown.append(live) }
        var claimed: [Int64: Int] = live.map { [$0: 1] } ?? [:]
        for id in try trees.archivedStates() {
            guard let marker = try trees.marker(of: StateTrees.archived(id), relativeTo: trees.conary.fd) else { continue }
            if known[marker] == nil { unknown.append(marker) }
            claimed[marker, default: 0] += 1
        }
        if let marker = try trees.marker(of: StateTrees.stagingUsr, relativeTo: trees.conary.fd), known[marker] == nil {
            unknown.append(marker)
        }
        if !unknown.isEmpty {
            return .databaseDisagrees("\(database) does not know state \(Self.list(unknown)), whose tree is on disk "
                                      + "(was the database restored from an older copy?).")
        }
        if let twice = claimed.filter({ $0.value > 1 }).keys.min() {
            return .databaseDisagrees("Two trees on disk say they hold state \(twice) (was \(trees.rootPath)/usr/\(RootLayout.stateMarker) edited?).")
        }
        return nil
    }

    private static func list(_ ids: [Int64]) -> String {
        let sorted = Set(ids).sorted().map(String.init)
        return sorted.count == 1 ? sorted[0] : sorted.dropLast().joined(separator: ", ") + " and " + sorted.last!
    }

    /// Changes of the root are refused while the database disagrees with the disk.
    public func requireAgreement() throws {
        if let disagreement { throw disagreement }
    }
}
