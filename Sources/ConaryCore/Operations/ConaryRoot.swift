import Foundation
import GRDB

/// One system root (`/` or `--root DIR`) opened for work: locked, recovered from any
/// interrupted changeset, with its database, store and state trees at hand.
public final class ConaryRoot {
    public let path: String
    /// <root>/conary: the database, the store, the state trees and Conary's settings.
    let conaryPath: String
    public let database: StateDatabase
    public let store: ObjectStore
    let trees: StateTrees
    let layout: RootLayout
    private let lock: RootLock
    /// Progress and recovery messages for the user (the CLI prints them to stderr).
    let log: (String) -> Void
    /// Set when the boot mounted a state on /usr: Conary then works on the tree underneath.
    let usrMount: UsrMount?

    /// Opens `path`. With `create`, a root without Conary gets its conary/ folder;
    /// without it, such a root is an error (read-only commands should not create anything).
    public init(path: String, create: Bool, layout: RootLayout = .standard, log: @escaping (String) -> Void = { _ in }) throws {
        self.path = path
        self.layout = layout
        self.log = log
        guard let rootStat = FileSystem.lstat(path), FileSystem.isDirectory(rootStat) || FileSystem.isSymlink(rootStat) else {
            throw ConaryError.rootMissing(path)
        }
        let conaryPath = path == "/" ? "/conary" : path + "/conary"
        self.conaryPath = conaryPath
        if !FileSystem.exists(conaryPath + "/conary.db") && !create { throw ConaryError.notInitialized(path) }
        // Before any descriptor into the root is opened: they must see the physical tree.
        usrMount = try UsrMount.detachIfMounted(rootPath: path)
        try FileSystem.makeDirectory(conaryPath, mode: 0o700)
        let root = try Descriptor.open(path, flags: O_RDONLY | O_DIRECTORY)
        let conary = try Descriptor.directory(conaryPath)
        if try root.stat().st_dev != conary.stat().st_dev { throw ConaryError.crossDevice(conaryPath) }
        lock = try RootLock(path: conaryPath + "/lock") { log("Waiting for another conary process to release \(conaryPath)/lock…") }
        store = try ObjectStore(path: conaryPath + "/objects")
        database = try StateDatabase(path: conaryPath + "/conary.db")
        trees = try StateTrees(root: root, rootPath: path, conary: conary)
        for message in try Recovery(database: database, store: store, trees: trees).run() { log(message) }
    }

    // MARK: Shared helpers

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
        try database.read { try Catalog.activeState(db: $0) }
    }

    /// After a swap in a boot with /usr mounted over: the running system's /usr shows the new
    /// live tree. The state already changed, so a failure is reported, not thrown.
    func remountLiveUsr(previous: Int64?) {
        guard let usrMount, let previous else { return }
        do { try usrMount.remountLive(previous: previous) } catch {
            log("The new state is live on disk, but /usr could not be mounted on it: \(error) It is used from the next boot.")
        }
    }

    /// In a boot into an archived state, changes would be built on the live state instead of
    /// the one running; the booted state must be made live first.
    func requireBootedStateLive() throws {
        guard let booted = usrMount?.bootedState, let live = try trees.liveState(), booted != live else { return }
        throw ConaryError.bootedStateNotLive(booted: booted, live: live)
    }

    func requireActiveState() throws -> SystemState {
        guard let state = try activeState() else { throw ConaryError.noActiveState }
        return state
    }

    /// The in-memory tree of a set of troves (conflicts are found here, before any change).
    func buildTree(_ troves: [Trove]) throws -> ArenaTree {
        let files = try database.read { try Catalog.files(of: troves, db: $0) }
        return try TreeBuilder.build(.init(ownerNames: troves.map(\.spec), files: files), layout: layout)
    }

    public func tree(ofState id: Int64) throws -> ArenaTree {
        try buildTree(try database.read { try Catalog.members(ofState: id, db: $0) })
    }

    // MARK: Import

    /// Imports a directory tree as a new trove.
    public func commit(directory: String, name: String, version: String) throws -> TreeImporter.Summary {
        try TreeImporter.importTree(at: directory, name: name, version: version, store: store, database: database)
    }

    /// Imports package files (.deb) as package troves with components, all or nothing.
    public func importPackages(_ paths: [String]) throws -> [Trove] {
        try PackageImporter.importPackages(paths, store: store, database: database, trustedKeys: try trustedKeys())
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
            throw ConaryError.invalidArgument("That is not an Ed25519 public key (64 hex digits).")
        }
        let id = CCSSigning.keyID(publicKey)
        try FileSystem.makeDirectory(trustedKeyDirectory, mode: 0o755)
        let directory = try Descriptor.directory(trustedKeyDirectory)
        try FileSystem.writeAtomically(publicKey + "\n", to: id + ".pub", relativeTo: directory.fd)
        return id
    }
}

/// Seconds elapsed while running `body`.
func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    var result: T?
    let elapsed = try clock.measure { result = try body() }
    return (result!, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}
