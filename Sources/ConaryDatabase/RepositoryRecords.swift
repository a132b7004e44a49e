import ConaryModel
import Foundation
import GRDB

/// Package sources, the package files a folder sync imported, and synced index entries.
extension DatabaseSession {
    public func repositories() throws -> [Repository] {
        try Repository.fetchAll(db, sql: "SELECT * FROM repositories ORDER BY name")
    }

    public func addRepository(_ repository: Repository) throws {
        if try Repository.fetchOne(db, sql: "SELECT * FROM repositories WHERE name = ?", arguments: [repository.name]) != nil {
            throw DatabaseError.repositoryExists(repository.name)
        }
        try db.execute(sql: "INSERT INTO repositories (name, url) VALUES (?, ?)", arguments: [repository.name, repository.url])
    }

    public func removeRepository(_ name: String) throws {
        try db.execute(sql: "DELETE FROM repositories WHERE name = ?", arguments: [name])
        if db.changesCount == 0 { throw DatabaseError.noSuchRepository(name) }
    }

    public func markSynced(_ repository: String) throws {
        try db.execute(sql: "UPDATE repositories SET synced = ? WHERE name = ?", arguments: [Date(), repository])
    }

    // MARK: Folders of package files

    /// The package files a sync of `repository` imported, by path, with the size and mtime they had.
    public func importedFiles(of repository: String) throws -> [String: (size: Int64, mtime: Int64)] {
        try Row.fetchAll(db, sql: "SELECT path, size, mtime FROM repositoryFiles WHERE repository = ?", arguments: [repository])
            .reduce(into: [:]) { $0[$1[0]] = ($1[1], $1[2]) }
    }

    public func recordImportedFile(repository: String, path: String, size: Int64, mtime: Int64, troveID: Int64) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO repositoryFiles (repository, path, size, mtime, troveId) VALUES (?, ?, ?, ?, ?)
            """, arguments: [repository, path, size, mtime, troveID])
    }

    /// The repositories whose sync imported trove `id`.
    public func repositories(holding troveID: Int64) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT DISTINCT repository FROM repositoryFiles WHERE troveId = ?", arguments: [troveID])
    }

    // MARK: Package indexes

    /// Replaces the recorded index of `repository` with `entries`.
    public func replaceIndex(of repository: String, with entries: [IndexEntry]) throws {
        try db.execute(sql: "DELETE FROM indexEntries WHERE repository = ?", arguments: [repository])
        let insert = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO indexEntries (repository, name, version, architecture, filename, size, sha256, summary, relationFields,
                                                priority, essential, installedSize)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for entry in entries {
            try insert.execute(arguments: [repository, entry.name, entry.version, entry.architecture, entry.filename, entry.size,
                                           entry.sha256, entry.summary, entry.relationFields, entry.priority, entry.essential,
                                           entry.installedSize])
        }
    }

    /// Every synced index entry with its repository, by repository, name and version.
    public func indexEntries() throws -> [(entry: IndexEntry, repository: Repository)] {
        try Row.fetchAll(db, sql: """
            SELECT e.name, e.version, e.architecture, e.filename, e.size, e.sha256, e.summary, e.relationFields, e.repository, r.url,
                e.priority, e.essential, e.installedSize
            FROM indexEntries e JOIN repositories r ON r.name = e.repository ORDER BY e.repository, e.name, e.version
            """).map { row in
            (IndexEntry(name: row[0], version: row[1], architecture: row[2], filename: row[3], size: row[4], sha256: row[5],
                        summary: row[6], relationFields: row[7], priority: row[10], essential: row[11], installedSize: row[12]),
             Repository(name: row[8], url: row[9]))
        }
    }

    /// Index entries not in the store whose name or summary contains `term`, one per name,
    /// version and architecture, with the repositories that list it.
    public func indexEntries(matchingText term: String) throws -> [(entry: IndexEntry, repositories: [String])] {
        try Row.fetchAll(db, sql: """
            SELECT name, version, architecture, summary, group_concat(repository) FROM indexEntries
            WHERE (name LIKE ?1 ESCAPE '\\' OR summary LIKE ?1 ESCAPE '\\')
                AND NOT EXISTS (SELECT 1 FROM troves WHERE troves.name = indexEntries.name AND troves.version = indexEntries.version)
            GROUP BY name, version, architecture ORDER BY name, version
            """, arguments: [Self.likePattern(term)]).map { row in
            (IndexEntry(name: row[0], version: row[1], architecture: row[2], filename: "", size: 0, sha256: "", summary: row[3],
                        relationFields: ""),
             (row[4] as String).split(separator: ",").map(String.init))
        }
    }
}
