import Foundation
import GRDB

/// Brings a root back to a consistent state after a crash at any point of a changeset.
///
/// The filesystem is the truth for where trees are: every tree carries its state number,
/// and the live /usr's number says which state is running. The database is the truth for
/// which states exist. A changeset is finished if its swap happened, abandoned otherwise.
struct Recovery {
    let database: StateDatabase
    let store: ObjectStore
    let trees: StateTrees

    func run() throws -> [String] {
        var messages: [String] = []
        try store.discardAbandonedIntakes()
        try trees.emptyTrash()
        // Package files a crashed install was fetching; the next install fetches them again.
        if FileSystem.exists(ConaryRoot.downloadFolder, relativeTo: trees.conary.fd) {
            try FileSystem.removeTree(ConaryRoot.downloadFolder, relativeTo: trees.conary.fd)
        }
        let live: Int64?
        do { live = try trees.liveState() } catch ConaryError.unmanagedUsr { live = nil }
        let known = try database.read { db in
            try SystemState.fetchAll(db).reduce(into: [Int64: StateStatus]()) { $0[$1.id] = $1.status }
        }
        // A tree may be archived under a number only if that state exists and is not live.
        func belongsInArchive(_ id: Int64?) -> Bool {
            guard let id, id != live, let status = known[id] else { return false }
            return (status == .active || status == .archived) && !trees.hasArchive(id)
        }

        if FileSystem.exists(StateTrees.staging, relativeTo: trees.conary.fd) {
            let marker = try trees.marker(of: StateTrees.stagingUsr, relativeTo: trees.conary.fd)
            if FileSystem.exists(StateTrees.stagingUsr, relativeTo: trees.conary.fd) {
                if belongsInArchive(marker) {
                    try trees.archive(StateTrees.stagingUsr, as: marker!)
                    messages.append("Archived the tree of state \(marker!) that an interrupted swap left in staging.")
                } else {
                    messages.append("Discarded a staging tree that an interrupted changeset left behind.")
                }
            }
            try trees.delete(StateTrees.staging)
        }

        for id in try trees.archivedStates() {
            let holder = "\(StateTrees.states)/\(id)"
            let marker = try trees.marker(of: StateTrees.archived(id), relativeTo: trees.conary.fd)
            if marker == id { continue }
            if belongsInArchive(marker) {
                try trees.archive(StateTrees.archived(id), as: marker!)
                messages.append("Moved the tree of state \(marker!) back to its archive after an interrupted activation.")
            } else if FileSystem.exists(StateTrees.archived(id), relativeTo: trees.conary.fd) {
                try trees.delete(StateTrees.archived(id))
                messages.append("Removed a tree from \(holder) that belongs to no state.")
            }
            trees.removeEmptyHolder(holder)
        }

        let pending = try database.read { try Changeset.filter(Column("status") == ChangesetStatus.pending.rawValue).fetchAll($0) }
        for changeset in pending {
            if live == changeset.toState {
                try database.write { try StateLedger.markActive(changeset.toState, changeset: changeset.id!, db: $0) }
                messages.append("Finished the interrupted \(changeset.kind) changeset: state \(changeset.toState) is active.")
            } else {
                try database.write { db in
                    try db.execute(sql: "UPDATE changesets SET status = ?, finished = ? WHERE id = ?",
                                   arguments: [ChangesetStatus.abandoned.rawValue, Date(), changeset.id])
                    try db.execute(sql: "DELETE FROM states WHERE id = ? AND status = ?",
                                   arguments: [changeset.toState, StateStatus.pending.rawValue])
                }
                let stays = live.map { "state \($0)" } ?? "no state"
                messages.append("Rolled back the interrupted \(changeset.kind) changeset; the system stays on \(stays).")
            }
        }

        if let live, let status = known[live], status != .active, status != .pending {
            try database.write { try StateLedger.markActive(live, changeset: nil, db: $0) }
            messages.append("The live /usr holds state \(live); the database now records it as active.")
        }

        let prunedWithTrees = try database.read {
            try Int64.fetchAll($0, sql: "SELECT id FROM states WHERE status = ?", arguments: [StateStatus.pruned.rawValue])
        }.filter(trees.hasArchive)
        for id in prunedWithTrees {
            try trees.delete("\(StateTrees.states)/\(id)")
        }
        return messages
    }
}

/// The database side of making a state live.
enum StateLedger {
    /// Makes `id` the one active state (the previous one becomes archived) and, if given,
    /// marks the changeset that did it as applied.
    static func markActive(_ id: Int64, changeset: Int64?, db: Database) throws {
        try db.execute(sql: "UPDATE states SET status = ? WHERE status = ? AND id != ?",
                       arguments: [StateStatus.archived.rawValue, StateStatus.active.rawValue, id])
        try db.execute(sql: "UPDATE states SET status = ? WHERE id = ?", arguments: [StateStatus.active.rawValue, id])
        if let changeset {
            try db.execute(sql: "UPDATE changesets SET status = ?, finished = ? WHERE id = ?",
                           arguments: [ChangesetStatus.applied.rawValue, Date(), changeset])
        }
    }

    /// Records a changeset before anything on disk changes.
    static func begin(kind: String, from: Int64?, to: Int64, command: String, db: Database) throws -> Changeset {
        var changeset = Changeset(id: nil, uuid: UUID().uuidString.lowercased(), kind: kind, status: .pending,
                                  fromState: from, toState: to, command: command, started: Date(), finished: nil)
        try changeset.insert(db)
        return changeset
    }
}
