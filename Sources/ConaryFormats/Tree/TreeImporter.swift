import ConaryVersions
import ConaryDatabase
import ConaryStore
import ConarySupport
import ConaryModel
import Foundation

/// `conary commit DIR`: turns a directory tree into a trove whose files are in the store.
public enum TreeImporter {
    public struct Summary: Sendable {
        public let trove: Trove
        public let files: Int
        public let newObjects: Int
        public let bytes: Int64
    }

    package static func importTree(at directory: String, name: String, version: String, store: ObjectStore, database: StateDatabase) throws -> Summary {
        try TroveName.check(name: name, version: version)
        if try !database.read({ try $0.troves(named: name, version: version) }).isEmpty {
            throw PackageError.troveExists(name: name, version: version)
        }
        var entries = try TreeScanner.scan(directory)
        let intake = try store.beginIntake()
        let top = try Descriptor.directory(directory)
        let regular = entries.indices.filter { entries[$0].kind == .regular }
        try ingestInParallel(regular, entries: &entries, top: top.fd, display: directory, intake: intake)
        let verityDigests = try intake.place()

        var trove = Trove(id: nil, name: name, version: version, kind: .package, format: .tree,
                          source: "commit of \(directory)", created: Date())
        let newObjects = try database.write { session -> Int in
            let before = try session.objectCount()
            try session.insert(&trove)
            try session.insertFiles(entries, troveID: trove.id!)
            for (id, digest) in verityDigests { try session.recordVerityDigest(id: id, digest: digest) }
            return try session.objectCount() - before
        }
        FaultInjection.point("import.recorded")
        return Summary(trove: trove, files: entries.count, newObjects: newObjects,
                       bytes: regular.reduce(0) { $0 + entries[$1].size })
    }

    /// Hashes and stores the regular files on every core.
    private static func ingestInParallel(_ indices: [Int], entries: inout [FileEntry], top: Int32, display: String, intake: ObjectIntake) throws {
        var results = [(objectID: String, sha256: String, size: Int64)?](repeating: nil, count: indices.count)
        let snapshot = entries
        try results.withUnsafeMutableBufferPointer { slots in
            try Parallel.forEach(indices.count, makeContext: { ReadBuffer() }) { position, buffer in
                slots[position] = try ingest(snapshot[indices[position]], top: top, display: display, intake: intake, buffer: buffer)
            }
        }
        for (position, index) in indices.enumerated() {
            entries[index].objectID = results[position]!.objectID
            entries[index].sha256 = results[position]!.sha256
        }
    }

    private static func ingest(_ entry: FileEntry, top: Int32, display: String, intake: ObjectIntake, buffer: ReadBuffer) throws -> (objectID: String, sha256: String, size: Int64) {
        let relative = String(entry.path.dropFirst())
        let file = try Descriptor.open(relative, relativeTo: top, flags: O_RDONLY | O_NOFOLLOW | O_NOCTTY)
        let xattrs = try ExtendedAttributes.read(fd: file.fd, path: display + entry.path)
        let metadata = ObjectMetadata(packageMode: entry.mode, uid: entry.uid, gid: entry.gid, xattrs: xattrs)
        let result = try intake.ingest(source: file.fd, path: display + entry.path, metadata: metadata, buffer: buffer)
        if result.size != entry.size { throw StoreError.changedDuringImport(display + entry.path) }
        return result
    }
}
