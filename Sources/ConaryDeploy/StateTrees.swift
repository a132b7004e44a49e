import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVFS
import CLinux
import Foundation

/// Where state trees live on disk and how they move:
///   <root>/usr                live state (usr/.conary-state names it)
///   <root>/conary/staging/usr the tree being built
///   <root>/conary/states/N/usr archived state N
///   <root>/conary/trash/      trees being deleted
/// Every move is a rename on one filesystem, followed by fsync of both directories.
public final class StateTrees {
    package let root: Descriptor
    let conary: Descriptor
    let rootPath: String
    /// <root>/conary
    let conaryPath: String

    static let staging = "staging"
    static let stagingUsr = "staging/usr"
    static let states = "states"
    static let trash = "trash"

    public init(root: Descriptor, rootPath: String, conary: Descriptor) throws {
        self.root = root
        self.rootPath = rootPath
        self.conaryPath = rootPath == "/" ? "/conary" : rootPath + "/conary"
        self.conary = conary
        for directory in [StateTrees.states, StateTrees.trash] {
            try FileSystem.makeDirectory(directory, relativeTo: conary.fd, mode: 0o700)
        }
    }

    static func archived(_ id: Int64) -> String { "\(states)/\(id)/usr" }

    /// The state number written in a tree, nil if the tree or its marker is missing.
    func marker(of usr: String, relativeTo fd: Int32) throws -> Int64? {
        guard let text = try FileSystem.readSmallFile("\(usr)/\(RootLayout.stateMarker)", relativeTo: fd) else { return nil }
        return Int64(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The number of the live state; nil when there is no live /usr yet (or only an empty one).
    package func liveState() throws -> Int64? {
        guard let st = FileSystem.lstat("usr", relativeTo: root.fd) else { return nil }
        guard FileSystem.isDirectory(st) else { throw DeployError.unmanagedUsr("\(rootPath)/usr") }
        if let id = try marker(of: "usr", relativeTo: root.fd) { return id }
        let usr = try Descriptor.directory("usr", relativeTo: root.fd)
        if try FileSystem.listDirectory(usr.fd).isEmpty { return nil }
        throw DeployError.unmanagedUsr("\(rootPath)/usr")
    }

    /// A separately mounted /usr cannot take part in hardlinks or the exchange.
    /// The live /usr can be exchanged: on Conary's filesystem (a mount the boot put there
    /// is detached for Conary by UsrMount).
    func requireSwappableUsr() throws {
        if let usr = FileSystem.lstat("usr", relativeTo: root.fd), usr.st_dev != (try conary.stat().st_dev) {
            throw DeployError.crossDevice("\(rootPath)/usr")
        }
    }

    func archivedStates() throws -> [Int64] {
        let states = try Descriptor.directory(StateTrees.states, relativeTo: conary.fd)
        return try FileSystem.listDirectory(states.fd).compactMap(Int64.init).sorted()
    }

    /// Whether the root holds state trees (a live /usr with a marker, or archived states),
    /// looked up without opening anything for writing.
    public static func rootHoldsStates(_ rootPath: String) -> Bool {
        let base = rootPath == "/" ? "" : rootPath
        if FileSystem.exists(base + "/usr/" + RootLayout.stateMarker) { return true }
        let archives = (try? FileManager.default.contentsOfDirectory(atPath: base + "/conary/" + states)) ?? []
        return archives.contains { Int64($0) != nil }
    }

    /// The states whose trees are on disk, wherever they are: live, archived (in their own
    /// folder or, after an interrupted move, another's) or waiting in staging.
    func statesOnDisk() throws -> Set<Int64> {
        var found = Set(try archivedStates().compactMap { try marker(of: StateTrees.archived($0), relativeTo: conary.fd) })
        if let live = try? liveState() { found.insert(live) }
        if let staged = try marker(of: StateTrees.stagingUsr, relativeTo: conary.fd) { found.insert(staged) }
        return found
    }

    /// The highest state number any tree on disk carries, or any archive folder is named
    /// after. 0 when there is none.
    func highestStateOnDisk() throws -> Int64 {
        max(try statesOnDisk().max() ?? 0, try archivedStates().max() ?? 0)
    }

    /// Where a tree sits on disk.
    public enum Location: Equatable, Sendable, CustomStringConvertible {
        case live
        case archived(folder: Int64)
        case staging

        public var description: String {
            switch self {
            case .live: return "usr"
            case let .archived(folder): return "conary/\(StateTrees.archived(folder))"
            case .staging: return "conary/\(StateTrees.stagingUsr)"
            }
        }
    }

    /// A directory and path (relative to it) for a tree's location.
    func directory(of location: Location) -> (fd: Int32, path: String) {
        switch location {
        case .live: return (root.fd, "usr")
        case let .archived(folder): return (conary.fd, StateTrees.archived(folder))
        case .staging: return (conary.fd, StateTrees.stagingUsr)
        }
    }

    /// Every state tree on disk (live, archived, in staging) with the state its marker names.
    public func treesOnDisk() throws -> [(location: Location, state: Int64?)] {
        var found: [(Location, Int64?)] = []
        if FileSystem.exists("usr", relativeTo: root.fd) { found.append((.live, try marker(of: "usr", relativeTo: root.fd))) }
        for folder in try archivedStates() where hasArchive(folder) {
            found.append((.archived(folder: folder), try marker(of: StateTrees.archived(folder), relativeTo: conary.fd)))
        }
        if FileSystem.exists(StateTrees.stagingUsr, relativeTo: conary.fd) {
            found.append((.staging, try marker(of: StateTrees.stagingUsr, relativeTo: conary.fd)))
        }
        return found
    }

    public func openTree(at location: Location) throws -> Descriptor {
        let (fd, path) = directory(of: location)
        return try Descriptor.directory(path, relativeTo: fd)
    }

    /// What `check` finds wrong with the tree at `location`.
    public func problems(at location: Location, check: TreeCheck) throws -> [TreeProblem] {
        let usr = try openTree(at: location)
        return try withExtendedLifetime(usr) { try check.problems(in: usr.fd) }
    }

    /// Repairs what a check found wrong with the tree at `location` (see `TreeRepair`) from
    /// the store's objects; returns the problems that remain.
    public func repair(_ problems: [TreeProblem], at location: Location, tree: ArenaTree, store: ObjectStore) throws -> [TreeProblem] {
        try TreeRepair(tree: tree, store: store, trees: self).repair(problems, at: location)
    }

    /// Writes the manifest of the tree at `location` again (from the database's records).
    public func rewriteManifest(_ manifest: StateManifest, at location: Location) throws {
        let (fd, path) = directory(of: location)
        try writeManifest(manifest, into: try Descriptor.directory(path, relativeTo: fd))
    }

    /// The manifest of the tree at `location`; nil when the tree has none.
    public func manifest(at location: Location) throws -> StateManifest? {
        let (fd, path) = directory(of: location)
        return try manifest(of: path, relativeTo: fd)
    }

    func hasArchive(_ id: Int64) -> Bool {
        FileSystem.exists(StateTrees.archived(id), relativeTo: conary.fd)
    }

    /// A fresh, empty staging/usr; anything left there before is discarded.
    func freshStaging() throws {
        try FileSystem.removeTree(StateTrees.staging, relativeTo: conary.fd)
        try sys("Creating directory", StateTrees.staging, mkdirat(conary.fd, StateTrees.staging, 0o700))
        try sys("Creating directory", StateTrees.stagingUsr, mkdirat(conary.fd, StateTrees.stagingUsr, 0o755))
    }

    func writeMarker(_ id: Int64, into usr: Descriptor) throws {
        try FileSystem.writeAtomically("\(id)\n", to: RootLayout.stateMarker, relativeTo: usr.fd, mode: 0o444)
    }

    /// Writes the state's manifest into its tree, durably (the tree's directory is synced).
    func writeManifest(_ manifest: StateManifest, into usr: Descriptor) throws {
        try FileSystem.writeAtomically(try StateManifests.encode(manifest), to: RootLayout.stateManifest, relativeTo: usr.fd, mode: 0o444)
        try usr.sync()
    }

    /// The manifest in the tree `usr` (relative to `fd`); nil for a tree that has none (built
    /// by a Conary before manifests).
    func manifest(of usr: String, relativeTo fd: Int32) throws -> StateManifest? {
        let path = "\(usr)/\(RootLayout.stateManifest)"
        guard let bytes = try FileSystem.readFile(path, relativeTo: fd, limit: Self.manifestLimit) else { return nil }
        let manifest: StateManifest
        do { manifest = try JSONDecoder().decode(StateManifest.self, from: Data(bytes)) } catch {
            throw DeployError.unreadableManifest(path: path, reason: "it is damaged or not a state manifest")
        }
        guard manifest.format == StateManifest.currentFormat else {
            throw DeployError.unreadableManifest(path: path, reason: "format \(manifest.format) is not one this Conary reads")
        }
        return manifest
    }

    /// Far above any real manifest or trove record (a 20,000-file trove's record is a few MiB).
    static let manifestLimit = 1 << 30

    /// Creates the merged-/usr symlinks in the root (bin → usr/bin, …) where they are missing.
    func ensureRootLinks(_ layout: RootLayout) throws {
        for link in layout.rootLinks {
            let name = String(link.path.dropFirst())
            try checkRootLink(link)
            if !FileSystem.exists(name, relativeTo: root.fd) {
                try sys("Creating symlink", "\(rootPath)/\(name)", symlinkat(link.target, root.fd, name))
            }
        }
        try root.sync()
    }

    /// Refuses a root whose /bin, /lib … are real directories or point elsewhere.
    package func checkRootLink(_ link: RootLayout.Link) throws {
        let name = String(link.path.dropFirst())
        guard let st = FileSystem.lstat(name, relativeTo: root.fd) else { return }
        let target = FileSystem.isSymlink(st) ? try FileSystem.readLink(name, relativeTo: root.fd) : nil
        guard target == link.target || target == "/" + link.target else {
            throw DeployError.notMergedUsr(path: "\(rootPath)/\(name)")
        }
    }

    /// Puts staging/usr live. The previous live tree (if any) ends up in staging/usr.
    func swapStagingIn() throws {
        if FileSystem.exists("usr", relativeTo: root.fd), try marker(of: "usr", relativeTo: root.fd) != nil {
            try exchange(StateTrees.stagingUsr)
        } else {
            // First deployment: an empty /usr (if any) makes way for the new tree.
            if FileSystem.exists("usr", relativeTo: root.fd) {
                try sys("Removing empty directory", "\(rootPath)/usr", unlinkat(root.fd, "usr", AT_REMOVEDIR))
            }
            try rename(conary.fd, StateTrees.stagingUsr, root.fd, "usr", flags: CONARY_RENAME_NOREPLACE)
            try root.sync()
            try syncParent(of: StateTrees.stagingUsr)
        }
    }

    /// Exchanges the tree at `path` (relative to conary/) with the live /usr in one step.
    func exchange(_ path: String) throws {
        try rename(conary.fd, path, root.fd, "usr", flags: CONARY_RENAME_EXCHANGE)
        try root.sync()
        try syncParent(of: path)
    }

    /// Moves the tree at `path` (relative to conary/) to states/<id>/usr.
    func archive(_ path: String, as id: Int64) throws {
        try FileSystem.makeDirectory("\(StateTrees.states)/\(id)", relativeTo: conary.fd, mode: 0o755)
        try rename(conary.fd, path, conary.fd, StateTrees.archived(id), flags: CONARY_RENAME_NOREPLACE)
        try syncParent(of: StateTrees.archived(id))
        try syncParent(of: path)
    }

    /// Removes states/<id> (and the empty staging folder, if asked) after their tree moved away.
    func removeEmptyHolder(_ path: String) {
        unlinkat(conary.fd, path, AT_REMOVEDIR)
    }

    /// Deletes a tree in two steps, rename into trash then unlink, so a crash never leaves a
    /// half-deleted tree where a state is expected.
    func delete(_ path: String) throws {
        guard FileSystem.exists(path, relativeTo: conary.fd) else { return }
        let parked = "\(StateTrees.trash)/\(UUID().uuidString)"
        try rename(conary.fd, path, conary.fd, parked, flags: CONARY_RENAME_NOREPLACE)
        try syncParent(of: path)
        try FileSystem.removeTree(parked, relativeTo: conary.fd)
    }

    /// Deletes the archived tree of state `id` (pruning).
    func deleteArchive(of id: Int64) throws {
        try delete("\(StateTrees.states)/\(id)")
    }

    func emptyTrash() throws {
        let trash = try Descriptor.directory(StateTrees.trash, relativeTo: conary.fd)
        for name in try FileSystem.listDirectory(trash.fd) { try FileSystem.removeTree(name, relativeTo: trash.fd) }
    }

    private func syncParent(of path: String) throws {
        let parent = (path as NSString).deletingLastPathComponent
        try Descriptor.directory(parent.isEmpty ? "." : parent, relativeTo: conary.fd).sync()
    }

    private func rename(_ fromFD: Int32, _ from: String, _ toFD: Int32, _ to: String, flags: UInt32) throws {
        if conary_renameat2(fromFD, from, toFD, to, flags) == 0 { return }
        switch errno {
        case EXDEV: throw DeployError.crossDevice("\(rootPath)/usr")
        case EINVAL where flags == CONARY_RENAME_EXCHANGE, ENOSYS: throw DeployError.exchangeUnsupported(rootPath)
        default: throw SystemError(operation: "Renaming", path: "\(from) to \(to)", errno: errno)
        }
    }
}
