import ConaryVersions
import ConaryStore
import ConarySupport
import ConaryModel
/// Reads an Arch Linux package: a zstd or xz compressed tar whose leading dot files
/// (.PKGINFO, .MTREE, .INSTALL) describe the payload that follows.
enum ArchReader {
    static let zstdMagic: [UInt8] = [0x28, 0xB5, 0x2F, 0xFD]
    static let xzMagic: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]

    static func read(_ path: String, display: String, intake: ObjectIntake, limits: ImportLimits = ImportLimits()) throws -> PackageManifest {
        let archive = try ArchiveReader(file: path, container: .tar, name: display)
        var info: [String: [String]]?
        var digests: [String: String]?
        var install: String?
        var payload = PayloadReader(display: display, intake: intake, limits: limits,
                                    packageSize: Int64(FileSystem.lstat(path)?.st_size ?? 0))
        while let entry = try archive.next() {
            guard let path = try PayloadPath.normalize(entry.path, package: display) else { continue }
            switch path {
            case "/.PKGINFO":
                info = PkgInfo.parse(String(decoding: try archive.readAll(limit: limits.maxControlBytes), as: UTF8.self))
            case "/.MTREE":
                let mtree = try ArchiveReader(nestedIn: archive, container: .raw, name: "\(display) (.MTREE)")
                _ = try mtree.next()
                digests = PkgInfo.mtreeDigests(String(decoding: try mtree.readAll(limit: limits.maxControlBytes), as: UTF8.self))
            case "/.INSTALL":
                install = String(decoding: try archive.readAll(limit: limits.maxControlBytes), as: UTF8.self)
            case _ where path.split(separator: "/").count == 1 && path.hasPrefix("/."):
                continue  // .BUILDINFO, .CHANGELOG: build records, not payload
            default:
                // Config flags come from .PKGINFO, so it must precede the files (makepkg writes it first).
                guard let info else { throw PackageError.malformed(display, ".PKGINFO does not come before the files") }
                let backup = Set((info["backup"] ?? []).map { "/" + $0 })
                var flags: FileFlags = path.hasPrefix("/usr/share/doc/") ? .doc : []
                if backup.contains(path) { flags.formUnion([.config, .noreplace]) }
                try payload.add(entry, at: path, from: archive, flags: flags)
            }
        }
        guard let info else { throw PackageError.malformed(display, "it has no .PKGINFO") }
        guard let name = info["pkgname"]?.first else { throw PackageError.missingField(display, "pkgname") }
        guard let version = info["pkgver"]?.first else { throw PackageError.missingField(display, "pkgver") }
        if let digests {
            for file in payload.ledger.files where file.kind == .regular {
                guard let expected = digests[file.path] else {
                    throw PackageError.malformed(display, "\(file.path) is not listed in .MTREE")
                }
                if expected != file.sha256 { throw PackageError.checksumMismatch(display, file.path) }
            }
        }
        var manifest = PackageManifest(name: name, version: version, arch: info["arch"]?.first, summary: info["pkgdesc"]?.first,
                                       license: info["license"]?.joined(separator: " AND "),
                                       url: info["url"]?.first.flatMap { $0.isEmpty ? nil : $0 },
                                       format: .arch, files: payload.ledger.files)
        manifest.flavor = Flavor.architecture(manifest.arch)
        let relations: [(String, Dependency.Relation)] = [
            ("depend", .requires), ("optdepend", .recommends), ("provides", .provides),
            ("conflict", .conflicts), ("replaces", .replaces),
        ]
        for (key, relation) in relations {
            for (index, value) in (info[key] ?? []).enumerated() {
                manifest.dependencies.append(PkgInfo.dependency(value, relation: relation, alternative: index))
            }
        }
        if let install { manifest.scriptlets.append(Scriptlet(name: "install", interpreter: "/bin/bash", body: install)) }
        return manifest
    }
}

/// The text formats inside an Arch package.
enum PkgInfo {
    /// "key = value" lines; keys such as depend repeat.
    static func parse(_ text: String) -> [String: [String]] {
        var result: [String: [String]] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let equals = line.range(of: " = ") else { continue }
            result[String(line[..<equals.lowerBound]), default: []].append(String(line[equals.upperBound...]))
        }
        return result
    }

    /// "glibc>=2.34", "libfoo.so=1-64", "q>0:1.1", "sh"; an optdepend's ": reason" is dropped
    /// (a bare ":" belongs to an epoch).
    static func dependency(_ text: String, relation: Dependency.Relation, alternative: Int) -> Dependency {
        let spec = text.range(of: ": ").map { String(text[..<$0.lowerBound]) } ?? text
        for comparison in [">=", "<=", "=", ">", "<"] {
            if let range = spec.range(of: comparison) {
                return Dependency(relation: relation, capability: String(spec[..<range.lowerBound]), comparison: comparison,
                                  version: String(spec[range.upperBound...]), alternative: alternative)
            }
        }
        return Dependency(relation: relation, capability: spec.trimmingCharacters(in: .whitespaces), alternative: alternative)
    }

    /// The sha256digest of every file an mtree lists, by absolute path.
    static func mtreeDigests(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("./") {
            let fields = line.split(separator: " ")
            guard let digest = fields.first(where: { $0.hasPrefix("sha256digest=") }) else { continue }
            let path = String(fields[0].dropFirst()).removingMtreeEscapes
            result[path] = String(digest.dropFirst("sha256digest=".count))
        }
        return result
    }
}

private extension String {
    /// mtree writes unusual bytes as \\ooo octal escapes.
    var removingMtreeEscapes: String {
        guard contains("\\") else { return self }
        var bytes: [UInt8] = []
        var iterator = Array(utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "\\"), iterator.count >= 3,
               let value = UInt8(String(decoding: iterator.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                iterator = iterator.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
