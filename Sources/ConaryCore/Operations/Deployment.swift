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

    /// Adds troves to the active state. A spec is "name", "name=version", "name:component"
    /// or the path of a package file, which is imported first. A package brings its
    /// components; a trove whose name is installed replaces that version.
    @discardableResult
    public func install(_ specs: [String], command: String) throws -> DeployResult {
        guard !specs.isEmpty else { throw ConaryError.invalidArgument("Name at least one trove to install.") }
        let files = specs.filter(isPackageFile)
        let imported = try importPackages(files)
        let system = try systemFlavor()
        let active = try activeState()
        var members = try database.read { db in try active.map { try Catalog.members(ofState: $0.id, db: db) } ?? [] }
        var added: [String] = []
        var updated: [String] = []
        for spec in specs {
            // A name picks a flavor that fits; a package file must fit as it is.
            let trove = try files.firstIndex(of: spec).map { imported[$0] } ?? self.trove(matching: spec)
            if files.contains(spec), try Flavor(trove.flavor).score(on: system) == nil {
                throw ConaryError.invalidArgument("\(trove.spec) is built for \(trove.flavor), which this system (\(system)) cannot run.")
            }
            let incoming = try database.read { try Catalog.withComponents(trove, db: $0) }
            if incoming.allSatisfy(members.contains) { continue }
            // A package replaces every trove of its name; a component only its own name.
            let replaced = members.filter { trove.kind == "component" ? $0.name == trove.name : $0.packageName == trove.name }
            if let old = replaced.first(where: { $0.name == trove.name }), old.version != trove.version {
                updated.append("\(trove.name) \(old.version) → \(trove.version)")
            } else {
                added.append(trove.spec)
            }
            members.removeAll { replaced.contains($0) }
            members += incoming
        }
        guard !added.isEmpty || !updated.isEmpty else {
            throw ConaryError.invalidArgument("Nothing to do: \(specs.joined(separator: ", ")) already in the active state.")
        }
        let summary = [("install", added), ("update", updated)].filter { !$0.1.isEmpty }
            .map { "\($0.0) \(abbreviated($0.1))" }.joined(separator: "; ")
        return try deploy(members, kind: "install", summary: summary, command: command)
    }

    /// "a, b, c" for short lists, "a, b, c and 197 more" for long ones (state summaries stay one line).
    private func abbreviated(_ items: [String]) -> String {
        items.count <= 4 ? items.joined(separator: ", ") : items.prefix(3).joined(separator: ", ") + " and \(items.count - 3) more"
    }

    /// A spec naming an existing regular file is a package to import, not a trove name.
    private func isPackageFile(_ spec: String) -> Bool {
        guard spec.contains("/"), let st = FileSystem.lstat(spec) else { return false }
        return FileSystem.isRegular(st) || FileSystem.isSymlink(st)
    }

    /// Removes troves from the active state: "name" drops a package with its components,
    /// "name:component" only that component.
    @discardableResult
    public func remove(_ names: [String], command: String) throws -> DeployResult {
        guard !names.isEmpty else { throw ConaryError.invalidArgument("Name at least one trove to remove.") }
        let active = try requireActiveState()
        var members = try database.read { try Catalog.members(ofState: active.id, db: $0) }
        for name in names {
            let bare = String(name.split(separator: "=").first ?? "")
            let matches = members.filter { $0.name == bare || $0.spec == name || !bare.contains(":") && $0.packageName == bare }
            guard !matches.isEmpty else { throw ConaryError.troveNotInstalled(name) }
            members.removeAll { matches.contains($0) }
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
