import ConaryModel
import Foundation
import GRDB

/// Trove records (each trove described in full, stored once as an object) and states
/// restored from their manifests.
extension DatabaseSession {
    /// Everything recorded about a trove.
    public func record(of trove: Trove) throws -> TroveRecord {
        TroveRecord(trove: trove, files: try files(of: [trove]).map(\.entry), dependencies: try dependencies(of: trove.id!),
                    scriptlets: try scriptlets(of: trove.id!))
    }

    public func kernels(ofState id: Int64) throws -> [StateKernel] {
        try StateKernel.filter(Column("stateId") == id).order(Column("version")).fetchAll(db)
    }

    public func scriptlets(of troveID: Int64) throws -> [Scriptlet] {
        try Row.fetchAll(db, sql: "SELECT name, interpreter, body FROM scriptlets WHERE troveId = ? ORDER BY name",
                         arguments: [troveID]).map { Scriptlet(name: $0[0], interpreter: $0[1], body: $0[2]) }
    }

    /// The record object of each trove that has one, by trove id.
    public func recordObjects(of troves: [Trove]) throws -> [Int64: String] {
        guard !troves.isEmpty else { return [:] }
        let ids = troves.map { String($0.id!) }.joined(separator: ",")
        return Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: """
            SELECT id, recordObject FROM troves WHERE id IN (\(ids)) AND recordObject IS NOT NULL
            """).map { ($0[0] as Int64, $0[1] as String) })
    }

    /// Records that trove `troveID` is described by object `id` (stored already).
    public func setRecordObject(_ id: String, sha256: String, size: Int64, of troveID: Int64) throws {
        try recordObject(id, sha256: sha256, size: size)
        try db.execute(sql: "UPDATE troves SET recordObject = ? WHERE id = ?", arguments: [id, troveID])
    }

    /// Forgets those of `ids` that are trove records (lost from the store), so the next
    /// manifest that needs them stores them again; returns the ones it forgot.
    public func forgetRecordObjects(_ ids: Set<String>) throws -> Set<String> {
        var forgotten: Set<String> = []
        for id in ids {
            try db.execute(sql: "UPDATE troves SET recordObject = NULL WHERE recordObject = ?", arguments: [id])
            if db.changesCount > 0 { forgotten.insert(id) }
        }
        return forgotten
    }

    /// A trove record read back from the store, with what the objects table keeps of it.
    public struct StoredRecord: Sendable {
        public let record: TroveRecord
        public let sha256: String
        public let size: Int64

        public init(record: TroveRecord, sha256: String, size: Int64) {
            self.record = record
            self.sha256 = sha256
            self.size = size
        }
    }

    /// Records a state read from its manifest, with `status`, and its troves from their
    /// records. Troves recorded already (same name, version and flavor) are shared, as they
    /// were. `objectSize` gives the size of a kernel or initramfs object.
    public func restore(_ manifest: StateManifest, records: [String: StoredRecord], status: StateStatus,
                        objectSize: (String) throws -> Int64) throws {
        var ids: [Int64] = []
        for member in manifest.troves {
            guard let stored = records[member.record] else { throw DatabaseError.unknownObject(member.record) }
            let record = stored.record
            if let existing = try trove(named: record.trove.name, version: record.trove.version, flavor: record.trove.flavor) {
                ids.append(existing.id!)
                continue
            }
            var trove = record.trove
            try insert(&trove)
            try insertFiles(record.files, troveID: trove.id!)
            try insertDependencies(record.dependencies, troveID: trove.id!)
            try insertScriptlets(record.scriptlets, troveID: trove.id!)
            try setRecordObject(member.record, sha256: stored.sha256, size: stored.size, of: trove.id!)
            ids.append(trove.id!)
        }
        var state = manifest.state
        state.status = status
        state.pinned = false
        try state.insert(db)
        for (index, member) in manifest.troves.enumerated() {
            try StateMember(stateId: state.id, troveId: ids[index], reason: member.reason).insert(db, onConflict: .ignore)
        }
        for var kernel in manifest.kernels {
            kernel.stateId = state.id
            try recordObject(kernel.kernelObject, sha256: kernel.kernelSHA256, size: try objectSize(kernel.kernelObject))
            if let initrd = kernel.initrdObject, let sum = kernel.initrdSHA256 {
                try recordObject(initrd, sha256: sum, size: try objectSize(initrd))
            }
            try kernel.insert(db)
        }
    }

    /// Links every component to its package (the trove of its package name, version and
    /// flavor), where both are recorded and not linked yet.
    public func linkComponentsToPackages() throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO troveMembers (parentId, childId)
            SELECT package.id, component.id FROM troves component JOIN troves package
              ON package.kind = ? AND component.kind = ? AND package.version = component.version
             AND package.flavor = component.flavor AND substr(component.name, 1, length(package.name) + 1) = package.name || ':'
            """, arguments: [TroveKind.package.rawValue, TroveKind.component.rawValue])
    }
}
