import Foundation
import GRDB

/// install and remove: each builds a complete new state tree and swaps it in.
extension ConaryRoot {
    public struct DeployResult: Sendable {
        public let state: SystemState
        public let summary: String
        public let directories: Int
        public let links: Int
        public let copies: Int
        public let symlinks: Int
        public let planSeconds: Double
        public let blitSeconds: Double
        public let swapSeconds: Double
    }

    /// Adds troves ("name" or "name=version") to the active state's troves. A trove whose
    /// name is already installed replaces that version.
    @discardableResult
    public func install(_ specs: [String], command: String) throws -> DeployResult {
        guard !specs.isEmpty else { throw ConaryError.invalidArgument("Name at least one trove to install.") }
        let active = try activeState()
        var members = try database.read { db in try active.map { try Catalog.members(ofState: $0.id, db: db) } ?? [] }
        var added: [String] = []
        var updated: [String] = []
        for spec in specs {
            let trove = try database.read { try Catalog.trove(matching: spec, db: $0) }
            if members.contains(trove) { continue }
            if let index = members.firstIndex(where: { $0.name == trove.name }) {
                updated.append("\(trove.name) \(members[index].version) → \(trove.version)")
                members.remove(at: index)
            } else {
                added.append(trove.spec)
            }
            members.append(trove)
        }
        guard !added.isEmpty || !updated.isEmpty else {
            throw ConaryError.invalidArgument("Nothing to do: \(specs.joined(separator: ", ")) already in the active state.")
        }
        let summary = [("install", added), ("update", updated)].filter { !$0.1.isEmpty }
            .map { "\($0.0) \($0.1.joined(separator: ", "))" }.joined(separator: "; ")
        return try deploy(members, kind: "install", summary: summary, command: command)
    }

    /// Removes troves (by name) from the active state.
    @discardableResult
    public func remove(_ names: [String], command: String) throws -> DeployResult {
        guard !names.isEmpty else { throw ConaryError.invalidArgument("Name at least one trove to remove.") }
        let active = try requireActiveState()
        var members = try database.read { try Catalog.members(ofState: active.id, db: $0) }
        for name in names {
            let bare = String(name.split(separator: "=").first ?? "")
            guard let index = members.firstIndex(where: { $0.name == bare || $0.spec == name }) else {
                throw ConaryError.troveNotInstalled(name)
            }
            members.remove(at: index)
        }
        return try deploy(members, kind: "remove", summary: "remove " + names.joined(separator: ", "), command: command)
    }

    /// The pipeline of one changeset: plan the tree (conflicts fail here, before any change),
    /// record the changeset, blit into staging, sync, swap, archive the old tree, commit.
    func deploy(_ members: [Trove], kind: String, summary: String, command: String) throws -> DeployResult {
        let (tree, planSeconds) = try measure { try buildTree(members) }
        for link in layout.rootLinks { try trees.checkRootLink(link) }
        try trees.requireOneFilesystem()
        let live = try trees.liveState()  // refuses an unmanaged /usr before anything changes
        let previous = try activeState()
        let usrNode = tree.lookup("/usr")
        let id = try database.read { try Catalog.nextStateID(db: $0) }
        let state = SystemState(id: id, parent: previous?.id, created: Date(), summary: summary,
                                treeHash: usrNode.map { tree.treeHash(below: $0) } ?? "",
                                fileCount: usrNode.map { tree.descendantCount(of: $0) } ?? 0,
                                status: .pending, pinned: false)
        let changeset = try database.write { db -> Changeset in
            try state.insert(db)
            for trove in members { try StateMember(stateId: id, troveId: trove.id!, reason: "explicit").insert(db) }
            return try StateLedger.begin(kind: kind, from: previous?.id, to: id, command: command, db: db)
        }
        FaultInjection.point("changeset.recorded")

        let (stats, blitSeconds) = try measure { () -> Blitter.Stats in
            let staging = try trees.freshStaging()
            let stats = try usrNode.map { try Blitter(tree: tree, store: store).blit($0, into: staging.fd) } ?? Blitter.Stats()
            try trees.writeMarker(id, into: staging)
            FaultInjection.point("blit.done")
            try staging.syncFilesystem()
            return stats
        }
        FaultInjection.point("swap.before")
        let (_, swapSeconds) = try measure {
            try trees.ensureRootLinks(layout)
            try trees.swapStagingIn()
        }
        FaultInjection.point("swap.exchanged")
        // The tree swapped out is archived under its own number, even if /usr was tampered with.
        if let live { try trees.archive(StateTrees.stagingUsr, as: live) }
        FaultInjection.point("swap.archived")
        try database.write { try StateLedger.markActive(id, changeset: changeset.id!, db: $0) }
        FaultInjection.point("changeset.applied")
        trees.removeEmptyHolder(StateTrees.staging)
        var applied = state
        applied.status = .active
        return DeployResult(state: applied, summary: summary, directories: stats.directories, links: stats.links,
                            copies: stats.copies, symlinks: stats.symlinks,
                            planSeconds: planSeconds, blitSeconds: blitSeconds, swapSeconds: swapSeconds)
    }
}
