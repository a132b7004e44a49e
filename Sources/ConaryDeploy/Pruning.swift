import ConaryDatabase
import ConarySupport

/// Pruning deletes archived trees, so it lives beside the transaction that moves them: the
/// states are marked pruned first (committed), then their trees go; recovery deletes the
/// trees of pruned states that a crash left behind.
extension StateTransaction {
    /// Deletes archived states beyond the `keep` newest. The active state, pinned states and
    /// the state this system booted from (it runs from that tree) always stay. Returns the
    /// states pruned.
    public func prune(keep: Int) throws -> [Int64] {
        try requireAgreement()
        let booted = usrMount?.bootedState
        let victims = try database.write { session -> [Int64] in
            let victims = Array(try session.unpinnedArchivedStates().filter { $0 != booted }.dropFirst(keep))
            try session.markPruned(victims)
            return victims
        }
        FaultInjection.point("prune.recorded")
        for (position, id) in victims.enumerated() {
            try trees.deleteArchive(of: id)
            if position == 0 { FaultInjection.point("prune.deleting") }
        }
        return victims
    }
}
