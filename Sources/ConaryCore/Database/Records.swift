import Foundation
import GRDB

/// A trove: a named, versioned set of files. Issue-2 troves come from directory trees.
public struct Trove: Codable, FetchableRecord, MutablePersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "troves"
    public var id: Int64?
    public var name: String
    public var version: String
    public var kind: String
    public var format: String
    public var source: String
    public var created: Date
    public var flavor: String = ""
    public var arch: String? = nil
    public var summary: String? = nil
    public var license: String? = nil
    public var url: String? = nil
    /// SHA-256 of the package file a trove came from.
    public var sha256: String? = nil
    /// Whether the package's signature was checked: "unsigned", "verified", … (nil for trees).
    public var signature: String? = nil

    public var spec: String { "\(name)=\(version)" }

    /// "foo" for both the package foo and its components foo:runtime, foo:doc, …
    public var packageName: String { String(name.split(separator: ":", maxSplits: 1)[0]) }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

public enum FileKind: String, Codable, Sendable {
    case regular, directory, symlink
}

/// One path of a trove as recorded in the database.
public struct FileEntry: Equatable, Sendable {
    public var path: String
    public var kind: FileKind
    public var objectID: String?
    public var sha256: String?
    public var size: Int64
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var target: String?
    public var flags: FileFlags

    public init(path: String, kind: FileKind, objectID: String? = nil, sha256: String? = nil, size: Int64 = 0,
                mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, target: String? = nil, flags: FileFlags = []) {
        self.flags = flags
        self.path = path
        self.kind = kind
        self.objectID = objectID
        self.sha256 = sha256
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.target = target
    }
}

public enum StateStatus: String, Codable, Sendable {
    /// Recorded by a changeset that has not swapped yet.
    case pending
    case active
    case archived
    case pruned
}

/// A numbered, complete /usr tree.
public struct SystemState: Codable, FetchableRecord, PersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "states"
    public var id: Int64
    public var parent: Int64?
    public var created: Date
    public var summary: String
    public var treeHash: String
    public var fileCount: Int
    public var status: StateStatus
    public var pinned: Bool
}

public struct StateMember: Codable, FetchableRecord, PersistableRecord, Sendable {
    public static let databaseTableName = "stateMembers"
    public var stateId: Int64
    public var troveId: Int64
    public var reason: String
}

public enum ChangesetStatus: String, Codable, Sendable {
    case pending
    case applied
    /// Interrupted before its swap; the system stayed on its previous state.
    case abandoned
}

/// One operation that moves the system from one state to another.
public struct Changeset: Codable, FetchableRecord, MutablePersistableRecord, Sendable {
    public static let databaseTableName = "changesets"
    public var id: Int64?
    public var uuid: String
    public var kind: String
    public var status: ChangesetStatus
    public var fromState: Int64?
    public var toState: Int64
    public var command: String
    public var started: Date
    public var finished: Date?

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// How a package treats one of its files.
public struct FileFlags: OptionSet, Equatable, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A configuration file (Debian conffile, RPM %config).
    public static let config = FileFlags(rawValue: 1)
    /// A configuration file whose local edits win over the package's new version.
    public static let noreplace = FileFlags(rawValue: 2)
    /// Owned but not shipped (RPM %ghost).
    public static let ghost = FileFlags(rawValue: 4)
    public static let doc = FileFlags(rawValue: 8)
}

/// A typed relation of a package: what it needs, offers or clashes with.
public struct Dependency: Equatable, Sendable {
    public enum Relation: String, Sendable {
        case requires, preRequires = "pre-requires", recommends, provides, conflicts, breaks, replaces, obsoletes
    }

    public var relation: Relation
    /// A package name or a typed capability: soname(libc.so.6)(64bit), file(/bin/sh), pkgconfig(zlib).
    public var capability: String
    public var comparison: String?
    public var version: String?
    /// Entries of one relation sharing this number are alternatives ("a | b").
    public var alternative: Int

    /// Read from the files (ELF DT_NEEDED, .pc files) rather than declared by the package.
    var isDerivedFromContent: Bool { alternative >= ContentProvides.firstAlternative }

    public init(relation: Relation, capability: String, comparison: String? = nil, version: String? = nil, alternative: Int) {
        self.relation = relation
        self.capability = capability
        self.comparison = comparison
        self.version = version
        self.alternative = alternative
    }
}

/// A maintainer script, stored as shipped; Conary does not run it yet.
public struct Scriptlet: Equatable, Sendable {
    public var name: String
    public var interpreter: String?
    public var body: String
}
