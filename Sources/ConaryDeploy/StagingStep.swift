import ConaryDatabase
import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVFS
import Foundation

/// One step of building a state between its record and its swap. Steps run in order on the
/// staged tree (`conary/staging/usr`) and may add to the store and to the pending state's
/// records; a step that throws undoes the whole changeset, and nothing live has changed.
public protocol StagingStep {
    /// The step's name in messages and timings: "blit", "initramfs".
    var name: String { get }
    func stage(_ staging: StagingArea) throws
}

/// What a staging step works on: the pending state, its tree in memory and on disk.
public struct StagingArea {
    public let state: SystemState
    public let tree: ArenaTree
    /// The kernels found in the tree, as recorded with the pending state.
    public let kernels: [StateKernel]
    public let store: ObjectStore
    public let database: StateDatabase
    let trees: StateTrees
    public let log: (String) -> Void

    /// conary/staging: the folder that holds the staged usr and steps' scratch space.
    public var path: String { trees.conaryPath + "/" + StateTrees.staging }
    public var usrPath: String { trees.conaryPath + "/" + StateTrees.stagingUsr }
}

/// Writes the state's manifest (its records, with each trove's record stored in the store)
/// into the staged tree. The transaction runs it last, after every step that adds to them.
struct ManifestStep: StagingStep {
    let name = "manifest"

    func stage(_ staging: StagingArea) throws {
        let usr = try Descriptor.directory(StateTrees.stagingUsr, relativeTo: staging.trees.conary.fd)
        let manifest = try StateManifests(database: staging.database, store: staging.store).manifest(ofState: staging.state.id)
        try staging.trees.writeManifest(manifest, into: usr)
    }
}

/// Writes the state's /usr into staging with hardlinks from the store, marks it with the
/// state number and syncs the filesystem. The transaction runs it first, always.
public final class BlitStep: StagingStep {
    public static let stepName = "blit"
    public let name = stepName
    /// What the blit created, once it ran.
    private(set) var stats = Blitter.Stats()

    public func stage(_ staging: StagingArea) throws {
        let usr = try Descriptor.directory(StateTrees.stagingUsr, relativeTo: staging.trees.conary.fd)
        if let usrNode = staging.tree.lookup("/usr") {
            stats = try Blitter(tree: staging.tree, store: staging.store).blit(usrNode, into: usr.fd)
        }
        try staging.trees.writeMarker(staging.state.id, into: usr)
        FaultInjection.point("blit.done")
        try usr.syncFilesystem()
    }
}
