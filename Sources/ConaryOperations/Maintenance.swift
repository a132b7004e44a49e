import ConaryDeploy
import ConaryModel
import ConaryStore
import ConarySupport
import Foundation

/// Keeping the root small: pruning old states, pinning the ones to keep, collecting garbage.
extension ConaryRoot {
    /// Deletes archived states beyond the `keep` newest. Active and pinned states always stay.
    public func prune(keep: Int) throws -> [Int64] {
        guard keep >= 0 else { throw ConaryError.invalidKeepCount }
        try spaceReserve.release()
        defer { spaceReserve.ensure() }
        let victims = try transaction.prune(keep: keep)
        if !victims.isEmpty { synchronizeBootEntriesAfterChange() }
        return victims
    }

    public func pin(_ id: Int64, _ pinned: Bool) throws {
        let state = try database.read { try $0.state(id) }
        if state.status == .pruned || state.status == .pending {
            throw DeployError.stateUnavailable(id, reason: "it has no tree to keep")
        }
        try database.write { try $0.setPinned(state: id, pinned) }
    }

    public struct GarbageReport: Sendable {
        public let droppedTroves: [String]
        public let removedObjects: Int
        public let freedBytes: Int64
    }

    /// Drops troves that no kept state uses and every object no remaining trove or kept state's
    /// kernel uses.
    /// The sweep compares the store with the database, so it also removes objects an
    /// interrupted import or gc left behind.
    public func collectGarbage() throws -> GarbageReport {
        // With a database that does not describe the disk, "unknown" objects may be in use.
        try transaction.requireAgreement()
        try spaceReserve.release()
        defer { spaceReserve.ensure() }
        let dropped = try database.write { try $0.dropUnusedTrovesAndObjects() }.map(\.spec)
        FaultInjection.point("gc.recorded")
        let known = try database.read { try $0.knownObjectIDs() }
        var removed = 0
        var freed: Int64 = 0
        for id in try store.storedObjectIDs() where !known.contains(id) {
            freed += try store.remove(id)
            removed += 1
            if removed == 1 { FaultInjection.point("gc.deleting") }
        }
        return GarbageReport(droppedTroves: dropped, removedObjects: removed, freedBytes: freed)
    }
}
