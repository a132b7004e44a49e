import ConaryModel
import Foundation
import GRDB

/// Troves, their components, files, dependencies and scriptlets.
extension DatabaseSession {
    // MARK: Recording

    public func insert(_ trove: inout Trove) throws {
        try trove.insert(db)
    }

    /// Records `component` as a component of `package`.
    public func link(component: Int64, toPackage package: Int64) throws {
        try db.execute(sql: "INSERT INTO troveMembers (parentId, childId) VALUES (?, ?)", arguments: [package, component])
    }

    /// Records the files of a trove, and each object they use (once).
    public func insertFiles(_ files: [FileEntry], troveID: Int64) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO files (troveId, path, kind, objectId, sha256, size, mode, uid, gid, target, flags)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for file in files {
            if let objectID = file.objectID, let sha256 = file.sha256 {
                try recordObject(objectID, sha256: sha256, size: file.size)
            }
            try statement.execute(arguments: [troveID, file.path, file.kind.rawValue, file.objectID, file.sha256,
                                              file.size, file.mode, file.uid, file.gid, file.target, file.flags.rawValue])
        }
    }

    public func insertDependencies(_ dependencies: [Dependency], troveID: Int64) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO dependencies (troveId, relation, capability, comparison, version, alternative) VALUES (?, ?, ?, ?, ?, ?)
            """)
        for dependency in dependencies {
            try statement.execute(arguments: [troveID, dependency.relation.rawValue, dependency.capability, dependency.comparison,
                                              dependency.version, dependency.alternative])
        }
    }

    public func insertScriptlets(_ scriptlets: [Scriptlet], troveID: Int64) throws {
        for scriptlet in scriptlets {
            try db.execute(sql: "INSERT INTO scriptlets (troveId, name, interpreter, body) VALUES (?, ?, ?, ?)",
                           arguments: [troveID, scriptlet.name, scriptlet.interpreter, scriptlet.body])
        }
    }

    // MARK: Finding troves

    /// Every trove in the store, by name and version.
    public func allTroves() throws -> [Trove] {
        try Trove.order(Column("name"), Column("version")).fetchAll(db)
    }

    /// The troves called `name` (of `version`, if given), oldest record first.
    public func troves(named name: String, version: String? = nil) throws -> [Trove] {
        var request = Trove.filter(Column("name") == name)
        if let version { request = request.filter(Column("version") == version) }
        return try request.order(Column("id")).fetchAll(db)
    }

    public func trove(named name: String, version: String, flavor: String) throws -> Trove? {
        try Trove.filter(Column("name") == name && Column("version") == version && Column("flavor") == flavor).fetchOne(db)
    }

    /// A package trove with its component troves (just the trove itself for trees and components).
    public func withComponents(_ trove: Trove) throws -> [Trove] {
        let components = try Trove.fetchAll(db, sql: """
            SELECT troves.* FROM troves JOIN troveMembers ON troveMembers.childId = troves.id
            WHERE troveMembers.parentId = ? ORDER BY troves.name
            """, arguments: [trove.id])
        return [trove] + components
    }

    /// Troves in the store offering `capability`: a package name, a declared provide, or a shipped path.
    public func troves(providing capability: String) throws -> [Trove] {
        try Trove.fetchAll(db, sql: """
            SELECT DISTINCT troves.* FROM troves WHERE kind != ?2 AND name = ?1
            UNION SELECT troves.* FROM troves JOIN dependencies ON dependencies.troveId = troves.id
                WHERE dependencies.relation = ?3 AND dependencies.capability = ?1
            UNION SELECT troves.* FROM troves JOIN files ON files.troveId = troves.id WHERE files.path = ?1
            ORDER BY name, version
            """, arguments: [capability, TroveKind.component.rawValue, Dependency.Relation.provides.rawValue])
    }

    /// Packages and trees (not components) whose name or summary contains `term`, case-insensitively.
    public func troves(matchingText term: String) throws -> [Trove] {
        try Trove.fetchAll(db, sql: """
            SELECT * FROM troves WHERE kind != ?2 AND (name LIKE ?1 ESCAPE '\\' OR summary LIKE ?1 ESCAPE '\\')
            ORDER BY name, id
            """, arguments: [Self.likePattern(term), TroveKind.component.rawValue])
    }

    /// "%term%" with LIKE's wildcards in `term` taken literally.
    static func likePattern(_ term: String) -> String {
        "%" + term.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    // MARK: Contents

    /// All files of the given troves, with the index of the trove in `troves` as owner.
    public func files(of troves: [Trove]) throws -> [(owner: Int, entry: FileEntry)] {
        let byTrove = try filesByTrove(troves)
        return Self.owned(byTrove, of: troves)
    }

    /// Each trove's files, by trove id, in recorded order: read once when many trees share troves.
    public func filesByTrove(_ troves: [Trove]) throws -> [Int64: [FileEntry]] {
        guard !troves.isEmpty else { return [:] }
        let ids = Set(troves.compactMap(\.id)).map(String.init).joined(separator: ",")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT troveId, path, kind, objectId, sha256, size, mode, uid, gid, target, flags
            FROM files WHERE troveId IN (\(ids)) ORDER BY troveId, id
            """)
        var result: [Int64: [FileEntry]] = [:]
        while let row = try rows.next() {
            let entry = FileEntry(
                path: row[1], kind: FileKind(rawValue: row[2])!, objectID: row[3], sha256: row[4], size: row[5],
                mode: row[6], uid: row[7], gid: row[8], target: row[9], flags: FileFlags(rawValue: row[10]))
            result[row[0], default: []].append(entry)
        }
        return result
    }

    /// Files grouped by trove, flattened with each one's owner (its trove's index in `troves`),
    /// troves in the order they were recorded.
    public static func owned(_ files: [Int64: [FileEntry]], of troves: [Trove]) -> [(owner: Int, entry: FileEntry)] {
        troves.indices.sorted { (troves[$0].id ?? 0) < (troves[$1].id ?? 0) }.flatMap { index in
            troves[index].id.map { files[$0, default: []] }.map { $0.map { (owner: index, entry: $0) } } ?? []
        }
    }

    /// Regular-file bytes of the given troves.
    public func fileBytes(of troves: [Trove]) throws -> Int64 {
        guard !troves.isEmpty else { return 0 }
        let ids = troves.map { String($0.id!) }.joined(separator: ",")
        return try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM files WHERE troveId IN (\(ids))") ?? 0
    }

    /// Which troves ship each of `paths`, as (trove id, path) pairs.
    public func owners(ofPaths paths: Set<String>) throws -> [(trove: Int64, path: String)] {
        let sorted = paths.sorted()
        // In slices, well below SQLite's limit on bound parameters.
        return try stride(from: 0, to: sorted.count, by: 500).flatMap { start -> [(trove: Int64, path: String)] in
            let slice = Array(sorted[start..<min(start + 500, sorted.count)])
            let placeholders = Array(repeating: "?", count: slice.count).joined(separator: ",")
            return try Row.fetchAll(db, sql: "SELECT troveId, path FROM files WHERE path IN (\(placeholders))",
                                    arguments: StatementArguments(slice)).map { ($0[0], $0[1]) }
        }
    }

    public func dependencies(of troveID: Int64) throws -> [Dependency] {
        try Row.fetchAll(db, sql: """
            SELECT relation, capability, comparison, version, alternative FROM dependencies WHERE troveId = ? ORDER BY id
            """, arguments: [troveID]).compactMap { Self.dependency($0, from: 0) }
    }

    public func scriptletNames(of troveID: Int64) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM scriptlets WHERE troveId = ? ORDER BY name", arguments: [troveID])
    }

    /// The dependency in columns `first`… of `row` (relation, capability, comparison, version, alternative).
    private static func dependency(_ row: Row, from first: Int) -> Dependency? {
        guard let relation = Dependency.Relation(rawValue: row[first]) else { return nil }
        return Dependency(relation: relation, capability: row[first + 1], comparison: row[first + 2], version: row[first + 3],
                          alternative: row[first + 4])
    }

    // MARK: The catalog the resolver works on

    /// Every trove of the store with its component links and relations, read in three queries.
    public func catalog() throws -> TroveCatalog {
        let troves = try Trove.fetchAll(db, sql: "SELECT * FROM troves ORDER BY id")
        let memberships = try Row.fetchAll(db, sql: "SELECT parentId, childId FROM troveMembers ORDER BY childId").map {
            (package: $0[0] as Int64, component: $0[1] as Int64)
        }
        var relations: [Int64: [Dependency]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT troveId, relation, capability, comparison, version, alternative FROM dependencies ORDER BY id") {
            guard let dependency = Self.dependency(row, from: 1) else { continue }
            relations[row[0], default: []].append(dependency)
        }
        return TroveCatalog(troves: troves, memberships: memberships, relations: relations)
    }
}
