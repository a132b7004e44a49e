import ConaryDatabase
import ConaryDeploy
import ConaryModel
import ConaryStore
import ConarySupport
import Foundation

/// `conary db rebuild`: a new database from the manifests inside the state trees on disk,
/// for a root whose database is lost, damaged or restored from an older copy.
extension ConaryRoot {
    public struct RebuildReport: Sendable {
        public let states: [Int64]
        public let active: Int64?
        /// Where the database that was replaced was moved, if there was one.
        public let previousDatabase: String?
        /// Repositories and pins carried over from the previous database, when it could be read.
        public let keptRepositories: [String]
        public let keptPins: [String]
    }

    /// Builds the new database beside the old one and exchanges the two, so a crash leaves
    /// the old database or the new one in place.
    /// Troves that no state on disk holds, changeset history and synced indexes are not in
    /// the trees; repositories and pins are taken from the old database if it can be read.
    public static func rebuildDatabase(path: String, log: @escaping (String) -> Void = { _ in }) throws -> RebuildReport {
        guard let rootStat = try FileSystem.existingStatus(path) else { throw ConaryError.rootMissing(path) }
        guard FileSystem.isDirectory(rootStat) else { throw ConaryError.rootNotDirectory(path) }
        let conaryPath = path == "/" ? "/conary" : path + "/conary"
        guard try FileSystem.existingStatus(conaryPath) != nil else { throw ConaryError.notInitialized(path) }
        let usrMount = try UsrMount.detachIfMounted(rootPath: path)
        defer { withExtendedLifetime(usrMount) {} }
        let root = try Descriptor.open(path, flags: O_RDONLY | O_DIRECTORY)
        let conary = try Descriptor.directory(conaryPath)
        let lock = try RootLock(directory: conaryPath) { log("Waiting for another conary process to release its lock on \(conaryPath)…") }
        defer { withExtendedLifetime(lock) {} }
        let trees = try StateTrees(root: root, rootPath: path, conary: conary)
        let store = try ObjectStore(path: conaryPath + "/objects")

        let found = try statesToRestore(trees)
        let records = try troveRecords(of: found.map(\.manifest), in: store)
        let databasePath = conaryPath + "/conary.db"
        // Opening a missing database would create one. Closing the old one folds its
        // write-ahead log into it, so no log is left to be applied to the new file.
        let previous = try FileSystem.existingStatus(databasePath) == nil ? nil : try? StateDatabase(path: databasePath)
        let repositories = (try? previous?.read { try $0.repositories() }) ?? []
        let pinnedTroves = (try? previous?.read { try $0.pinnedNames() }) ?? []
        let pinnedStates = Set(((try? previous?.read { try $0.allStates() }) ?? []).filter(\.pinned).map(\.id))
        try previous?.close()

        let staged = "conary.db.rebuild"
        for suffix in ["", "-wal", "-shm"] { try FileSystem.removeTree(staged + suffix, relativeTo: conary.fd) }
        let fresh = try StateDatabase(path: conaryPath + "/" + staged)
        try fresh.write { session in
            for (manifest, status) in found {
                try session.restore(manifest, records: records, status: status) { id in
                    Int64(store.identity(of: id)?.st_size ?? 0)
                }
                if pinnedStates.contains(manifest.state.id) { try session.setPinned(state: manifest.state.id, true) }
            }
            for repository in repositories { try session.addRepository(Repository(name: repository.name, url: repository.url)) }
            for name in pinnedTroves { try session.setPinned(trove: name, true) }
            try session.linkComponentsToPackages()
        }
        try fresh.close()
        if FileSystem.exists(staged + "-wal", relativeTo: conary.fd) {
            throw ConaryError.cannotRebuild("SQLite kept a write-ahead log beside \(conaryPath)/\(staged); the old database was left in place.")
        }
        FaultInjection.point("rebuild.staged")

        // The new database takes the old one's place in one exchange, so a crash leaves one
        // or the other as conary.db; the old one then moves aside under a dated name.
        var moved: String?
        if FileSystem.exists("conary.db", relativeTo: conary.fd) {
            let stamp = ISO8601DateFormatter().string(from: Date()).replacingOccurrences(of: ":", with: "")
            let aside = "conary.db.before-rebuild-\(stamp)"
            // A log the old database could not fold in (it would not open) is its own.
            for suffix in ["-wal", "-shm"] where FileSystem.exists("conary.db" + suffix, relativeTo: conary.fd) {
                try sys("Moving aside", "conary.db" + suffix, renameat(conary.fd, "conary.db" + suffix, conary.fd, aside + suffix))
            }
            try FileSystem.exchange(staged, "conary.db", in: conary.fd)
            try conary.sync()
            FaultInjection.point("rebuild.exchanged")
            try sys("Moving aside", "conary.db", renameat(conary.fd, staged, conary.fd, aside))
            moved = conaryPath + "/" + aside
        } else {
            try sys("Renaming", staged, renameat(conary.fd, staged, conary.fd, "conary.db"))
        }
        try conary.sync()
        return RebuildReport(states: found.map(\.manifest.state.id), active: found.first { $0.status == .active }?.manifest.state.id,
                             previousDatabase: moved, keptRepositories: repositories.map(\.name), keptPins: pinnedTroves.sorted())
    }

    /// The trove records the manifests name, read from the store and checked against their ids.
    private static func troveRecords(of manifests: [StateManifest], in store: ObjectStore) throws -> [String: DatabaseSession.StoredRecord] {
        var records: [String: DatabaseSession.StoredRecord] = [:]
        var lost: [String] = []
        for manifest in manifests {
            for member in manifest.troves where records[member.record] == nil {
                if let stored = try StateManifests.storedRecord(member.record, in: store) {
                    records[member.record] = stored
                } else if !lost.contains(member.trove) {
                    lost.append(member.trove)
                }
            }
        }
        guard lost.isEmpty else {
            throw ConaryError.cannotRebuild("The database cannot be rebuilt, as the store lacks a good record of "
                                            + lost.prefix(5).joined(separator: ", ") + (lost.count > 5 ? " and \(lost.count - 5) more" : "")
                                            + "; the states that hold them cannot be described.")
        }
        return records
    }

    /// The manifests of the trees on disk, oldest state first, with the status each state
    /// gets. A tree in staging numbered above the live state never went live (its changeset
    /// was interrupted before the swap) and is left for recovery to discard.
    private static func statesToRestore(_ trees: StateTrees) throws -> [(manifest: StateManifest, status: StateStatus)] {
        let onDisk = try trees.treesOnDisk()
        let live = onDisk.first { $0.location == .live }?.state
        var found: [Int64: (manifest: StateManifest, status: StateStatus)] = [:]
        var problems: [String] = []
        for (location, state) in onDisk {
            // A tree without a marker belongs to no state (an empty /usr, a tree recovery removes).
            guard let state else { continue }
            if location == .staging, let live, state > live { continue }
            guard let manifest = try trees.manifest(at: location) else {
                problems.append("\(location) (state \(state)) has no manifest, as Conary before 0.12 wrote none")
                continue
            }
            guard manifest.state.id == state else {
                problems.append("\(location) is marked as state \(state) but its manifest describes state \(manifest.state.id)")
                continue
            }
            guard found[state] == nil else {
                problems.append("two trees on disk say they hold state \(state)")
                continue
            }
            found[state] = (manifest, location == .live ? .active : .archived)
        }
        if !problems.isEmpty {
            throw ConaryError.cannotRebuild("The database cannot be rebuilt, as " + problems.joined(separator: "; ")
                                            + "; move such trees out of the root and rebuild again.")
        }
        guard !found.isEmpty else { throw ConaryError.cannotRebuild("No state tree with a manifest is on disk, so there is nothing to rebuild from.") }
        return found.keys.sorted().map { found[$0]! }
    }
}
