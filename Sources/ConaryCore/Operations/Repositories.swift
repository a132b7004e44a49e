import Foundation
import GRDB

/// Package sources (`file:///path`), of two kinds. A folder with a Debian `Packages` index is
/// read like apt reads a mirror: a sync records the index, the resolver chooses from it, and
/// install downloads (and checks) only the package files it picked. Any other folder of
/// package files is imported whole at sync. Either way several versions of a package sit side
/// by side and `install NAME` / `update` choose among them.
extension ConaryRoot {
    public struct Repository: Codable, FetchableRecord, Sendable {
        public var name: String
        public var url: String
        public var synced: Date?
    }

    public struct SyncReport: Sendable {
        public let repository: String
        public let imported: [Trove]
        public let unchanged: Int
        /// Entries read from the repository's Packages index (0 for a folder without one).
        public let indexed: Int
    }

    public struct SearchHit: Codable, Sendable {
        public let name: String
        public let version: String
        public let format: String
        public let flavor: String
        public let summary: String?
        public let repositories: [String]
        public let installed: Bool
    }

    public func addRepository(name: String, url: String) throws {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ConaryError.invalidArgument("A repository name uses letters, digits, - and _ only.")
        }
        _ = try folder(of: url)
        try database.write { db in
            if try Repository.fetchOne(db, sql: "SELECT * FROM repositories WHERE name = ?", arguments: [name]) != nil {
                throw ConaryError.invalidArgument("A repository named \(name) exists already.")
            }
            try db.execute(sql: "INSERT INTO repositories (name, url) VALUES (?, ?)", arguments: [name, url])
        }
    }

    public func removeRepository(_ name: String) throws {
        let removed = try database.write { db -> Int in
            try db.execute(sql: "DELETE FROM repositories WHERE name = ?", arguments: [name])
            return db.changesCount
        }
        if removed == 0 { throw ConaryError.invalidArgument("There is no repository named \(name).") }
    }

    public func repositories() throws -> [Repository] {
        try database.read { try Repository.fetchAll($0, sql: "SELECT * FROM repositories ORDER BY name") }
    }

    /// Imports the package files of one repository (or all) that are new or changed since
    /// the last sync. A refused package stops the sync with its error; nothing of it is kept.
    public func sync(_ names: [String] = []) throws -> [SyncReport] {
        let chosen = try repositories().filter { names.isEmpty || names.contains($0.name) }
        if let missing = names.first(where: { name in !chosen.contains { $0.name == name } }) {
            throw ConaryError.invalidArgument("There is no repository named \(missing).")
        }
        return try chosen.map { repository in
            let folder = try folder(of: repository.url)
            if let index = DebianIndex.find(in: folder) { return try syncIndex(index, of: repository) }
            let known = try database.read { db in
                try Row.fetchAll(db, sql: "SELECT path, size, mtime FROM repositoryFiles WHERE repository = ?",
                                 arguments: [repository.name]).reduce(into: [String: (Int64, Int64)]()) { $0[$1[0]] = ($1[1], $1[2]) }
            }
            var changed: [(path: String, size: Int64, mtime: Int64)] = []
            var unchanged = 0
            for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
                let path = folder + "/" + name
                guard let st = FileSystem.lstat(path), FileSystem.isRegular(st),
                      (try? PackageImporter.detect(path, display: name)) != nil else { continue }
                let signature = (Int64(st.st_size), Int64(st.st_mtim.tv_sec))
                if let previous = known[path], previous == signature { unchanged += 1; continue }
                changed.append((path, signature.0, signature.1))
            }
            let imported = try importPackages(changed.map(\.path))
            try database.write { db in
                for (file, trove) in zip(changed, imported) {
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO repositoryFiles (repository, path, size, mtime, troveId) VALUES (?, ?, ?, ?, ?)
                        """, arguments: [repository.name, file.path, file.size, file.mtime, trove.id])
                }
                try db.execute(sql: "UPDATE repositories SET synced = ? WHERE name = ?", arguments: [Date(), repository.name])
            }
            return SyncReport(repository: repository.name, imported: imported, unchanged: unchanged, indexed: 0)
        }
    }

    /// Replaces the repository's recorded index with the folder's, in one transaction; entries
    /// for other architectures than this system runs are left out.
    private func syncIndex(_ path: String, of repository: Repository) throws -> SyncReport {
        let system = try systemFlavor()
        let entries = try DebianIndex.read(path).filter { Flavor.architecture($0.architecture).score(on: system) != nil }
        try database.write { db in
            try db.execute(sql: "DELETE FROM indexEntries WHERE repository = ?", arguments: [repository.name])
            let insert = try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO indexEntries (repository, name, version, architecture, filename, size, sha256, summary, relationFields)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for entry in entries {
                try insert.execute(arguments: [repository.name, entry.name, entry.version, entry.architecture, entry.filename, entry.size,
                                               entry.sha256, entry.summary, entry.relationFields])
            }
            try db.execute(sql: "UPDATE repositories SET synced = ? WHERE name = ?", arguments: [Date(), repository.name])
        }
        return SyncReport(repository: repository.name, imported: [], unchanged: 0, indexed: entries.count)
    }

    /// Packages in the store or in a synced index whose name or summary contains `term`
    /// (case-insensitive).
    public func search(_ term: String) throws -> [SearchHit] {
        let installed = Set(try installedTroves().compactMap(\.id))
        return try database.read { db in
            let pattern = "%" + term.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            let indexed = try Row.fetchAll(db, sql: """
                SELECT name, version, architecture, summary, group_concat(repository) FROM indexEntries
                WHERE (name LIKE ?1 ESCAPE '\\' OR summary LIKE ?1 ESCAPE '\\')
                    AND NOT EXISTS (SELECT 1 FROM troves WHERE troves.name = indexEntries.name AND troves.version = indexEntries.version)
                GROUP BY name, version, architecture ORDER BY name, version
                """, arguments: [pattern]).map { row in
                SearchHit(name: row[0], version: row[1], format: "deb", flavor: Flavor.architecture(row[2]).description, summary: row[3],
                          repositories: (row[4] as String).split(separator: ",").map(String.init), installed: false)
            }
            let troves = try Trove.fetchAll(db, sql: """
                SELECT * FROM troves WHERE kind != 'component' AND (name LIKE ?1 ESCAPE '\\' OR summary LIKE ?1 ESCAPE '\\')
                ORDER BY name, id
                """, arguments: [pattern])
            return try troves.map { trove in
                SearchHit(name: trove.name, version: trove.version, format: trove.format, flavor: trove.flavor, summary: trove.summary,
                          repositories: try String.fetchAll(db, sql: "SELECT DISTINCT repository FROM repositoryFiles WHERE troveId = ?",
                                                            arguments: [trove.id]),
                          installed: installed.contains(trove.id!))
            } + indexed
        }
    }

    func folder(of url: String) throws -> String {
        guard url.hasPrefix("file://") else {
            throw ConaryError.invalidArgument("\(url) is not a file:// URL; repositories are local folders of package files.")
        }
        let path = String(url.dropFirst("file://".count))
        guard let st = FileSystem.lstat(path), FileSystem.isDirectory(st) || FileSystem.isSymlink(st) else {
            throw ConaryError.invalidArgument("\(path) is not a folder.")
        }
        return path
    }
}
