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

    public var spec: String { "\(name)=\(version)" }

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

    public init(path: String, kind: FileKind, objectID: String? = nil, sha256: String? = nil, size: Int64 = 0,
                mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, target: String? = nil) {
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
