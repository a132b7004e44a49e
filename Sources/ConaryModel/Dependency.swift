import Foundation

/// A typed relation of a package: what it needs, offers or clashes with.
public struct Dependency: Codable, Equatable, Sendable {
    public enum Relation: String, Codable, Sendable {
        case requires, preRequires = "pre-requires", recommends, provides, conflicts, breaks, replaces, obsoletes
    }

    public var relation: Relation
    /// A package name or a typed capability: soname(libc.so.6)(64bit), file(/bin/sh), pkgconfig(zlib).
    public var capability: String
    public var comparison: String?
    public var version: String?
    /// Entries of one relation sharing this number are alternatives ("a | b").
    public var alternative: Int

    /// Relations read from a package's files (ELF DT_NEEDED, .pc files) rather than declared
    /// by it are numbered from here, so they never join a declared group of alternatives.
    public static let firstDerivedAlternative = 10_000

    /// Read from the files (ELF DT_NEEDED, .pc files) rather than declared by the package.
    public var isDerivedFromContent: Bool { alternative >= Dependency.firstDerivedAlternative }

    public init(relation: Relation, capability: String, comparison: String? = nil, version: String? = nil, alternative: Int) {
        self.relation = relation
        self.capability = capability
        self.comparison = comparison
        self.version = version
        self.alternative = alternative
    }

    /// The relation as the package wrote it: "libc6 (>= 2.36)".
    public var text: String {
        guard let comparison, let version else { return capability }
        return "\(capability) (\(comparison) \(version))"
    }
}

/// A package file a plan needs from a repository's index: where it is and what it must be.
public struct PackageDownload: Equatable, Sendable {
    public var repository: String
    public var url: String
    /// Relative to the repository's root (checked at sync not to climb out of it).
    public var filename: String
    public var size: Int64
    public var sha256: String
    /// name=version as the index gives them.
    public var spec: String

    public init(repository: String, url: String, filename: String, size: Int64, sha256: String, spec: String) {
        self.repository = repository
        self.url = url
        self.filename = filename
        self.size = size
        self.sha256 = sha256
        self.spec = spec
    }
}

/// One package of a repository's index (a Debian `Packages` paragraph), recorded at sync so
/// the resolver can choose it before anything is downloaded.
public struct IndexEntry: Equatable, Sendable {
    public var name: String
    public var version: String
    public var architecture: String
    /// Relative to the repository's root, checked not to climb out of it.
    public var filename: String
    public var size: Int64
    public var sha256: String
    public var summary: String?
    /// The relation fields as deb822 lines ("Depends: a (>= 1), b"), kept as written.
    public var relationFields: String
    /// Debian's Priority (required, important, standard, optional, extra) and Essential flag:
    /// apt ranks the providers of a virtual package by them.
    public var priority: String?
    public var essential: Bool
    /// Bytes the unpacked package takes (Installed-Size, given in KiB).
    public var installedSize: Int64?

    public init(name: String, version: String, architecture: String, filename: String, size: Int64, sha256: String,
                summary: String?, relationFields: String, priority: String? = nil, essential: Bool = false, installedSize: Int64? = nil) {
        self.name = name
        self.version = version
        self.architecture = architecture
        self.filename = filename
        self.size = size
        self.sha256 = sha256
        self.summary = summary
        self.relationFields = relationFields
        self.priority = priority
        self.essential = essential
        self.installedSize = installedSize
    }
}

/// A package source as the user added it.
public struct Repository: Codable, Equatable, Sendable {
    public var name: String
    public var url: String
    public var synced: Date?

    public init(name: String, url: String, synced: Date? = nil) {
        self.name = name
        self.url = url
        self.synced = synced
    }
}
