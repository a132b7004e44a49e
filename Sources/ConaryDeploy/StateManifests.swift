import ConaryDatabase
import ConaryModel
import ConaryStore
import ConarySupport
import Foundation

/// Makes the manifest of a state: the records its troves lack are stored first, once per
/// trove, as objects (so a state costs its new troves, not its files), then the manifest
/// names each by id. Reads records back for a rebuild, checked against their ids.
public struct StateManifests {
    let database: StateDatabase
    let store: ObjectStore

    public init(database: StateDatabase, store: ObjectStore) {
        self.database = database
        self.store = store
    }

    /// Records are plain read-only files owned by root, like any object.
    static let recordMetadata = ObjectMetadata(packageMode: 0o444, uid: 0, gid: 0)

    /// The manifest of state `id`, storing the trove records it needs.
    public func manifest(ofState id: Int64) throws -> StateManifest {
        let (state, troves, reasons, kernels) = try database.read {
            (try $0.state(id), try $0.members(ofState: id), try $0.reasons(ofState: id), try $0.kernels(ofState: id))
        }
        var records = try database.read { try $0.recordObjects(of: troves) }
        let lacking = troves.filter { trove in records[trove.id!].map { !store.contains($0) } ?? true }
        if !lacking.isEmpty { records.merge(try storeRecords(of: lacking)) { $1 } }
        return StateManifest(state: state, troves: troves.map {
            StateManifest.Member(record: records[$0.id!]!, trove: TroveRecord.label($0), reason: reasons[$0.id!] ?? .explicit)
        }, kernels: kernels)
    }

    private func storeRecords(of troves: [Trove]) throws -> [Int64: String] {
        let records = try database.read { session in try troves.map { try session.record(of: $0) } }
        let intake = try store.beginIntake()
        var stored: [(trove: Int64, id: String, sha256: String, size: Int64)] = []
        let verityDigests: [String: String]
        do {
            let buffer = ReadBuffer()
            for (trove, record) in zip(troves, records) {
                let bytes = try Self.encode(record)
                var offset = 0
                let (id, sha256, size) = try intake.ingest(path: "the record of \(trove.spec)", metadata: Self.recordMetadata, buffer: buffer,
                                                           read: { chunk in
                    let count = min(chunk.count, bytes.count - offset)
                    bytes.withUnsafeBytes { chunk.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
                    offset += count
                    return count
                }, observe: { _ in })
                stored.append((trove.id!, id, sha256, size))
            }
            verityDigests = try intake.place()
        } catch {
            try? intake.discard()
            throw error
        }
        // A crash before this leaves objects no row names: the next gc sweeps them.
        try database.write { session in
            for record in stored { try session.setRecordObject(record.id, sha256: record.sha256, size: record.size, of: record.trove) }
            for (id, digest) in verityDigests { try session.recordVerityDigest(id: id, digest: digest) }
        }
        return Dictionary(stored.map { ($0.trove, $0.id) }, uniquingKeysWith: { first, _ in first })
    }

    /// The trove record stored as object `id`; nil when the store lacks it or its content no
    /// longer matches its id.
    public static func storedRecord(_ id: String, in store: ObjectStore) throws -> DatabaseSession.StoredRecord? {
        guard store.contains(id) else { return nil }
        guard try store.matchesID(id, buffer: ReadBuffer()),
              let bytes = try FileSystem.readFile(ObjectStore.relativePath(id), relativeTo: store.directory.fd, limit: StateTrees.manifestLimit),
              let record = try? JSONDecoder().decode(TroveRecord.self, from: Data(bytes)) else { return nil }
        return DatabaseSession.StoredRecord(record: record, sha256: Hashing.sha256Hex(bytes), size: Int64(bytes.count))
    }

    /// JSON with sorted keys: the same record always makes the same object.
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }
}
