import ConaryDatabase
import ConaryFormats
import ConaryModel
import ConarySupport
import ConaryVersions
import Foundation

/// Package sources (`file:///path`), of two kinds. A folder with a Debian `Packages` index is
/// read like apt reads a mirror: a sync records the index, the resolver chooses from it, and
/// install downloads (and checks) only the package files it picked. Any other folder of
/// package files is imported whole at sync. Either way several versions of a package sit side
/// by side and `install NAME` / `update` choose among them.
extension ConaryRoot {
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
            throw ConaryError.invalidRepositoryName(name)
        }
        _ = try folder(of: url)
        try database.write { try $0.addRepository(Repository(name: name, url: url)) }
    }

    public func removeRepository(_ name: String) throws {
        try database.write { try $0.removeRepository(name) }
    }

    public func repositories() throws -> [Repository] {
        try database.read { try $0.repositories() }
    }

    /// Imports the package files of one repository (or all) that are new or changed since
    /// the last sync. A refused package stops the sync with its error; nothing of it is kept.
    public func sync(_ names: [String] = []) throws -> [SyncReport] {
        let chosen = try repositories().filter { names.isEmpty || names.contains($0.name) }
        if let missing = names.first(where: { name in !chosen.contains { $0.name == name } }) {
            throw DatabaseError.noSuchRepository(missing)
        }
        return try chosen.map { repository in
            let folder = try folder(of: repository.url)
            if let index = DebianIndex.find(in: folder) { return try syncIndex(index, of: repository) }
            let known = try database.read { try $0.importedFiles(of: repository.name) }
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
            try database.write { session in
                for (file, trove) in zip(changed, imported) {
                    try session.recordImportedFile(repository: repository.name, path: file.path, size: file.size, mtime: file.mtime,
                                                   troveID: trove.id!)
                }
                try session.markSynced(repository.name)
            }
            return SyncReport(repository: repository.name, imported: imported, unchanged: unchanged, indexed: 0)
        }
    }

    /// Replaces the repository's recorded index with the folder's, in one transaction; entries
    /// for other architectures than this system runs are left out.
    private func syncIndex(_ path: String, of repository: Repository) throws -> SyncReport {
        let system = try systemFlavor()
        let entries = try DebianIndex.read(path).filter { Flavor.architecture($0.architecture).score(on: system) != nil }
        try database.write { session in
            try session.replaceIndex(of: repository.name, with: entries)
            try session.markSynced(repository.name)
        }
        return SyncReport(repository: repository.name, imported: [], unchanged: 0, indexed: entries.count)
    }

    /// Packages in the store or in a synced index whose name or summary contains `term`
    /// (case-insensitive).
    public func search(_ term: String) throws -> [SearchHit] {
        let installed = Set(try installedTroves().compactMap(\.id))
        return try database.read { session in
            let troves = try session.troves(matchingText: term).map { trove in
                SearchHit(name: trove.name, version: trove.version, format: trove.format.rawValue, flavor: trove.flavor, summary: trove.summary,
                          repositories: try session.repositories(holding: trove.id!), installed: installed.contains(trove.id!))
            }
            let indexed = try session.indexEntries(matchingText: term).map { entry, repositories in
                SearchHit(name: entry.name, version: entry.version, format: PackageFormat.deb.rawValue,
                          flavor: Flavor.architecture(entry.architecture).description, summary: entry.summary,
                          repositories: repositories, installed: false)
            }
            return troves + indexed
        }
    }

    func folder(of url: String) throws -> String {
        guard url.hasPrefix("file://") else {
            throw ConaryError.unsupportedRepositoryURL(url)
        }
        let path = String(url.dropFirst("file://".count))
        guard let st = FileSystem.lstat(path), FileSystem.isDirectory(st) || FileSystem.isSymlink(st) else {
            throw ConaryError.notAFolder(path)
        }
        return path
    }
}
