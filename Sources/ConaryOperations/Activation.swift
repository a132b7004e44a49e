import ConaryDeploy
import ConaryModel
import Foundation

/// Switching between existing states: a tree exchange through the state transaction, no blit.
extension ConaryRoot {
    /// Makes archived state `id` live, once its tree passes the fast check (`checked: false`
    /// for a state the system booted and runs well: refusing it would leave the boot split
    /// from the live state).
    @discardableResult
    public func activate(_ id: Int64, kind: ChangesetKind = .activate, command: String, checked: Bool = true) throws -> SystemState {
        let state = try database.read { try $0.state(id) }
        _ = try requireActiveState()
        let expected = checked && state.status == .archived ? try tree(ofState: id) : nil
        let activated = try transaction.activate(id, kind: kind, command: command, expected: expected)
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
