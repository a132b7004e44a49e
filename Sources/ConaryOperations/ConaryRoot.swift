import ConaryDatabase
import ConaryDeploy
import ConaryFormats
import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVersions
import ConaryVFS
import Foundation

/// One system root (`/` or `--root DIR`) opened for work: locked, recovered from any
/// interrupted changeset, with its database, store and state trees at hand. This is the
/// facade the command-line interface calls; the work is done by the layers below.
public final class ConaryRoot {
    public let path: String
    /// <root>/conary: the database, the store, the state trees and Conary's settings.
    let conaryPath: String
    public let database: StateDatabase
    public let store: ObjectStore
    let trees: StateTrees
    /// Every change of the live state goes through it.
    let transaction: StateTransaction
    let layout: RootLayout
    private let lock: RootLock
    /// Whether this open made conary/: a command that then fails removes it again.
    private let createdConaryFolder: Bool
    /// Progress and recovery messages for the user (the CLI prints them to stderr).
    let log: (String) -> Void

    /// Opens `path`. With `create`, a root without Conary gets its conary/ folder;
    /// without it, such a root is an error (read-only commands should not create anything).
    public init(path: String, create: Bool, layout: RootLayout = .standard, log: @escaping (String) -> Void = { _ in }) throws {
        self.path = path
        self.layout = layout
        self.log = log
        guard let rootStat = try FileSystem.existingStatus(path) else { throw ConaryError.rootMissing(path) }
        guard FileSystem.isDirectory(rootStat) else { throw ConaryError.rootNotDirectory(path) }
        let conaryPath = path == "/" ? "/conary" : path + "/conary"
        self.conaryPath = conaryPath
        // A database this user may not look at is a permission error, not a missing database.
        if try FileSystem.existingStatus(conaryPath + "/conary.db") == nil {
            // A fresh database on a root with states would forget them (and reuse their numbers).
            if StateTrees.rootHoldsStates(path) { throw DeployError.databaseMissing(root: path) }
            if !create { throw ConaryError.notInitialized(path) }
        }
        // Before any descriptor into the root is opened: they must see the physical tree.
        let usrMount = try UsrMount.detachIfMounted(rootPath: path)
        createdConaryFolder = try FileSystem.existingStatus(conaryPath) == nil
        try FileSystem.makeDirectory(conaryPath, mode: 0o700)
        let root = try Descriptor.open(path, flags: O_RDONLY | O_DIRECTORY)
        let conary = try Descriptor.directory(conaryPath)
        if try root.stat().st_dev != conary.stat().st_dev { throw DeployError.crossDevice(conaryPath) }
        lock = try RootLock(directory: conaryPath) { log("Waiting for another conary process to release its lock on \(conaryPath)…") }
        store = try ObjectStore(path: conaryPath + "/objects")
        database = try StateDatabase(path: conaryPath + "/conary.db")
        trees = try StateTrees(root: root, rootPath: path, conary: conary)
        transaction = StateTransaction(database: database, store: store, trees: trees, usrMount: usrMount,
                                       transientFolders: [Self.downloadFolder], log: log)
        for message in try transaction.recover() { log(message) }
        // Commands that may write take the reserve; read-only ones create nothing.
        if create { spaceReserve.ensure() }
    }

    /// Leaves a root that had no conary/ before this open as it was, for a command that
    /// failed. Not once a state went live: its files are links into this store.
    public func discardIfCreated() {
        guard createdConaryFolder, (try? trees.liveState()) == nil, (try? activeState()) == nil else { return }
        try? FileSystem.removeTree(conaryPath)
    }

    /// Checks that package files to import are regular files (or links to one) before the
    /// root is opened and locked: reading a FIFO would block under the lock, and a pipe from
    /// <(…) cannot be read twice (detection, then import).
    public static func requireRegularFiles(_ paths: [String]) throws {
        for path in paths {
            guard let st = try FileSystem.existingStatus(path) else { throw SystemError(operation: "Opening", path: path, errno: ENOENT) }
            guard FileSystem.isRegular(st) else { throw ConaryError.notRegularFile(path, kind: FileSystem.kindName(st)) }
        }
    }

    /// The install arguments that name package files: those with a "/" before any "=" (no
    /// trove name holds a "/", and a native version's "/" follows the "=").
    public static func packageFiles(among arguments: [String]) -> [String] {
        arguments.filter { $0.prefix { $0 != "=" }.contains("/") }
    }

    // MARK: Shared helpers

    /// Blocks kept free for prune and gc on a full disk.
    var spaceReserve: SpaceReserve { SpaceReserve(path: conaryPath + "/reserve") }

    /// A one-line setting or marker in <root>/conary/<name>, trimmed; nil when there is none.
    func setting(_ name: String) throws -> String? {
        try FileSystem.readSmallFile(conaryPath + "/" + name)?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes <root>/conary/<name> atomically, or removes it for nil.
    func setSetting(_ name: String, to value: String?) throws {
        guard let value else { return try FileSystem.removeTree(conaryPath + "/" + name) }
        let conary = try Descriptor.directory(conaryPath)
        try FileSystem.writeAtomically(value + "\n", to: name, relativeTo: conary.fd)
    }

    func activeState() throws -> SystemState? {
        try database.read { try $0.activeState() }
    }

    func requireActiveState() throws -> SystemState {
        guard let state = try activeState() else { throw ConaryError.noActiveState }
        return state
    }

    /// The in-memory tree of a set of troves (conflicts are found here, before any change).
    func buildTree(_ troves: [Trove]) throws -> ArenaTree {
        try buildTree(troves, files: try database.read { try $0.filesByTrove(troves) })
    }

    /// The tree of `troves` from their files read already (`filesByTrove`), for many trees that
    /// share troves.
    func buildTree(_ troves: [Trove], files: [Int64: [FileEntry]]) throws -> ArenaTree {
        try TreeBuilder.build(.init(ownerNames: troves.map(\.spec), files: DatabaseSession.owned(files, of: troves)), layout: layout)
    }

    public func tree(ofState id: Int64) throws -> ArenaTree {
        try buildTree(try database.read { try $0.members(ofState: id) })
    }

    // MARK: Import

    /// Imports a directory tree as a new trove.
    public func commit(directory: String, name: String, version: String) throws -> TreeImporter.Summary {
        try transaction.requireAgreement()
        return try TreeImporter.importTree(at: directory, name: name, version: version, store: store, database: database)
    }

    /// Imports package files (.deb) as package troves with components, all or nothing.
    public func importPackages(_ paths: [String]) throws -> [Trove] {
        try Self.requireRegularFiles(paths)
        try transaction.requireAgreement()
        return try PackageImporter.importPackages(paths, store: store, database: database, trustedKeys: try trustedKeys())
    }

    /// <root>/conary/trusted-keys/<id>.pub: the CCS signing keys this root accepts.
    private var trustedKeyDirectory: String { conaryPath + "/trusted-keys" }

    public func trustedKeys() throws -> Set<String> {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: trustedKeyDirectory) else { return [] }
        return Set(names.filter { $0.hasSuffix(".pub") }.compactMap {
            try? String(contentsOfFile: trustedKeyDirectory + "/" + $0, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        })
    }

    /// Adds a public key (hex, as `ccs keygen` writes it) to the trusted keys; returns its id.
    @discardableResult
    public func trust(publicKey: String) throws -> String {
        guard let bytes = CCSSigning.bytes(publicKey), bytes.count == 32 else {
            throw ConaryError.invalidPublicKey
        }
        let id = CCSSigning.keyID(publicKey)
        try FileSystem.makeDirectory(trustedKeyDirectory, mode: 0o755)
        let directory = try Descriptor.directory(trustedKeyDirectory)
        try FileSystem.writeAtomically(publicKey + "\n", to: id + ".pub", relativeTo: directory.fd)
        return id
    }
}
