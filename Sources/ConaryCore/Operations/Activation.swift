import Foundation
import GRDB

/// Switching between existing states: a tree exchange, no blit.
extension ConaryRoot {
    /// Makes archived state `id` live.
    @discardableResult
    public func activate(_ id: Int64, kind: String = "activate", command: String) throws -> SystemState {
        let target = try database.read { try Catalog.state(id, db: $0) }
        let current = try requireActiveState()
        switch target.status {
        case .active: throw ConaryError.alreadyActive(id)
        case .pruned: throw ConaryError.stateUnavailable(id, reason: "it was pruned")
        case .pending: throw ConaryError.stateUnavailable(id, reason: "it was never completed")
        case .archived: break
        }
        guard try trees.marker(of: StateTrees.archived(id), relativeTo: trees.conary.fd) == id else {
            throw ConaryError.stateUnavailable(id, reason: "its tree is missing from \(StateTrees.archived(id))")
        }
        try trees.requireSwappableUsr()
        guard let live = try trees.liveState() else {
            throw ConaryError.stateUnavailable(id, reason: "\(path)/usr is missing, so there is nothing to exchange it with")
        }
        let changeset = try database.write {
            try StateLedger.begin(kind: kind, from: current.id, to: id, command: command, db: $0)
        }
        FaultInjection.point("activate.recorded")
        try trees.exchange(StateTrees.archived(id))
        FaultInjection.point("activate.exchanged")
        try trees.archive(StateTrees.archived(id), as: live)
        trees.removeEmptyHolder("\(StateTrees.states)/\(id)")
        FaultInjection.point("activate.archived")
        try database.write { try StateLedger.markActive(id, changeset: changeset.id!, db: $0) }
        remountLiveUsr(previous: live)
        synchronizeBootEntriesAfterChange()
        var activated = target
        activated.status = .active
        return activated
    }

    /// Returns to the state the active one was built from.
    @discardableResult
    public func rollback(command: String) throws -> SystemState {
        let current = try requireActiveState()
        guard let parent = current.parent,
              let state = try database.read({ try SystemState.fetchOne($0, key: parent) }),
              state.status == .archived else {
            throw ConaryError.noPreviousState(current.id)
        }
        return try activate(parent, kind: "rollback", command: command)
    }
}
