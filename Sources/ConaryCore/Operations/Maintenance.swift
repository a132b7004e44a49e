import Foundation
import GRDB

/// Keeping the root small: pruning old states, pinning the ones to keep, collecting garbage.
extension ConaryRoot {
    /// Deletes archived states beyond the `keep` newest. Active and pinned states always stay.
    public func prune(keep: Int) throws -> [Int64] {
        guard keep >= 0 else { throw ConaryError.invalidArgument("--keep takes a number of states, 0 or more.") }
        // A boot into an archived state runs from that state's tree: it stays.
        let booted = usrMount?.bootedState
        let victims = try database.write { db -> [Int64] in
            let archived = try Int64.fetchAll(db, sql: "SELECT id FROM states WHERE status = ? AND pinned = 0 ORDER BY id DESC",
                                              arguments: [StateStatus.archived.rawValue]).filter { $0 != booted }
            let victims = Array(archived.dropFirst(keep))
            for id in victims {
                try db.execute(sql: "UPDATE states SET status = ? WHERE id = ?", arguments: [StateStatus.pruned.rawValue, id])
            }
            return victims
        }
        FaultInjection.point("prune.recorded")
        for (position, id) in victims.enumerated() {
            try trees.delete("\(StateTrees.states)/\(id)")
            if position == 0 { FaultInjection.point("prune.deleting") }
        }
        if !victims.isEmpty { synchronizeBootEntriesAfterChange() }
        return victims
    }

    public func pin(_ id: Int64, _ pinned: Bool) throws {
        let state = try database.read { try Catalog.state(id, db: $0) }
        if state.status == .pruned || state.status == .pending {
            throw ConaryError.stateUnavailable(id, reason: "it has no tree to keep")
        }
        try database.write { try $0.execute(sql: "UPDATE states SET pinned = ? WHERE id = ?", arguments: [pinned, id]) }
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
        let dropped = try database.write { db -> [String] in
            let unused = try Trove.fetchAll(db, sql: """
                SELECT * FROM troves WHERE id NOT IN (
                    SELECT stateMembers.troveId FROM stateMembers JOIN states ON states.id = stateMembers.stateId
                    WHERE states.status != ?)
                ORDER BY name, version
                """, arguments: [StateStatus.pruned.rawValue])
            for trove in unused {
                try db.execute(sql: "DELETE FROM stateMembers WHERE troveId = ?", arguments: [trove.id])
                _ = try trove.delete(db)
            }
            // Initramfs images Conary built belong to their states' kernel records, not to a trove.
            try db.execute(sql: """
                DELETE FROM objects WHERE id NOT IN (SELECT objectId FROM files WHERE objectId IS NOT NULL)
                AND id NOT IN (SELECT initrdObject FROM stateKernels JOIN states ON states.id = stateKernels.stateId
                               WHERE initrdObject IS NOT NULL AND states.status != ?)
                """, arguments: [StateStatus.pruned.rawValue])
            return unused.map(\.spec)
        }
        FaultInjection.point("gc.recorded")
        let known = Set(try database.read { try String.fetchAll($0, sql: "SELECT id FROM objects") })
        var removed = 0
        var freed: Int64 = 0
        for id in try store.storedObjectIDs() where !known.contains(id) {
            freed += Int64(FileSystem.lstat(ObjectStore.relativePath(id), relativeTo: store.directory.fd)?.st_size ?? 0)
            try store.remove(id)
            removed += 1
            if removed == 1 { FaultInjection.point("gc.deleting") }
        }
        return GarbageReport(droppedTroves: dropped, removedObjects: removed, freedBytes: freed)
    }
}
