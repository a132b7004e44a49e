import ConaryDatabase
import ConaryStore
import ConarySupport
import ConaryModel
import ConaryVersions
import Crypto
import Foundation

/// Imports package files (detected by their magic bytes) into the store as package troves
/// with component troves. All or nothing: if one package is refused, none is imported.
public enum PackageImporter {
    /// `trustedKeys` are the hex Ed25519 public keys whose CCS signatures this root accepts.
    package static func importPackages(_ paths: [String], store: ObjectStore, database: StateDatabase, trustedKeys: Set<String>,
                               limits: ImportLimits = ImportLimits()) throws -> [Trove] {
        guard !paths.isEmpty else { return [] }
        let intake = try store.beginIntake()
        var read = [(manifest: PackageManifest, sha256: String, display: String)?](repeating: nil, count: paths.count)
        let verityDigests: [String: String]
        do {
            try read.withUnsafeMutableBufferPointer { slots in
                try Parallel.forEach(paths.count, makeContext: { ReadBuffer() }) { index, buffer in
                    let path = paths[index]
                    let display = (path as NSString).lastPathComponent
                    let manifest: PackageManifest
                    switch try detect(path, display: display) {
                    case .deb: manifest = try DebReader.read(path, display: display, intake: intake, limits: limits)
                    case .arch: manifest = try ArchReader.read(path, display: display, intake: intake, limits: limits)
                    case .rpm: manifest = try RPMReader.read(path, display: display, intake: intake, limits: limits)
                    case .ccs: manifest = try CCSReader.read(path, display: display, intake: intake, limits: limits, trustedKeys: trustedKeys)
                    case .tree: throw PackageError.unknownFormat(display)
                    }
                    // The rules `commit` applies, so that every stored trove can be named again.
                    do { try TroveName.check(name: manifest.name, version: manifest.version) } catch let error as VersionError {
                        throw PackageError.invalidIdentity(display, error)
                    }
                    slots[index] = (manifest, try fileSHA256(path, buffer: buffer), display)
                }
            }
            verityDigests = try intake.place()
        } catch {
            try? intake.discard()
            throw error
        }
        return try database.write { session in
            let troves = try read.map { entry in
                let (manifest, sha256, display) = entry!
                return try record(manifest, sha256: sha256, source: display, store: store, session: session)
            }
            for (id, digest) in verityDigests { try session.recordVerityDigest(id: id, digest: digest) }
            return troves
        }
    }

    /// The format of a package file, from its first bytes (never `.tree`).
    package static func detect(_ path: String, display: String) throws -> PackageFormat {
        let file = try Descriptor.open(path, flags: O_RDONLY)
        var head = [UInt8](repeating: 0, count: 8)
        let count = read(file.fd, &head, head.count)
        if count == 8 && head == DebReader.magic { return .deb }
        if head.starts(with: RPMReader.leadMagic) { return .rpm }
        if head.starts(with: ArchReader.zstdMagic) || head.starts(with: ArchReader.xzMagic) {
            return CCSReader.isCCS(path) ? .ccs : .arch
        }
        throw PackageError.unknownFormat(display)
    }

    private static func fileSHA256(_ path: String, buffer: ReadBuffer) throws -> String {
        let file = try Descriptor.open(path, flags: O_RDONLY)
        return try Hashing.stream(from: file.fd, path: path, buffer: buffer.pointer).sha256
    }

    /// Inserts the package trove, one component trove per component, files, dependencies and
    /// scriptlets. The same package imported again is the trove already there.
    private static func record(_ manifest: PackageManifest, sha256: String, source: String, store: ObjectStore,
                               session: DatabaseSession) throws -> Trove {
        let flavor = manifest.flavor.description
        if let existing = try session.trove(named: manifest.name, version: manifest.version, flavor: flavor) {
            guard existing.sha256 == sha256 else { throw PackageError.differentContent(source, existing.spec) }
            return existing
        }
        var package = Trove(id: nil, name: manifest.name, version: manifest.version, kind: .package, format: manifest.format,
                            source: source, created: Date(), flavor: flavor, arch: manifest.arch, summary: manifest.summary,
                            license: manifest.license, url: manifest.url,
                            sha256: sha256, signature: manifest.signature)
        try session.insert(&package)
        let byComponent = Dictionary(grouping: manifest.files) { ComponentRules.component(for: $0.path, kind: $0.kind) }
        for (component, files) in byComponent.sorted(by: { $0.key < $1.key }) {
            var trove = Trove(id: nil, name: "\(manifest.name):\(component)", version: manifest.version, kind: .component,
                              format: manifest.format, source: source, created: package.created, flavor: flavor, arch: manifest.arch)
            try session.insert(&trove)
            try session.link(component: trove.id!, toPackage: package.id!)
            try session.insertFiles(files, troveID: trove.id!)
            // soname(…) and pkgconfig(…) belong to the component whose files carry them.
            try session.insertDependencies(ContentProvides.derive(files, store: store), troveID: trove.id!)
        }
        try session.insertDependencies(manifest.dependencies, troveID: package.id!)
        try session.insertScriptlets(manifest.scriptlets, troveID: package.id!)
        return package
    }
}
