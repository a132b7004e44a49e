import ConaryVersions
import ConaryStore
import ConarySupport
import ConaryModel
/// Imports a CCS package: the signature is checked against the root's trusted keys before
/// any content is read, then every content member is checked against the manifest.
enum CCSReader {
    static func read(_ path: String, display: String, intake: ObjectIntake, limits: ImportLimits, trustedKeys: Set<String>) throws -> PackageManifest {
        let reader = try ArchiveReader(file: path, container: .tar, name: display)
        let (manifest, signature, firstContent) = try CCSPackage.readHead(reader, display: display, trustedKeys: trustedKeys)
        let buffer = ReadBuffer()
        let packageSize = Int64(FileSystem.lstat(path)?.st_size ?? 0)
        var objects: [String: (objectID: String, sha256: String, size: Int64)] = [:]
        var unpacked: Int64 = 0
        var next = try firstContent ?? reader.next()
        while let entry = next {
            let file = try CCSPackage.contentFile(entry, manifest: manifest, display: display)
            let metadata = ObjectMetadata(packageMode: file.mode & 0o7777, uid: file.uid, gid: file.gid)
            let stored = try intake.ingest(path: "\(display):\(file.path)", metadata: metadata, buffer: buffer,
                                           read: { try reader.read(into: $0) }, observe: { _ in })
            guard stored.sha256 == file.sha256, stored.size == file.size else { throw PackageError.checksumMismatch(display, file.path) }
            unpacked += stored.size
            try limits.checkExpansion(unpacked: unpacked, packageSize: packageSize, package: display)
            objects[CCSPackage.objectKey(file)] = stored
            next = try reader.next()
        }
        var ledger = PayloadLedger()
        for file in manifest.files {
            guard let path = try PayloadPath.normalize(file.path, package: display) else { continue }
            guard let kind = FileKind(rawValue: file.kind) else {
                throw PackageError.unsafeEntry(display, file.path, "has an unknown file kind \(file.kind)")
            }
            var entry = FileEntry(path: path, kind: kind, size: 0, mode: file.mode & 0o7777, uid: file.uid, gid: file.gid,
                                  target: file.target, flags: FileFlags(rawValue: file.flags))
            if kind == .regular {
                guard let object = objects[CCSPackage.objectKey(file)] else {
                    throw PackageError.malformed(display, "it has no content for \(file.path)")
                }
                entry.objectID = object.objectID
                entry.sha256 = object.sha256
                entry.size = object.size
            }
            try ledger.add(entry, package: display)
        }
        guard (try? NativeVersion.check(manifest.version)) != nil else {
            throw PackageError.malformed(display, "its version \(manifest.version) is not a well-formed Conary version")
        }
        var result = PackageManifest(name: manifest.name, version: manifest.version, arch: manifest.arch, summary: manifest.summary,
                                     format: .ccs, files: ledger.files)
        result.flavor = try manifest.flavor.map { try Flavor($0) } ?? .empty
        result.signature = signature.map { "verified (key \(CCSSigning.keyID($0.publicKey)))" } ?? "unsigned"
        result.dependencies = try manifest.dependencies.map { relation in
            guard let kind = Dependency.Relation(rawValue: relation.relation) else {
                throw PackageError.malformed(display, "its manifest has an unknown relation \(relation.relation)")
            }
            return Dependency(relation: kind, capability: relation.capability, comparison: relation.comparison,
                              version: relation.version, alternative: relation.alternative)
        }
        result.scriptlets = manifest.scriptlets.map { Scriptlet(name: $0.name, interpreter: $0.interpreter, body: $0.body) }
        return result
    }

    /// Whether a tar.zst/tar.xz file is a CCS package (its first member is the manifest).
    static func isCCS(_ path: String) -> Bool {
        guard let reader = try? ArchiveReader(file: path, container: .tar, name: path), let first = try? reader.next() else { return false }
        return first.path == CCSPackage.manifestMember
    }
}
