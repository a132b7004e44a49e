import ConaryModel
import Foundation
import GRDB

/// One transaction on the state database, with a typed method per question or change.
/// The methods are grouped by table family: troves and files, states and changesets,
/// objects and kernels, repositories and pins.
public struct DatabaseSession {
    let db: Database
}

/// What went wrong with the database's contents, as opposed to SQLite itself.
public enum DatabaseError: Error, CustomStringConvertible, Equatable {
    case stateNotFound(Int64)
    case unknownObject(String)
    case repositoryExists(String)
    case noSuchRepository(String)
    /// SQLite found no free block for a write (the path is the database's).
    case diskFull(String)

    public var description: String {
        switch self {
        case let .stateNotFound(id): return "State \(id) does not exist."
        case let .unknownObject(id): return "The store has no record of object \(id)."
        case let .repositoryExists(name): return "A repository named \(name) exists already."
        case let .noSuchRepository(name): return "There is no repository named \(name)."
        case let .diskFull(path):
            return "The filesystem holding \(path) is full, so nothing was changed; free space (conary state prune, conary gc) and try again."
        }
    }
}

// Table names and how rows map to the model's values.

extension Trove: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "troves"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension SystemState: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "states"
}

extension StateMember: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "stateMembers"
}

extension Changeset: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "changesets"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

extension StateKernel: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "stateKernels"
}

extension Repository: FetchableRecord {}

extension TroveKind: DatabaseValueConvertible {}
extension PackageFormat: DatabaseValueConvertible {}
extension StateStatus: DatabaseValueConvertible {}
extension ChangesetStatus: DatabaseValueConvertible {}
extension ChangesetKind: DatabaseValueConvertible {}

extension InstallReason: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { description.databaseValue }
    public static func fromDatabaseValue(_ value: DatabaseValue) -> InstallReason? { String.fromDatabaseValue(value).map(InstallReason.init) }
}
