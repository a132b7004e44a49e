import ConaryModel
import Foundation
import GRDB

/// Objects of the store, the kernels each state can boot, and garbage collection.
extension DatabaseSession {
    /// Records that the store holds object `id` (once).
    public func recordObject(_ id: String, sha256: String, size: Int64) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO objects (id, sha256, size) VALUES (?, ?, ?)").execute(arguments: [id, sha256, size])
    }

    /// Records the fs-verity digest the store measured when it sealed object `id` (recorded already).
    public func recordVerityDigest(id: String, digest: String) throws {
        try db.cachedStatement(sql: "UPDATE objects SET verityDigest = ? WHERE id = ?").execute(arguments: [digest, id])
    }

    /// The recorded verity digest of every sealed object, by object id; an object missing
    /// here was stored where its filesystem could not seal it.
    public func verityDigests() throws -> [String: String] {
        var digests: [String: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, verityDigest FROM objects WHERE verityDigest IS NOT NULL") {
            digests[row["id"]] = row["verityDigest"]
        }
        return digests
    }

    public func objectCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM objects") ?? 0
    }

    public func knownObjectIDs() throws -> Set<String> {
        Set(try String.fetchAll(db, sql: "SELECT id FROM objects"))
    }

    /// The SHA-256 of an object's content.
    public func contentSHA256(ofObject id: String) throws -> String {
        guard let sum = try String.fetchOne(db, sql: "SELECT sha256 FROM objects WHERE id = ?", arguments: [id]) else {
            throw DatabaseError.unknownObject(id)
        }
        return sum
    }

    // MARK: Kernels

    public func insertKernels(_ kernels: [StateKernel]) throws {
        for kernel in kernels { try kernel.insert(db) }
    }

    public func updateKernels(_ kernels: [StateKernel]) throws {
        for kernel in kernels { try kernel.update(db) }
    }

    /// Every state's kernels, by state.
    public func kernelsByState() throws -> [Int64: [StateKernel]] {
        Dictionary(grouping: try StateKernel.fetchAll(db), by: \.stateId)
    }

    // MARK: Garbage

    /// Drops the troves that no kept (non-pruned) state uses, and then the objects that no
    /// remaining file and no kept state's initramfs uses. Returns the troves dropped.
    public func dropUnusedTrovesAndObjects() throws -> [Trove] {
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
        // Initramfs images Conary built belong to their states' kernel records, and trove
        // records to their troves.
        try db.execute(sql: """
            DELETE FROM objects WHERE id NOT IN (SELECT objectId FROM files WHERE objectId IS NOT NULL)
            AND id NOT IN (SELECT recordObject FROM troves WHERE recordObject IS NOT NULL)
            AND id NOT IN (SELECT initrdObject FROM stateKernels JOIN states ON states.id = stateKernels.stateId
                           WHERE initrdObject IS NOT NULL AND states.status != ?)
            """, arguments: [StateStatus.pruned.rawValue])
        return unused
    }
}
