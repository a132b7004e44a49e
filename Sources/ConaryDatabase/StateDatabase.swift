import Foundation
import GRDB

/// <root>/conary/conary.db: SQLite in WAL mode with full fsync on commit, so a changeset
/// recorded before a swap survives a crash right after it. Every SQL statement of Conary
/// lives in this target; the layers above read and write through the typed methods of
/// `DatabaseSession`.
public final class StateDatabase: @unchecked Sendable {
    /// The SQLite connection; tests inspect tables through it, code goes through sessions.
    let queue: DatabaseQueue
    private let path: String

    public init(path: String) throws {
        self.path = path
        var config = Configuration()
        config.prepareDatabase { db in
            // Only one command works on a root at a time (its lock), so the WAL index can live
            // in memory: no -shm file, which a full disk has no blocks for.
            try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE")
            // Setting WAL writes; a full disk must still open a root to read, prune or gc.
            if try String.fetchOne(db, sql: "PRAGMA journal_mode") != "wal" {
                try db.execute(sql: "PRAGMA journal_mode = WAL")
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        queue = try DatabaseQueue(path: path, configuration: config)
        if try !queue.read(StateDatabase.migrator.hasCompletedMigrations) {
            try StateDatabase.migrator.migrate(queue)
        }
    }

    /// Closes the connection; SQLite folds the write-ahead log into the database file and
    /// removes it, so the file alone holds everything.
    public func close() throws {
        try queue.close()
    }

    /// Runs `body` in a read transaction.
    public func read<T>(_ body: (DatabaseSession) throws -> T) throws -> T {
        try queue.read { try body(DatabaseSession(db: $0)) }
    }

    /// Runs `body` in a write transaction, committed (with fsync) when it returns.
    public func write<T>(_ body: (DatabaseSession) throws -> T) throws -> T {
        do {
            return try queue.write { try body(DatabaseSession(db: $0)) }
        } catch let error as GRDB.DatabaseError where error.resultCode == .SQLITE_FULL {
            throw DatabaseError.diskFull(path)
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            try db.create(table: "troves") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull()
                t.column("version", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("format", .text).notNull()
                t.column("source", .text).notNull()
                t.column("created", .datetime).notNull()
                // Normalized flavor text; "" for none. One name and version may be built in several flavors.
                t.column("flavor", .text).notNull().defaults(to: "")
                t.uniqueKey(["name", "version", "flavor"])
            }
            try db.create(table: "objects") { t in
                t.primaryKey("id", .text)
                t.column("sha256", .text).notNull()
                t.column("size", .integer).notNull()
            }
            try db.create(table: "files") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("troveId", .integer).notNull().references("troves", onDelete: .cascade)
                t.column("path", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("objectId", .text).references("objects")
                t.column("sha256", .text)
                t.column("size", .integer).notNull()
                t.column("mode", .integer).notNull()
                t.column("uid", .integer).notNull()
                t.column("gid", .integer).notNull()
                t.column("target", .text)
                t.uniqueKey(["troveId", "path"])
            }
            try db.create(index: "filesByObject", on: "files", columns: ["objectId"])
            try db.create(index: "filesByPath", on: "files", columns: ["path"])
            try db.create(table: "states") { t in
                t.primaryKey("id", .integer)
                t.column("parent", .integer)
                t.column("created", .datetime).notNull()
                t.column("summary", .text).notNull()
                t.column("treeHash", .text).notNull()
                t.column("fileCount", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("pinned", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "stateMembers") { t in
                t.column("stateId", .integer).notNull().references("states", onDelete: .cascade)
                t.column("troveId", .integer).notNull().references("troves")
                t.column("reason", .text).notNull()
                t.primaryKey(["stateId", "troveId"])
            }
            try db.create(table: "changesets") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("uuid", .text).notNull().unique()
                t.column("kind", .text).notNull()
                t.column("status", .text).notNull()
                t.column("fromState", .integer)
                t.column("toState", .integer).notNull()
                t.column("command", .text).notNull()
                t.column("started", .datetime).notNull()
                t.column("finished", .datetime)
            }
        }
        migrator.registerMigration("v2-packages") { db in
            try db.alter(table: "troves") { t in
                t.add(column: "arch", .text)
                t.add(column: "summary", .text)
                t.add(column: "license", .text)
                t.add(column: "url", .text)
                t.add(column: "sha256", .text)
                t.add(column: "signature", .text)
            }
            try db.alter(table: "files") { t in
                t.add(column: "flags", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "troveMembers") { t in
                t.column("parentId", .integer).notNull().references("troves", onDelete: .cascade)
                t.column("childId", .integer).notNull().references("troves", onDelete: .cascade)
                t.primaryKey(["parentId", "childId"])
            }
            try db.create(table: "dependencies") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("troveId", .integer).notNull().references("troves", onDelete: .cascade)
                t.column("relation", .text).notNull()
                t.column("capability", .text).notNull()
                t.column("comparison", .text)
                t.column("version", .text)
                t.column("alternative", .integer).notNull()
            }
            try db.create(index: "dependenciesByCapability", on: "dependencies", columns: ["capability"])
            try db.create(table: "repositories") { t in
                t.primaryKey("name", .text)
                t.column("url", .text).notNull()
                t.column("synced", .datetime)
            }
            // Package files a repository sync imported, so the next sync skips unchanged ones.
            try db.create(table: "repositoryFiles") { t in
                t.column("repository", .text).notNull().references("repositories", onDelete: .cascade)
                t.column("path", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("mtime", .integer).notNull()
                t.column("troveId", .integer).notNull().references("troves", onDelete: .cascade)
                t.primaryKey(["repository", "path"])
            }
            try db.create(table: "pins") { t in
                t.primaryKey("name", .text)
            }
            try db.create(table: "scriptlets") { t in
                t.column("troveId", .integer).notNull().references("troves", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("interpreter", .text)
                t.column("body", .text).notNull()
                t.primaryKey(["troveId", "name"])
            }
        }
        migrator.registerMigration("v3-package-indexes") { db in
            // Entries of a repository's Packages index: resolvable before they are downloaded.
            try db.create(table: "indexEntries") { t in
                t.column("repository", .text).notNull().references("repositories", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("version", .text).notNull()
                t.column("architecture", .text).notNull()
                t.column("filename", .text).notNull()
                t.column("size", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("summary", .text)
                t.column("relationFields", .text).notNull()
                t.primaryKey(["repository", "name", "version", "architecture"])
            }
        }
        migrator.registerMigration("v4-boot") { db in
            // The kernels each state's tree holds, found when the state is built.
            try db.create(table: "stateKernels") { t in
                t.column("stateId", .integer).notNull().references("states", onDelete: .cascade)
                t.column("version", .text).notNull()
                t.column("kernelObject", .text).notNull()
                t.column("kernelSHA256", .text).notNull()
                t.column("initrdObject", .text)
                t.column("initrdSHA256", .text)
                t.column("osName", .text).notNull()
                t.primaryKey(["stateId", "version"])
            }
        }
        migrator.registerMigration("v5-verity") { db in
            // The fs-verity digest measured when the store sealed the object; NULL where its
            // filesystem could not seal (or before the store sealed anything).
            try db.alter(table: "objects") { t in t.add(column: "verityDigest", .text) }
        }
        migrator.registerMigration("v6-trove-records") { db in
            // The object holding each trove's record (TroveRecord), which state manifests name.
            try db.alter(table: "troves") { t in t.add(column: "recordObject", .text) }
        }
        migrator.registerMigration("v7-index-ranking") { db in
            // What apt ranks providers by, and the size a package takes once unpacked; entries
            // synced before this have none until their repository's next sync.
            try db.alter(table: "indexEntries") { t in
                t.add(column: "priority", .text)
                t.add(column: "essential", .boolean).notNull().defaults(to: false)
                t.add(column: "installedSize", .integer)
            }
        }
        return migrator
    }
}
