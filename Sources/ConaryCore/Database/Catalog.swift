import Foundation
import GRDB

/// Queries over troves, files and states that several operations share.
enum Catalog {
    static func insertFiles(_ files: [FileEntry], troveID: Int64, db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO files (troveId, path, kind, objectId, sha256, size, mode, uid, gid, target, flags)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for file in files {
            if let objectID = file.objectID, let sha256 = file.sha256 {
                try recordObject(objectID, sha256: sha256, size: file.size, db: db)
            }
            try statement.execute(arguments: [troveID, file.path, file.kind.rawValue, file.objectID, file.sha256,
                                              file.size, file.mode, file.uid, file.gid, file.target, file.flags.rawValue])
        }
    }

    /// Records that the store holds object `id` (once).
    static func recordObject(_ id: String, sha256: String, size: Int64, db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO objects (id, sha256, size) VALUES (?, ?, ?)").execute(arguments: [id, sha256, size])
    }

    /// All files of the given troves, with the index of the trove in `troves` as owner.
    static func files(of troves: [Trove], db: Database) throws -> [(owner: Int, entry: FileEntry)] {
        var position: [Int64: Int] = [:]
        for (index, trove) in troves.enumerated() { position[trove.id!] = index }
        guard !troves.isEmpty else { return [] }
        let ids = troves.map { String($0.id!) }.joined(separator: ",")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT troveId, path, kind, objectId, sha256, size, mode, uid, gid, target, flags
            FROM files WHERE troveId IN (\(ids)) ORDER BY troveId, id
            """)
        var result: [(Int, FileEntry)] = []
        while let row = try rows.next() {
            let entry = FileEntry(
                path: row[1], kind: FileKind(rawValue: row[2])!, objectID: row[3], sha256: row[4], size: row[5],
                mode: row[6], uid: row[7], gid: row[8], target: row[9], flags: FileFlags(rawValue: row[10]))
            result.append((position[row[0]]!, entry))
        }
        return result
    }

    static func members(ofState id: Int64, db: Database) throws -> [Trove] {
        try Trove.fetchAll(db, sql: """
            SELECT troves.* FROM troves JOIN stateMembers ON stateMembers.troveId = troves.id
            WHERE stateMembers.stateId = ? ORDER BY troves.name, troves.version
            """, arguments: [id])
    }

    /// Why each trove is in a state, by trove id: "explicit" or "required by NAME".
    static func reasons(ofState id: Int64, db: Database) throws -> [Int64: String] {
        Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT troveId, reason FROM stateMembers WHERE stateId = ?",
                                                          arguments: [id]).map { ($0[0] as Int64, $0[1] as String) })
    }

    static func activeState(db: Database) throws -> SystemState? {
        try SystemState.filter(Column("status") == StateStatus.active.rawValue).fetchOne(db)
    }

    static func state(_ id: Int64, db: Database) throws -> SystemState {
        guard let state = try SystemState.fetchOne(db, key: id) else { throw ConaryError.stateNotFound(id) }
        return state
    }

    static func nextStateID(db: Database) throws -> Int64 {
        (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM states") ?? 0) + 1
    }

    /// Finds a trove by "name", "name=version", optionally followed by "[flavor]". Among the
    /// candidates that can run on `system` (with the requested flavor laid over it, and its
    /// required flags demanded of the trove), the best-scoring flavor wins, then the newest
    /// version in the format's own ordering. Versions of one name in different formats
    /// cannot be ordered against each other, so those must be named.
    static func trove(matching spec: String, system: Flavor, db: Database) throws -> Trove {
        var text = Substring(spec)
        var requested = Flavor.empty
        if text.hasSuffix("]"), let open = text.firstIndex(of: "[") {
            requested = try Flavor(String(text[text.index(after: open)..<text.index(before: text.endIndex)]))
            text = text[..<open]
        }
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        var request = Trove.filter(Column("name") == parts[0])
        if parts.count == 2 { request = request.filter(Column("version") == parts[1]) }
        let found = try request.order(Column("id")).fetchAll(db)
        guard let first = found.first else { throw ConaryError.troveNotFound(spec) }
        guard found.allSatisfy({ $0.format == first.format }) else {
            throw ConaryError.ambiguousTrove(parts[0], versions: found.map(\.version))
        }
        let target = system.overridden(by: requested)
        let fitting = try found.compactMap { trove -> (Trove, Int)? in
            let flavor = try Flavor(trove.flavor)
            guard requested.flags.allSatisfy({ name, sense in
                sense == .required ? flavor.flags[name] == .required : sense == .disallowed ? flavor.flags[name] != .required : true
            }), let score = flavor.score(on: target) else { return nil }
            return (trove, score)
        }
        let scheme = VersionScheme(of: first)
        guard let best = fitting.max(by: { a, b in
            a.1 != b.1 ? a.1 < b.1 : scheme.compare(a.0.version, b.0.version) < 0
        }) else {
            throw ConaryError.noFittingFlavor(spec, flavors: found.map { $0.flavor.isEmpty ? "(none)" : $0.flavor }, system: target.description)
        }
        return best.0
    }

    /// A package trove with its component troves (just the trove itself for trees and components).
    static func withComponents(_ trove: Trove, db: Database) throws -> [Trove] {
        let components = try Trove.fetchAll(db, sql: """
            SELECT troves.* FROM troves JOIN troveMembers ON troveMembers.childId = troves.id
            WHERE troveMembers.parentId = ? ORDER BY troves.name
            """, arguments: [trove.id])
        return [trove] + components
    }
}
