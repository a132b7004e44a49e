import ConaryBoot
import ConaryDatabase
import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVFS
import Foundation

/// The one way a root's live state changes. A new state goes through:
///
///     record ─► stage (blit, initramfs, …) ─► swap ─► archive ─► commit
///
/// *record* writes the state, its members and kernels as pending and the changeset, with
/// fsync, before anything on disk changes; each staging step works on the staged tree only;
/// *swap* is one renameat2(RENAME_EXCHANGE) of staging/usr and usr; *archive* moves the
/// previous tree to states/<old>/usr; *commit* marks the state active and the changeset
/// applied. Activating an existing state (rollback, `state activate`, a next-boot switch, a
/// boot-counting fallback) skips record's tree work and the staging steps: it exchanges
/// states/N/usr with usr. `recover()` (Recovery.swift) finishes or undoes a changeset a
/// crash interrupted at any of these points.
public final class StateTransaction {
    let database: StateDatabase
    let store: ObjectStore
    let trees: StateTrees
    let usrMount: UsrMount?
    let log: (String) -> Void
    /// Folders under conary/ that only live during a changeset (package downloads, say):
    /// recovery clears them.
    let transientFolders: [String]
    /// Set by recovery when the database does not describe the trees on disk.
    var disagreement: DeployError?

    public init(database: StateDatabase, store: ObjectStore, trees: StateTrees, usrMount: UsrMount?,
                transientFolders: [String], log: @escaping (String) -> Void) {
        self.database = database
        self.store = store
        self.trees = trees
        self.usrMount = usrMount
        self.transientFolders = transientFolders
        self.log = log
    }

    /// A state to build: its troves (already arranged into `tree`) and why each is there.
    public struct NewState {
        public let members: [Trove]
        public let reasons: [Int64: InstallReason]
        public let tree: ArenaTree
        public let kind: ChangesetKind
        public let summary: String
        public let command: String

        public init(members: [Trove], reasons: [Int64: InstallReason], tree: ArenaTree, kind: ChangesetKind, summary: String, command: String) {
            self.members = members
            self.reasons = reasons
            self.tree = tree
            self.kind = kind
            self.summary = summary
            self.command = command
        }
    }

    public struct Outcome: Sendable {
        public let state: SystemState
        /// What the blit created.
        public let blit: Blitter.Stats
        /// Seconds each staging step took, in order, the blit first.
        public let stepSeconds: [(step: String, seconds: Double)]
        public let swapSeconds: Double
    }

    /// Builds and deploys a new state. Conflicts were found when the tree was built; the
    /// checks here refuse a root the swap cannot work on, before anything is recorded.
    /// The blit is always the first staging step (it writes the tree and the state marker
    /// the swap and recovery rely on); `steps` run after it, in order, and the manifest
    /// last, as it records what they added.
    public func deploy(_ new: NewState, steps: [StagingStep], layout: RootLayout) throws -> Outcome {
        let live = try preflight(layout: layout)
        // A number is never used twice: not the database's, not one a tree on disk carries.
        let highestOnDisk = try trees.highestStateOnDisk()

        let usrNode = new.tree.lookup("/usr")
        // One database transaction: the pending state, its members and kernels, and the
        // changeset that names it exist together or not at all.
        let (state, kernels, changeset) = try database.write { session -> (SystemState, [StateKernel], Changeset) in
            let previous = try session.activeState()
            let id = max(try session.nextStateID(), highestOnDisk + 1)
            let state = SystemState(id: id, parent: previous?.id, created: Date(), summary: new.summary,
                                    treeHash: usrNode.map { new.tree.treeHash(below: $0) } ?? "",
                                    fileCount: usrNode.map { new.tree.descendantCount(of: $0) } ?? 0,
                                    status: .pending, pinned: false)
            try session.recordPending(state, members: new.members.map { ($0.id!, new.reasons[$0.id!] ?? .explicit) })
            let kernels = try KernelFinder.find(in: new.tree, state: id, store: store, contentSHA256: session.contentSHA256(ofObject:))
            try session.insertKernels(kernels)
            return (state, kernels, try session.beginChangeset(new.kind, from: previous?.id, to: id, command: new.command))
        }
        FaultInjection.point("changeset.recorded")

        let staging = StagingArea(state: state, tree: new.tree, kernels: kernels, store: store, database: database, trees: trees, log: log)
        var stepSeconds: [(String, Double)] = []
        let blit = BlitStep()
        do {
            try trees.freshStaging()
            for step in [blit] + steps + [ManifestStep()] {
                let (_, seconds) = try measure { try step.stage(staging) }
                stepSeconds.append((step.name, seconds))
            }
        } catch {
            // Nothing went live: undo the changeset now (staging, the pending state) rather than at the next run.
            _ = try? recover()
            throw error
        }

        FaultInjection.point("swap.before")
        let (_, swapSeconds) = try measure {
            try trees.ensureRootLinks(layout)
            try trees.swapStagingIn()
        }
        FaultInjection.point("swap.exchanged")
        finishAfterSwap(state.id, changeset: changeset.id!) {
            // The tree swapped out is archived under its own number, even if /usr was tampered with.
            if let live { try trees.archive(StateTrees.stagingUsr, as: live) }
            FaultInjection.point("swap.archived")
        }
        FaultInjection.point("changeset.applied")
        trees.removeEmptyHolder(StateTrees.staging)
        remountLiveUsr(previous: live)
        var applied = state
        applied.status = .active
        return Outcome(state: applied, blit: blit.stats, stepSeconds: stepSeconds, swapSeconds: swapSeconds)
    }

    /// The checks a deploy makes before it records anything (a dry run makes them too):
    /// the database agrees with the disk, the root is merged-/usr with /usr on Conary's
    /// filesystem and managed by Conary, a boot into an archived state has made it live, and
    /// staging is free. Returns the live state.
    @discardableResult
    public func preflight(layout: RootLayout) throws -> Int64? {
        try requireAgreement()
        for link in layout.rootLinks { try trees.checkRootLink(link) }
        try trees.requireSwappableUsr()
        try requireBootedStateLive()
        let live = try trees.liveState()  // refuses an unmanaged /usr
        if let held = try trees.marker(of: StateTrees.stagingUsr, relativeTo: trees.conary.fd) {
            throw DeployError.stagingOccupied(state: held)
        }
        return live
    }

    /// After a swap the new state is live whatever else fails: archiving the previous tree
    /// and committing the changeset are finished here if they can be, and otherwise reported
    /// and left to recovery, which finishes a changeset whose state is live.
    private func finishAfterSwap(_ id: Int64, changeset: Int64, archive: () throws -> Void) {
        do {
            try archive()
        } catch {
            log("State \(id) is live, but archiving the previous tree failed: \(error) The next command finishes it.")
        }
        do {
            try database.write { try $0.markActive(id, changeset: changeset) }
        } catch {
            log("State \(id) is live, but recording it as active failed: \(error) The next command records it.")
        }
    }

    /// Makes the archived state `id` live by exchanging trees: no blit, no staging steps.
    /// With `expected` (the tree its records describe), a tree that fails the fast check is
    /// refused; a state that booted and runs well is adopted without it.
    @discardableResult
    public func activate(_ id: Int64, kind: ChangesetKind, command: String, expected: ArenaTree?) throws -> SystemState {
        try requireAgreement()
        let (target, current) = try database.read { (try $0.stateIfRecorded(id), try $0.activeState()) }
        guard let target else { throw DatabaseError.stateNotFound(id) }
        try Self.requireArchived(target)
        guard let current else { throw DeployError.stateUnavailable(id, reason: "no state is active to switch from") }
        guard try trees.marker(of: StateTrees.archived(id), relativeTo: trees.conary.fd) == id else {
            throw DeployError.stateUnavailable(id, reason: "its tree is missing from \(StateTrees.archived(id))")
        }
        if let expected { try requireIntactArchive(id, expected: expected) }
        try trees.requireSwappableUsr()
        guard let live = try trees.liveState() else {
            throw DeployError.stateUnavailable(id, reason: "\(trees.rootPath)/usr is missing, so there is nothing to exchange it with")
        }
        let changeset = try database.write { try $0.beginChangeset(kind, from: current.id, to: id, command: command) }
        FaultInjection.point("activate.recorded")
        try trees.exchange(StateTrees.archived(id))
        FaultInjection.point("activate.exchanged")
        finishAfterSwap(id, changeset: changeset.id!) {
            try trees.archive(StateTrees.archived(id), as: live)
            trees.removeEmptyHolder("\(StateTrees.states)/\(id)")
            FaultInjection.point("activate.archived")
        }
        remountLiveUsr(previous: live)
        var activated = target
        activated.status = .active
        return activated
    }

    /// Refuses the archived tree of state `id` if it fails the fast check against `expected`:
    /// a tree that lost files must not go live.
    public func requireIntactArchive(_ id: Int64, expected: ArenaTree) throws {
        guard trees.hasArchive(id) else {
            throw DeployError.stateUnavailable(id, reason: "its tree is missing from \(StateTrees.archived(id))")
        }
        let problems = try trees.problems(at: .archived(folder: id), check: TreeCheck(tree: expected, depth: .fast))
        if let first = problems.first { throw DeployError.damagedTree(state: id, first: first.description, count: problems.count) }
    }

    /// Only an archived state has a tree to switch to.
    public static func requireArchived(_ state: SystemState) throws {
        switch state.status {
        case .active: throw DeployError.alreadyActive(state.id)
        case .pruned: throw DeployError.stateUnavailable(state.id, reason: "it was pruned")
        case .pending: throw DeployError.stateUnavailable(state.id, reason: "it was never completed")
        case .archived: return
        }
    }

    /// In a boot into an archived state, changes would be built on the live state instead of
    /// the one running; the booted state must be made live first.
    func requireBootedStateLive() throws {
        guard let booted = usrMount?.bootedState, let live = try trees.liveState(), booted != live else { return }
        throw DeployError.bootedStateNotLive(booted: booted, live: live)
    }

    /// After a swap in a boot with /usr mounted over: the running system's /usr shows the new
    /// live tree. The state already changed, so a failure is reported, not thrown.
    private func remountLiveUsr(previous: Int64?) {
        guard let usrMount, let previous else { return }
        do { try usrMount.remountLive(previous: previous) } catch {
            log("The new state is live on disk, but /usr could not be mounted on it: \(error) It is used from the next boot.")
        }
    }
}
