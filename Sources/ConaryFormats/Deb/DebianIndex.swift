import ConarySupport
import ConaryModel
import ConaryVersions
import Foundation

/// A Debian `Packages` index (plain, .gz, .xz or .lz4, as apt keeps its lists): one deb822 paragraph per package file of
/// a repository, with the relations the resolver needs and where and how big the file is.
/// Conary resolves over it before downloading anything, as apt does.
package struct DebianIndex {
    package typealias Entry = IndexEntry

    package static func relations(_ fields: String) -> [Dependency] { DebControl.dependencies(from: DebControl.fields(fields)) }

    /// The index files a repository folder may hold, preferred first.
    static let names = ["Packages.xz", "Packages.gz", "Packages.lz4", "Packages"]

    /// Decompressed indexes beyond this are refused (Debian's whole amd64 main is ~100 MiB).
    static let sizeLimit = 1 << 30

    package static func find(in folder: String) -> String? {
        names.map { folder + "/" + $0 }.first { FileSystem.lstat($0).map(FileSystem.isRegular) ?? false }
    }

    package static func read(_ path: String) throws -> [Entry] {
        let display = (path as NSString).lastPathComponent
        let bytes: [UInt8]
        if path.hasSuffix(".gz") || path.hasSuffix(".xz") || path.hasSuffix(".lz4") {
            let reader = try ArchiveReader(file: path, container: .raw, name: display)
            guard try reader.next() != nil else { throw PackageError.malformed(display, "it holds no data") }
            bytes = try reader.readAll(limit: sizeLimit)
        } else {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard data.count <= sizeLimit else { throw PackageError.tooLarge(display, "the index is larger than \(sizeLimit) bytes") }
            bytes = Array(data)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw PackageError.malformed(display, "it is not UTF-8 text") }
        return try parse(text, display: display)
    }

    static func parse(_ text: String, display: String) throws -> [Entry] {
        var entries: [Entry] = []
        var paragraph: [Substring] = []
        for line in DebControl.lines(of: text) + [""] {
            if !DebControl.trimmed(line).isEmpty {
                paragraph.append(line)
            } else if !paragraph.isEmpty {
                entries.append(try entry(DebControl.fields(lines: paragraph), display: display))
                paragraph.removeAll(keepingCapacity: true)
            }
        }
        return entries
    }

    private static func entry(_ fields: [String: String], display: String) throws -> Entry {
        func required(_ key: String) throws -> String {
            guard let value = fields[key], !value.isEmpty else { throw PackageError.missingField(display, key.capitalized) }
            return value
        }
        let name = try required("package"), filename = try required("filename"), version = try required("version")
        // The rules of every stored trove: an entry is installed by name.
        do { try TroveName.check(name: name, version: version) } catch let error as VersionError {
            throw PackageError.invalidIdentity(display, error)
        }
        guard let size = Int64(try required("size")), size >= 0 else {
            throw PackageError.malformed(display, "\(name) has a Size that is not a number")
        }
        let sha256 = try required("sha256").lowercased()
        guard sha256.count == 64, sha256.allSatisfy(\.isHexDigit) else {
            throw PackageError.malformed(display, "\(name) has a SHA256 that is not 64 hex digits")
        }
        guard !filename.hasPrefix("/"), !filename.split(separator: "/").contains("..") else {
            throw PackageError.unsafeEntry(display, filename, "points outside the repository")
        }
        let relationFields = DebControl.relationFields.compactMap { key, _ in
            fields[key].map { "\(key): \($0.replacingOccurrences(of: "\n", with: " "))" }
        }.joined(separator: "\n")
        return Entry(name: name, version: version, architecture: fields["architecture"] ?? "all",
                     filename: filename, size: size, sha256: sha256,
                     summary: fields["description"].map { String($0.prefix { $0 != "\n" }) }, relationFields: relationFields,
                     // "" records an entry without the field (apt ranks it first); NULL, one synced before Conary kept it.
                     priority: fields["priority"]?.lowercased() ?? "", essential: fields["essential"]?.lowercased() == "yes",
                     installedSize: fields["installed-size"].flatMap { Int64($0) }.flatMap { (0...Int64.max / 1024).contains($0) ? $0 * 1024 : nil })
    }
}
