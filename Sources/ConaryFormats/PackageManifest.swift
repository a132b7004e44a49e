import ConaryVersions
import ConarySupport
import ConaryModel
/// What a format reader learned from one package file; its file contents are already in
/// the import's object intake.
struct PackageManifest {
    var name: String
    var version: String
    var arch: String?
    var summary: String?
    var license: String?
    var url: String?
    var format: PackageFormat
    var flavor: Flavor = .empty
    /// What is known of the package's signature: "unsigned", or "signed, not verified".
    var signature = "unsigned"
    var dependencies: [Dependency] = []
    var scriptlets: [Scriptlet] = []
    var files: [FileEntry] = []
}

/// Bounds that keep a hostile package from exhausting memory or disk.
package struct ImportLimits {
    package init() {}

    /// Control data (metadata, scripts) is read into memory.
    package var maxControlBytes = 16 << 20
    package var maxUnpackedBytes: Int64 = 16 << 30
    /// Expansion beyond this ratio (past the first 64 MiB) is treated as a decompression bomb.
    package var maxExpansionRatio: Int64 = 200

    func checkExpansion(unpacked: Int64, packageSize: Int64, package: String) throws {
        if unpacked > maxUnpackedBytes {
            throw PackageError.tooLarge(package, "it unpacks to more than \(maxUnpackedBytes) bytes")
        }
        if unpacked > 64 << 20 && unpacked > packageSize * maxExpansionRatio {
            throw PackageError.tooLarge(package, "it expands more than \(maxExpansionRatio) times, like a decompression bomb")
        }
    }
}

/// Tracks what a payload declared so far, to refuse duplicates and paths that run
/// through one of the package's own symlinks (a way to land files outside the tree).
struct PayloadLedger {
    private var seen: [String: Int] = [:]
    private var symlinks: Set<String> = []
    private(set) var files: [FileEntry] = []

    mutating func add(_ entry: FileEntry, package: String) throws {
        if seen[entry.path] != nil { throw PackageError.malformed(package, "\(entry.path) appears twice") }
        try PayloadPath.checkDeployable(entry, package: package)
        for ancestor in PayloadPath.ancestors(of: entry.path) where symlinks.contains(ancestor) {
            throw PackageError.unsafeEntry(package, entry.path, "goes through the package's own symlink \(ancestor)")
        }
        if entry.kind == .symlink { symlinks.insert(entry.path) }
        seen[entry.path] = files.count
        files.append(entry)
    }

    func file(at path: String) -> FileEntry? { seen[path].map { files[$0] } }
}
