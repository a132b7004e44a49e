import ConaryVersions
import ConarySupport
import ConaryModel
import Foundation

/// Building, signing, inspecting and verifying CCS packages (Docs/ccs.md). Members, in order:
/// MANIFEST.json, SIGNATURE.json (when signed), then files/N: the content of manifest file N,
/// once per distinct object (content, mode, owner).
public enum CCSPackage {
    /// Writes a new key pair as PREFIX.secret (mode 0600) and PREFIX.pub, hex encoded.
    public static func generateKeys(prefix: String) throws -> String {
        let pair = try CCSSigning.generate()
        let publicKey = CCSSigning.hex(pair.publicKey)
        // Split by hand: NSString.deletingLastPathComponent traps on "k" and "k/".
        let slash = prefix.lastIndex(of: "/")
        let base = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
        guard !base.isEmpty else { throw PackageError.writeFailed(path: prefix, detail: "a key prefix ends in a file name") }
        let parent = try Descriptor.directory(slash.map { String(prefix[...$0]) } ?? ".")
        for (suffix, text, mode) in [(".secret", CCSSigning.hex(pair.secretKey), mode_t(0o600)), (".pub", publicKey, mode_t(0o644))] {
            try FileSystem.writeAtomically(text + "\n", to: base + suffix, relativeTo: parent.fd, mode: mode)
        }
        return CCSSigning.keyID(publicKey)
    }

    /// Reads a hex key file written by `generateKeys`.
    public static func readKey(_ path: String, bytes expected: Int) throws -> [UInt8] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let key = CCSSigning.bytes(text.trimmingCharacters(in: .whitespacesAndNewlines)), key.count == expected else {
            throw PackageError.invalidKey("\(path) is not a key file written by conary ccs keygen.")
        }
        return key
    }

    /// The manifest and signature of a package, checked but not trusted, for `ccs inspect`.
    public static func inspect(_ path: String) throws -> (manifest: String, signedBy: String?) {
        let display = (path as NSString).lastPathComponent
        let reader = try ArchiveReader(file: path, container: .tar, name: display)
        let (manifest, signature, _) = try readHead(reader, display: display, trustedKeys: nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (String(decoding: try encoder.encode(manifest), as: UTF8.self), signature.map { CCSSigning.keyID($0.publicKey) })
    }

    static let manifestMember = "MANIFEST.json"
    static let signatureMember = "SIGNATURE.json"
    static let contentPrefix = "files/"

    public struct Metadata {
        public var name: String
        public var version: String
        public var arch: String?
        public var summary: String?
        public var flavor: Flavor = .empty
        /// "glibc >= 2.34" style relations.
        public var requires: [String] = []
        public var provides: [String] = []

        public init(name: String, version: String, arch: String? = nil, summary: String? = nil) {
            self.name = name
            self.version = version
            self.arch = arch
            self.summary = summary
        }
    }

    public struct Report: Sendable {
        public let name: String
        public let version: String
        public let files: Int
        public let merkleRoot: String
        /// The signing key's id, nil when unsigned.
        public let signedBy: String?
        public let trusted: Bool
    }

    /// Writes DIR's tree as a CCS package, signed when a secret key is given.
    public static func build(directory: String, output: String, metadata: Metadata, secretKey: [UInt8]?) throws -> Report {
        try TroveName.check(name: metadata.name, version: metadata.version)
        let items = try TreeScanner.scan(directory)
        let top = try Descriptor.directory(directory)
        let buffer = ReadBuffer()
        var files: [CCSManifest.File] = []
        for item in items.sorted(by: { $0.path < $1.path }) {
            var sha256: String?
            if item.kind == .regular {
                let file = try Descriptor.open(String(item.path.dropFirst()), relativeTo: top.fd, flags: O_RDONLY | O_NOFOLLOW)
                sha256 = try Hashing.stream(from: file.fd, path: directory + item.path, buffer: buffer.pointer).sha256
            }
            files.append(.init(path: item.path, kind: item.kind.rawValue, mode: item.mode, uid: item.uid, gid: item.gid,
                               size: item.size, sha256: sha256, target: item.target,
                               flags: item.path.hasPrefix("/etc/") ? FileFlags([.config, .noreplace]).rawValue : 0))
        }
        let relations = metadata.requires.map { relation($0, .requires) } + metadata.provides.map { relation($0, .provides) }
        let manifest = CCSManifest(name: metadata.name, version: metadata.version, arch: metadata.arch, summary: metadata.summary,
                                   flavor: metadata.flavor == .empty ? nil : metadata.flavor.description,
                                   dependencies: relations.enumerated().map { index, value in
                                       var numbered = value
                                       numbered.alternative = index
                                       return numbered
                                   },
                                   scriptlets: [], files: files, merkleRoot: try CCSManifest.merkleRoot(of: files))
        let manifestBytes = try manifest.canonicalJSON()
        let signature = try secretKey.map { try CCSSigning.sign(manifestBytes, with: $0) }
        let writer = try ArchiveWriter(path: output)
        try writer.addFile(manifestMember, bytes: manifestBytes)
        if let signature { try writer.addFile(signatureMember, bytes: Array(try CCSManifest.encoder.encode(signature))) }
        var written: Set<String> = []
        for (index, file) in files.enumerated() where file.kind == FileKind.regular.rawValue {
            guard written.insert(objectKey(file)).inserted else { continue }
            let source = try Descriptor.open(String(file.path.dropFirst()), relativeTo: top.fd, flags: O_RDONLY | O_NOFOLLOW)
            try writer.addFile(contentPrefix + String(index), size: file.size) { write in
                while true {
                    let count = read(source.fd, buffer.pointer.baseAddress, buffer.pointer.count)
                    if count < 0 { throw SystemError(operation: "Reading", path: directory + file.path, errno: errno) }
                    if count == 0 { break }
                    try write(UnsafeRawBufferPointer(rebasing: buffer.pointer[0..<count]))
                }
            }
        }
        try writer.finish()
        return Report(name: manifest.name, version: manifest.version, files: files.count, merkleRoot: manifest.merkleRoot,
                      signedBy: signature.map { CCSSigning.keyID($0.publicKey) }, trusted: false)
    }

    /// Re-signs a package: the same members with a new SIGNATURE.json, written atomically.
    public static func sign(_ path: String, secretKey: [UInt8]) throws -> Report {
        let display = (path as NSString).lastPathComponent
        let reader = try ArchiveReader(file: path, container: .tar, name: display)
        let (manifest, manifestBytes) = try readManifest(reader, display: display)
        let signature = try CCSSigning.sign(manifestBytes, with: secretKey)
        let writer = try ArchiveWriter(path: path)
        try writer.addFile(manifestMember, bytes: manifestBytes)
        try writer.addFile(signatureMember, bytes: Array(try CCSManifest.encoder.encode(signature)))
        let buffer = ReadBuffer()
        while let entry = try reader.next() {
            guard entry.path.hasPrefix(contentPrefix) else { continue }
            try writer.addFile(entry.path, size: entry.size) { write in
                while case let count = try reader.read(into: buffer.pointer), count > 0 {
                    try write(UnsafeRawBufferPointer(rebasing: buffer.pointer[0..<count]))
                }
            }
        }
        try writer.finish()
        return Report(name: manifest.name, version: manifest.version, files: manifest.files.count, merkleRoot: manifest.merkleRoot,
                      signedBy: CCSSigning.keyID(signature.publicKey), trusted: false)
    }

    /// Checks the manifest's Merkle root, the signature, and every content member's digest.
    /// With `trustedKeys`, an unsigned package or one signed by another key is an error.
    public static func verify(_ path: String, trustedKeys: Set<String>?) throws -> Report {
        let display = (path as NSString).lastPathComponent
        let reader = try ArchiveReader(file: path, container: .tar, name: display)
        let (manifest, signature, firstContent) = try readHead(reader, display: display, trustedKeys: trustedKeys)
        let buffer = ReadBuffer()
        var covered: Set<String> = []
        var next = try firstContent ?? reader.next()
        while let entry = next {
            let file = try contentFile(entry, manifest: manifest, display: display)
            let (sha256, size) = try Hashing.stream(reading: { try reader.read(into: $0) }, buffer: buffer.pointer)
            guard sha256 == file.sha256, size == file.size else { throw PackageError.checksumMismatch(display, file.path) }
            covered.insert(objectKey(file))
            next = try reader.next()
        }
        if let missing = manifest.files.first(where: { $0.kind == FileKind.regular.rawValue && !covered.contains(objectKey($0)) }) {
            throw PackageError.malformed(display, "it has no content for \(missing.path)")
        }
        return Report(name: manifest.name, version: manifest.version, files: manifest.files.count, merkleRoot: manifest.merkleRoot,
                      signedBy: signature.map { CCSSigning.keyID($0.publicKey) },
                      trusted: signature.map { trustedKeys?.contains($0.publicKey) ?? false } ?? false)
    }

    /// The manifest, checked against its Merkle root and, before any content is read, its signature.
    /// Also returns the first content member when there is no signature member to consume.
    static func readHead(_ reader: ArchiveReader, display: String, trustedKeys: Set<String>?)
        throws -> (manifest: CCSManifest, signature: CCSSigning.Signature?, firstContent: ArchiveReader.Entry?) {
        let (manifest, manifestBytes) = try readManifest(reader, display: display)
        var signature: CCSSigning.Signature?
        var firstContent = try reader.next()
        if let entry = firstContent, entry.path == signatureMember {
            guard let decoded = try? JSONDecoder().decode(CCSSigning.Signature.self, from: Data(try reader.readAll(limit: 4096))) else {
                throw PackageError.malformed(display, "its signature cannot be read")
            }
            guard CCSSigning.isValid(decoded, for: manifestBytes) else { throw PackageError.badSignature(display) }
            signature = decoded
            firstContent = nil
        }
        if let trustedKeys {
            guard let signature else { throw PackageError.unsigned(display) }
            guard trustedKeys.contains(signature.publicKey) else {
                throw PackageError.untrustedKey(display, CCSSigning.keyID(signature.publicKey))
            }
        }
        return (manifest, signature, firstContent)
    }

    private static func readManifest(_ reader: ArchiveReader, display: String) throws -> (CCSManifest, [UInt8]) {
        guard let first = try reader.next(), first.path == manifestMember else {
            throw PackageError.malformed(display, "\(manifestMember) is not its first member")
        }
        let bytes = try reader.readAll(limit: ImportLimits().maxControlBytes)
        guard let manifest = try? JSONDecoder().decode(CCSManifest.self, from: Data(bytes)), manifest.format == CCSManifest.formatName else {
            throw PackageError.malformed(display, "its manifest is not a \(CCSManifest.formatName) manifest")
        }
        guard try CCSManifest.merkleRoot(of: manifest.files) == manifest.merkleRoot else {
            throw PackageError.checksumMismatch(display, "the manifest's file list")
        }
        return (manifest, bytes)
    }

    /// The manifest file a content member carries.
    static func contentFile(_ entry: ArchiveReader.Entry, manifest: CCSManifest, display: String) throws -> CCSManifest.File {
        guard entry.path.hasPrefix(contentPrefix), let index = Int(entry.path.dropFirst(contentPrefix.count)),
              manifest.files.indices.contains(index), manifest.files[index].kind == FileKind.regular.rawValue else {
            throw PackageError.unsafeEntry(display, entry.path, "is not a content member its manifest lists")
        }
        return manifest.files[index]
    }

    /// Files sharing content, mode and owner share one object, and one content member.
    static func objectKey(_ file: CCSManifest.File) -> String {
        "\(file.sha256 ?? "") \(FileEntry.deployedMode(file.mode)) \(file.uid) \(file.gid)"
    }

    private static func relation(_ text: String, _ kind: Dependency.Relation) -> CCSManifest.Relation {
        let parts = text.split(separator: " ").map(String.init)
        return CCSManifest.Relation(relation: kind.rawValue, capability: parts.first ?? text,
                                    comparison: parts.count == 3 ? parts[1] : nil, version: parts.count == 3 ? parts[2] : nil,
                                    alternative: 0)
    }
}
