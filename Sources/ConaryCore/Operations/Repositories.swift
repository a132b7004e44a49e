import Foundation
import GRDB

/// Package sources: folders of package files (`file:///path`). A sync imports every new or
/// changed package file into the store, so several versions of a package sit side by side and
/// `install NAME` / `update` choose among them.
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
            return SyncReport(repository: repository.name, imported: imported, unchanged: unchanged)
        }
    }

    /// Package troves in the store whose name or summary contains `term` (case-insensitive).
    public func search(_ term: String) throws -> [SearchHit] {
        let installed = Set(try installedTroves().compactMap(\.id))
        return try database.read { db in
            let pattern = "%" + term.replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            let troves = try Trove.fetchAll(db, sql: """
                SELECT * FROM troves WHERE kind != 'component' AND (name LIKE ?1 ESCAPE '\\' OR summary LIKE ?1 ESCAPE '\\')
                ORDER BY name, id
                """, arguments: [pattern])
            return try troves.map { trove in
                SearchHit(name: trove.name, version: trove.version, format: trove.format, flavor: trove.flavor, summary: trove.summary,
                          repositories: try String.fetchAll(db, sql: "SELECT DISTINCT repository FROM repositoryFiles WHERE troveId = ?",
                                                            arguments: [trove.id]),
                          installed: installed.contains(trove.id!))
            }
        }
    }

    private func folder(of url: String) throws -> String {
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
