import ConaryModel
import Foundation
import GRDB

/// States, their members, pins of troves, and the changesets that move between states.
extension DatabaseSession {
    // MARK: States

    public func activeState() throws -> SystemState? {
        try SystemState.filter(Column("status") == StateStatus.active.rawValue).fetchOne(db)
    }

    /// State `id`; a missing one is an error.
    public func state(_ id: Int64) throws -> SystemState {
        guard let state = try SystemState.fetchOne(db, key: id) else { throw DatabaseError.stateNotFound(id) }
        return state
    }

    public func stateIfRecorded(_ id: Int64) throws -> SystemState? {
        try SystemState.fetchOne(db, key: id)
    }

    /// Every state ever recorded, oldest first (pruned ones included, for the record).
    public func allStates() throws -> [SystemState] {
        try SystemState.order(Column("id")).fetchAll(db)
    }

    /// States with a tree on disk (active or archived), oldest first.
    public func keptStates() throws -> [SystemState] {
        try SystemState.filter([StateStatus.active.rawValue, StateStatus.archived.rawValue].contains(Column("status")))
            .order(Column("id")).fetchAll(db)
    }

    public func stateIDs(withStatus status: StateStatus) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT id FROM states WHERE status = ? ORDER BY id", arguments: [status.rawValue])
    }

    /// The number a new state takes: state numbers only grow.
    public func nextStateID() throws -> Int64 {
        (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM states") ?? 0) + 1
    }

    /// Records a new state as pending, with its troves and why each is there.
    public func recordPending(_ state: SystemState, members: [(troveID: Int64, reason: InstallReason)]) throws {
        var pending = state
        pending.status = .pending
        try pending.insert(db)
        for member in members {
            try StateMember(stateId: state.id, troveId: member.troveID, reason: member.reason).insert(db)
        }
    }

    public func setPinned(state id: Int64, _ pinned: Bool) throws {
        try db.execute(sql: "UPDATE states SET pinned = ? WHERE id = ?", arguments: [pinned, id])
    }

    /// Archived, unpinned states, newest first: the candidates for pruning.
    public func unpinnedArchivedStates() throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT id FROM states WHERE status = ? AND pinned = 0 ORDER BY id DESC",
                           arguments: [StateStatus.archived.rawValue])
    }

    public func markPruned(_ ids: [Int64]) throws {
        for id in ids {
            try db.execute(sql: "UPDATE states SET status = ? WHERE id = ?", arguments: [StateStatus.pruned.rawValue, id])
        }
    }

    // MARK: Members

    public func members(ofState id: Int64) throws -> [Trove] {
        try Trove.fetchAll(db, sql: """
            SELECT troves.* FROM troves JOIN stateMembers ON stateMembers.troveId = troves.id
            WHERE stateMembers.stateId = ? ORDER BY troves.name, troves.version
            """, arguments: [id])
    }

    /// Why each trove is in a state, by trove id.
    public func reasons(ofState id: Int64) throws -> [Int64: InstallReason] {
        Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT troveId, reason FROM stateMembers WHERE stateId = ?",
                                                          arguments: [id]).map { ($0[0] as Int64, InstallReason($0[1] as String)) })
    }

    // MARK: Changesets

    /// Records a changeset before anything on disk changes.
    public func beginChangeset(_ kind: ChangesetKind, from: Int64?, to: Int64, command: String) throws -> Changeset {
        var changeset = Changeset(uuid: UUID().uuidString.lowercased(), kind: kind, status: .pending,
                                  fromState: from, toState: to, command: command, started: Date())
        try changeset.insert(db)
        return changeset
    }

    /// Makes `id` the one active state (the previous one becomes archived) and, if given,
    /// marks the changeset that did it as applied.
    public func markActive(_ id: Int64, changeset: Int64?) throws {
        try db.execute(sql: "UPDATE states SET status = ? WHERE status = ? AND id != ?",
                       arguments: [StateStatus.archived.rawValue, StateStatus.active.rawValue, id])
        try db.execute(sql: "UPDATE states SET status = ? WHERE id = ?", arguments: [StateStatus.active.rawValue, id])
        if let changeset {
            try db.execute(sql: "UPDATE changesets SET status = ?, finished = ? WHERE id = ?",
                           arguments: [ChangesetStatus.applied.rawValue, Date(), changeset])
        }
    }

    /// Marks a changeset that never swapped as abandoned and forgets the state it was building.
    public func abandon(_ changeset: Changeset) throws {
        try db.execute(sql: "UPDATE changesets SET status = ?, finished = ? WHERE id = ?",
                       arguments: [ChangesetStatus.abandoned.rawValue, Date(), changeset.id])
        try db.execute(sql: "DELETE FROM states WHERE id = ? AND status = ?", arguments: [changeset.toState, StateStatus.pending.rawValue])
    }

    public func pendingChangesets() throws -> [Changeset] {
        try Changeset.filter(Column("status") == ChangesetStatus.pending.rawValue).order(Column("id")).fetchAll(db)
    }

    public func allChangesets() throws -> [Changeset] {
        try Changeset.order(Column("id")).fetchAll(db)
    }

    // MARK: Pinned troves

    public func pinnedNames() throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT name FROM pins"))
    }

    public func setPinned(trove name: String, _ pinned: Bool) throws {
        if pinned {
            try db.execute(sql: "INSERT OR IGNORE INTO pins (name) VALUES (?)", arguments: [name])
        } else {
            try db.execute(sql: "DELETE FROM pins WHERE name = ?", arguments: [name])
        }
    }
}
