import ConaryModel
import Foundation
import GRDB

/// Where stored content came from, for `conary fsck`: each object's users, and the package
/// files (a synced folder's file, an index's download) that can supply it again.
extension DatabaseSession {
    /// Every object the database records, with its size.
    public func objectSizes() throws -> [(id: String, size: Int64)] {
        try Row.fetchAll(db, sql: "SELECT id, size FROM objects ORDER BY id").map { ($0[0], $0[1]) }
    }

    /// The files that use each of `objects`: the trove (a component, or a tree) and the path.
    public func users(ofObjects objects: Set<String>) throws -> [String: [(trove: Trove, path: String)]] {
        var users: [String: [(trove: Trove, path: String)]] = [:]
        for id in objects.sorted() {
            let rows = try Row.fetchAll(db, sql: """
                SELECT troves.*, files.path AS filePath FROM files JOIN troves ON troves.id = files.troveId
                WHERE files.objectId = ? ORDER BY troves.name, files.path
                """, arguments: [id])
            users[id] = try rows.map { (try Trove(row: $0), $0["filePath"]) }
        }
        return users
    }

    /// The package a component belongs to; the trove itself for packages and trees.
    public func package(of trove: Trove) throws -> Trove {
        guard trove.kind == .component else { return trove }
        return try Trove.fetchOne(db, sql: """
            SELECT troves.* FROM troves JOIN troveMembers ON troveMembers.parentId = troves.id WHERE troveMembers.childId = ?
            """, arguments: [trove.id]) ?? trove
    }

    /// The files synced folders imported `package` from.
    public func packageFiles(of package: Trove) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT path FROM repositoryFiles WHERE troveId = ? ORDER BY repository", arguments: [package.id])
    }

    /// Downloads of `package` listed by synced indexes: the same name and version, and a
    /// package file with the very checksum it was imported from.
    public func downloads(of package: Trove) throws -> [PackageDownload] {
        guard let sha256 = package.sha256 else { return [] }
        return try Row.fetchAll(db, sql: """
            SELECT e.repository, r.url, e.filename, e.size, e.sha256 FROM indexEntries e JOIN repositories r ON r.name = e.repository
            WHERE e.name = ? AND e.version = ? AND e.sha256 = ? ORDER BY e.repository
            """, arguments: [package.name, package.version, sha256]).map {
            PackageDownload(repository: $0[0], url: $0[1], filename: $0[2], size: $0[3], sha256: $0[4], spec: package.spec)
        }
    }
}
