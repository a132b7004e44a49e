import ConaryVersions
import ConaryStore
import ConarySupport
import ConaryModel
import Crypto
import Foundation

/// Reads an RPM package: lead, signature header and main header parsed here; the cpio
/// payload (gzip, xz or zstd) streamed through libarchive. The header digest, the payload
/// digest and every file digest are checked.
enum RPMReader {
    static let leadMagic: [UInt8] = [0xED, 0xAB, 0xEE, 0xDB]
    private static let leadSize = 96

    /// RPMFILE_* and RPMSENSE_* bits from rpm's headers.
    private enum Bits {
        static let config: Int64 = 1, doc: Int64 = 2, noreplace: Int64 = 16, ghost: Int64 = 64
        static let less: Int64 = 2, greater: Int64 = 4, equal: Int64 = 8
        static let prerequisite: Int64 = 64 | 512 | 1024  // PREREQ, SCRIPT_PRE, SCRIPT_POST
    }

    static func read(_ path: String, display: String, intake: ObjectIntake, limits: ImportLimits = ImportLimits()) throws -> PackageManifest {
        let file = try Descriptor.open(path, flags: O_RDONLY)
        _ = try readExactly(file.fd, leadSize, display)
        let signature = try readHeader(file.fd, display)
        let padding = (8 - signature.bytes.count % 8) % 8
        _ = try readExactly(file.fd, padding, display)
        let header = try readHeader(file.fd, display)
        if let expected = signature.string(RPMTag.sigSHA256), SHA256.hash(data: Array(header.bytes)).hex != expected {
            throw PackageError.checksumMismatch(display, "the main header")
        }
        guard let name = header.string(RPMTag.name) else { throw PackageError.missingField(display, "Name") }
        guard let version = header.string(RPMTag.version), let release = header.string(RPMTag.release) else {
            throw PackageError.missingField(display, "Version")
        }
        let epoch = header.integers(RPMTag.epoch).first.map { "\($0):" } ?? ""
        var manifest = PackageManifest(name: name, version: "\(epoch)\(version)-\(release)", arch: header.string(RPMTag.arch),
                                       summary: header.string(RPMTag.summary), license: header.string(RPMTag.license),
                                       url: header.string(RPMTag.url), format: .rpm)
        manifest.flavor = Flavor.architecture(manifest.arch)
        manifest.dependencies = dependencies(header)
        // Checking OpenPGP signatures needs the keyring work (gpgme); until then say what is there.
        if !RPMTag.signatures.allSatisfy({ signature.values[$0] == nil }) { manifest.signature = "signed, not verified" }
        manifest.scriptlets = RPMTag.scripts.compactMap { script, program, scriptName in
            guard let body = header.string(script) else { return nil }
            return Scriptlet(name: scriptName, interpreter: header.strings(program).joined(separator: " "), body: body)
        }
        manifest.files = try readPayload(file.fd, header: header, display: display, intake: intake, limits: limits,
                                         packageSize: Int64(try file.stat().st_size))
        return manifest
    }

    private static func readHeader(_ fd: Int32, _ display: String) throws -> RPMHeader {
        let intro = try readExactly(fd, 16, display)
        let count = Int(RPMHeader.uint32(intro[...], 8)), size = Int(RPMHeader.uint32(intro[...], 12))
        guard count <= RPMHeader.maxEntries, size <= RPMHeader.maxDataBytes else {
            throw PackageError.malformed(display, "its RPM header is implausibly large")
        }
        return try RPMHeader((intro + (try readExactly(fd, count * 16 + size, display)))[...], package: display)
    }

    private static func readExactly(_ fd: Int32, _ count: Int, _ display: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if got < 0 && errno == EINTR { continue }
            if got <= 0 { throw PackageError.malformed(display, "it ends inside its headers") }
            filled += got
        }
        return bytes
    }

    private struct HeaderFile {
        var index: Int
        var mode: UInt32
        var flags: Int64
        var size: Int64
        var digest: String
        var user: String
        var group: String
    }

    private static func headerFiles(_ header: RPMHeader, display: String) throws -> [String: HeaderFile] {
        let names = header.strings(RPMTag.baseNames), dirs = header.strings(RPMTag.dirNames)
        let dirIndexes = header.integers(RPMTag.dirIndexes), modes = header.integers(RPMTag.fileModes)
        let sizes = header.integers(RPMTag.longFileSizes).isEmpty ? header.integers(RPMTag.fileSizes) : header.integers(RPMTag.longFileSizes)
        let flags = header.integers(RPMTag.fileFlags), digests = header.strings(RPMTag.fileDigests)
        let users = header.strings(RPMTag.fileUserName), groups = header.strings(RPMTag.fileGroupName)
        guard [dirIndexes.count, modes.count, sizes.count, flags.count, digests.count, users.count, groups.count]
            .allSatisfy({ $0 == names.count }) else {
            throw PackageError.malformed(display, "its file list tags disagree in length")
        }
        var files: [String: HeaderFile] = [:]
        for index in names.indices {
            guard dirs.indices.contains(Int(dirIndexes[index])) else { throw PackageError.malformed(display, "a file names a missing directory") }
            guard let path = try PayloadPath.normalize(dirs[Int(dirIndexes[index])] + names[index], package: display) else { continue }
            files[path] = HeaderFile(index: index, mode: UInt32(truncatingIfNeeded: modes[index]) & 0xFFFF, flags: flags[index],
                                     size: sizes[index], digest: digests[index], user: users[index], group: groups[index])
        }
        return files
    }

    private static func readPayload(_ fd: Int32, header: RPMHeader, display: String, intake: ObjectIntake,
                                    limits: ImportLimits, packageSize: Int64) throws -> [FileEntry] {
        let listed = try headerFiles(header, display: display)
        let sha256Digests = header.integers(RPMTag.fileDigestAlgo).first == 8
        var payloadHash = SHA256()
        let archive = try ArchiveReader(descriptor: fd, container: .cpio, name: "\(display) (payload)") { payloadHash.update(bufferPointer: $0) }
        var payload = PayloadReader(display: display, intake: intake, limits: limits, packageSize: packageSize)
        var seen: Set<String> = []
        while var entry = try archive.next() {
            guard let path = try PayloadPath.normalize(entry.path, package: display) else { continue }
            guard let file = listed[path] else {
                throw PackageError.unsafeEntry(display, path, "is in the payload but not in the package's file list")
            }
            // The header is what rpm installs from: its mode and owners win over the cpio's.
            entry.mode = file.mode & 0o7777
            entry.uid = try OwnerNames.uid(file.user, package: display)
            entry.gid = try OwnerNames.gid(file.group, package: display)
            var flags: FileFlags = []
            if file.flags & Bits.config != 0 { flags.insert(.config) }
            if file.flags & Bits.noreplace != 0 { flags.insert(.noreplace) }
            if file.flags & Bits.doc != 0 { flags.insert(.doc) }
            let md5 = try payload.add(entry, at: path, from: archive, flags: flags, md5: !sha256Digests && entry.hardlinkTarget == nil)
            if entry.kind == .regular {
                let stored = payload.ledger.file(at: path)!
                if stored.size != file.size { throw PackageError.malformed(display, "\(path) is not the size its header says") }
                if !file.digest.isEmpty && (sha256Digests ? stored.sha256 : md5) != file.digest {
                    throw PackageError.checksumMismatch(display, path)
                }
            }
            seen.insert(path)
        }
        archive.drainSource()
        for (path, file) in listed.sorted(by: { $0.key < $1.key }) where !seen.contains(path) {
            if file.flags & Bits.ghost == 0 {
                guard file.mode & 0o170000 != 0o100000 else { throw PackageError.malformed(display, "its payload lacks \(path)") }
                continue
            }
            // %ghost: owned and recorded, never shipped or deployed.
            let kind: FileKind = file.mode & 0o170000 == 0o040000 ? .directory : file.mode & 0o170000 == 0o120000 ? .symlink : .regular
            try payload.addGhost(FileEntry(path: path, kind: kind, size: file.size, mode: file.mode & 0o7777,
                                           uid: try OwnerNames.uid(file.user, package: display),
                                           gid: try OwnerNames.gid(file.group, package: display), flags: .ghost))
        }
        if header.integers(RPMTag.payloadDigestAlgo).first == 8, let expected = header.string(RPMTag.payloadDigest),
           payloadHash.finalize().hex != expected {
            throw PackageError.checksumMismatch(display, "the payload")
        }
        return payload.ledger.files
    }

    private static func dependencies(_ header: RPMHeader) -> [Dependency] {
        let kinds: [(UInt32, UInt32, UInt32, Dependency.Relation)] = [
            (RPMTag.requireName, RPMTag.requireFlags, RPMTag.requireVersion, .requires),
            (RPMTag.provideName, RPMTag.provideFlags, RPMTag.provideVersion, .provides),
            (RPMTag.conflictName, RPMTag.conflictFlags, RPMTag.conflictVersion, .conflicts),
            (RPMTag.obsoleteName, RPMTag.obsoleteFlags, RPMTag.obsoleteVersion, .obsoletes),
        ]
        var result: [Dependency] = []
        for (nameTag, flagTag, versionTag, relation) in kinds {
            let names = header.strings(nameTag), flags = header.integers(flagTag), versions = header.strings(versionTag)
            for (index, name) in names.enumerated() where !name.hasPrefix("rpmlib(") && !name.hasPrefix("config(") {
                let flag = index < flags.count ? flags[index] : 0
                var comparison = ""
                if flag & Bits.less != 0 { comparison += "<" }
                if flag & Bits.greater != 0 { comparison += ">" }
                if flag & Bits.equal != 0 { comparison += "=" }
                let version = index < versions.count && !versions[index].isEmpty ? versions[index] : nil
                let kind: Dependency.Relation = relation == .requires && flag & Bits.prerequisite != 0 ? .preRequires : relation
                result.append(Dependency(relation: kind, capability: name, comparison: comparison.isEmpty ? nil : comparison,
                                         version: version, alternative: result.count))
            }
        }
        return result
    }
}

/// RPM names owners; the deployed tree needs numbers. root is 0 everywhere; other names
/// resolve through this machine's user database.
enum OwnerNames {
    static func uid(_ name: String, package: String) throws -> UInt32 {
        if name == "root" { return 0 }
        guard let entry = getpwnam(name) else { throw PackageError.unsafeEntry(package, name, "is an owner this system does not know") }
        return entry.pointee.pw_uid
    }

    static func gid(_ name: String, package: String) throws -> UInt32 {
        if name == "root" { return 0 }
        guard let entry = getgrnam(name) else { throw PackageError.unsafeEntry(package, name, "is a group this system does not know") }
        return entry.pointee.gr_gid
    }
}
