import ConaryDeploy
import ConaryModel
import Foundation

/// Switching between existing states: a tree exchange through the state transaction, no blit.
extension ConaryRoot {
    /// Makes archived state `id` live.
    @discardableResult
    public func activate(_ id: Int64, kind: ChangesetKind = .activate, command: String) throws -> SystemState {
        _ = try database.read { try $0.state(id) }
        _ = try requireActiveState()
        let activated = try transaction.activate(id, kind: kind, command: command)
        synchronizeBootEntriesAfterChange()
        return activated
    }

    /// Returns to the state the active one was built from.
    @discardableResult
    public func rollback(command: String) throws -> SystemState {
        let current = try requireActiveState()
        guard let parent = current.parent, try database.read({ try $0.stateIfRecorded(parent) })?.status == .archived else {
            throw ConaryError.noPreviousState(current.id)
        }
        return try activate(parent, kind: .rollback, command: command)
    }
}
