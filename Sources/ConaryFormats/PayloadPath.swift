import Glibc
import ConarySupport
import ConaryModel
/// Package payload paths are untrusted: this turns "./usr/bin/x" into "/usr/bin/x" and
/// refuses anything that could climb out of the tree.
enum PayloadPath {
    /// The absolute, normalized path, or nil for the payload's root itself.
    static func normalize(_ raw: String, package: String) throws -> String? {
        var parts: [Substring] = []
        for part in raw.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." { throw PackageError.unsafeEntry(package, raw, "climbs out of the package with \"..\"") }
            parts.append(part)
        }
        if raw.utf8.contains(0) { throw PackageError.unsafeEntry(package, raw, "contains a NUL byte") }
        return parts.isEmpty ? nil : "/" + parts.joined(separator: "/")
    }

    /// Refuses what Linux could not deploy or verify later (PATH_MAX, NAME_MAX, symlink
    /// targets), so such a trove never reaches the store.
    static func checkDeployable(_ entry: FileEntry, package: String) throws {
        let limit = Int(PATH_MAX) - 1
        if entry.path.utf8.count > limit { throw PackageError.unsafeEntry(package, entry.path, "is longer than \(limit) bytes") }
        if entry.path.split(separator: "/").contains(where: { $0.utf8.count > Int(NAME_MAX) }) {
            throw PackageError.unsafeEntry(package, entry.path, "has a name longer than \(NAME_MAX) bytes")
        }
        guard entry.kind == .symlink else { return }
        let target = entry.target ?? ""
        if target.isEmpty { throw PackageError.unsafeEntry(package, entry.path, "is a symlink with an empty target") }
        if target.utf8.count > limit {
            throw PackageError.unsafeEntry(package, entry.path, "is a symlink whose target is longer than \(limit) bytes")
        }
    }

    /// Every proper prefix of "/a/b/c": "/a", "/a/b".
    static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var index = path.index(after: path.startIndex)
        while let slash = path[index...].firstIndex(of: "/") {
            result.append(String(path[..<slash]))
            index = path.index(after: slash)
        }
        return result
    }
}

/// Splits a package's files into components by path (../shared/DESIGN.md §5), so users can
/// install foo:runtime without foo:doc.
public enum ComponentRules {
    public static func component(for path: String, kind: FileKind) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? ""
        if path.hasPrefix("/usr/lib/debug/") || path == "/usr/lib/debug" { return "debuginfo" }
        if path.hasPrefix("/etc/") || path == "/etc" { return "config" }
        if path.hasPrefix("/usr/include/") || path == "/usr/include" { return "devel" }
        if path.hasPrefix("/usr/share/doc/") || path == "/usr/share/doc" { return "supdoc" }
        for docs in ["/usr/share/man", "/usr/share/info", "/usr/share/gtk-doc"] where path == docs || path.hasPrefix(docs + "/") {
            return "doc"
        }
        if path.hasPrefix("/usr/share/locale/") || path == "/usr/share/locale" { return "locale" }
        let inLibraryDirectory = path.split(separator: "/").dropLast().contains { $0.hasPrefix("lib") }
            && (path.hasPrefix("/lib") || path.hasPrefix("/usr/lib"))
        if path.contains("/pkgconfig/") || name.hasSuffix(".a") && inLibraryDirectory
            || kind == .symlink && name.hasSuffix(".so") && inLibraryDirectory {
            return "devellib"
        }
        if inLibraryDirectory { return "lib" }
        return "runtime"
    }
}
