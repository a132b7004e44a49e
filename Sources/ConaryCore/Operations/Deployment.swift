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

    /// What a changeset will do, computed before anything changes (`--dry-run` prints it).
    public struct Plan: Sendable {
        public let kind: String
        public let members: [Trove]
        public let added: [String]
        public let updated: [String]
        public let removed: [String]
        /// Regular-file bytes of the troves that arrive (linked from the store, not copied).
        public let incomingBytes: Int64

        public var summary: String {
            [("install", added), ("update", updated), ("remove", removed)].filter { !$0.1.isEmpty }
                .map { "\($0.0) \(Plan.abbreviated($0.1))" }.joined(separator: "; ")
        }

        /// "a, b, c" for short lists, "a, b, c and 197 more" for long ones (state summaries stay one line).
        private static func abbreviated(_ items: [String]) -> String {
            items.count <= 4 ? items.joined(separator: ", ") : items.prefix(3).joined(separator: ", ") + " and \(items.count - 3) more"
        }
    }

    /// Adds troves to the active state. A spec is "name", "name=version", "name[flavor]",
    /// "name:component" or the path of a package file, which is imported first. A package
    /// brings its components; a trove whose name is installed replaces that version.
    @discardableResult
    public func install(_ specs: [String], command: String) throws -> DeployResult {
        try apply(try planInstall(specs), command: command)
    }

    /// Removes troves; one whose removal would leave an installed trove with an unmet
    /// requirement is refused unless `allowBreaking`.
    @discardableResult
    public func remove(_ names: [String], allowBreaking: Bool = false, command: String) throws -> DeployResult {
        try apply(try planRemove(names, allowBreaking: allowBreaking), command: command)
    }

    /// Moves installed troves (all, or the named ones) to their newest fitting versions.
    @discardableResult
    public func update(_ names: [String], command: String) throws -> DeployResult {
        try apply(try planUpdate(names), command: command)
    }

    public func apply(_ plan: Plan, command: String) throws -> DeployResult {
        try deploy(plan.members, kind: plan.kind, summary: plan.summary, command: command)
    }

    public func planInstall(_ specs: [String]) throws -> Plan {
        guard !specs.isEmpty else { throw ConaryError.invalidArgument("Name at least one trove to install.") }
        let files = specs.filter(isPackageFile)
        let imported = try importPackages(files)
        let system = try systemFlavor()
        let pinned = try pinnedNames()
        var members = try activeMembers()
        var added: [String] = [], updated: [String] = []
        var incoming: [Trove] = []
        for spec in specs {
            // A name picks a flavor that fits; a package file must fit as it is.
            let trove = try files.firstIndex(of: spec).map { imported[$0] } ?? self.trove(matching: spec)
            if files.contains(spec), try Flavor(trove.flavor).score(on: system) == nil {
                throw ConaryError.invalidArgument("\(trove.spec) is built for \(trove.flavor), which this system (\(system)) cannot run.")
            }
            guard let change = try replace(in: &members, with: trove, pinned: pinned) else { continue }
            if let old = change.replacedVersion { updated.append("\(trove.name) \(old) → \(trove.version)") } else { added.append(trove.spec) }
            incoming += change.arriving
        }
        guard !added.isEmpty || !updated.isEmpty else {
            throw ConaryError.invalidArgument("Nothing to do: \(specs.joined(separator: ", ")) already in the active state.")
        }
        return Plan(kind: "install", members: members, added: added, updated: updated, removed: [],
                    incomingBytes: try bytes(of: incoming))
    }

    /// "name" drops a package with its components, "name:component" only that component.
    public func planRemove(_ names: [String], allowBreaking: Bool = false) throws -> Plan {
        guard !names.isEmpty else { throw ConaryError.invalidArgument("Name at least one trove to remove.") }
        var members = try activeMembers()
        let pinned = try pinnedNames()
        for name in names {
            let bare = String(name.split(separator: "=").first ?? "")
            let matches = members.filter { $0.name == bare || $0.spec == name || !bare.contains(":") && $0.packageName == bare }
            guard !matches.isEmpty else { throw ConaryError.troveNotInstalled(name) }
            if pinned.contains(matches[0].packageName) { throw ConaryError.pinned(matches[0].packageName) }
            members.removeAll { matches.contains($0) }
        }
        let dependants = try broken(from: activeMembers(), to: members)
        if !allowBreaking && !dependants.isEmpty {
            throw ConaryError.wouldBreak(names, dependants: dependants.map(\.spec))
        }
        return Plan(kind: "remove", members: members, added: [], updated: [], removed: names, incomingBytes: 0)
    }

    public func planUpdate(_ names: [String]) throws -> Plan {
        var members = try activeMembers()
        let pinned = try pinnedNames()
        // Packages, trees, and components installed without their package.
        let packageNames = Set(members.filter { $0.kind != "component" }.map(\.name))
        var candidates = members.filter { $0.kind != "component" || !packageNames.contains($0.packageName) }.map(\.name)
        if !names.isEmpty {
            for name in names where !candidates.contains(name) { throw ConaryError.troveNotInstalled(name) }
            candidates = names
        }
        var updated: [String] = []
        var incoming: [Trove] = []
        for name in candidates where !pinned.contains(name.split(separator: ":")[0].description) {
            let installed = members.first { $0.name == name }!
            let newest = try trove(matching: name)
            guard VersionScheme(format: newest.format).compare(newest.version, installed.version) > 0,
                  let change = try replace(in: &members, with: newest, pinned: pinned) else { continue }
            updated.append("\(name) \(installed.version) → \(newest.version)")
            incoming += change.arriving
        }
        guard !updated.isEmpty else { throw ConaryError.invalidArgument("Nothing to update: every trove is at its newest version.") }
        return Plan(kind: "update", members: members, added: [], updated: updated, removed: [], incomingBytes: try bytes(of: incoming))
    }

    private func activeMembers() throws -> [Trove] {
        guard let active = try activeState() else { return [] }
        return try database.read { try Catalog.members(ofState: active.id, db: $0) }
    }

    /// Puts `trove` (with its components) into `members`, replacing what has its name: a
    /// package replaces every trove of its name, a component only its own name. Returns nil
    /// when it is installed already; a pinned name refuses another version.
    private func replace(in members: inout [Trove], with trove: Trove, pinned: Set<String>) throws -> (replacedVersion: String?, arriving: [Trove])? {
        let arriving = try database.read { try Catalog.withComponents(trove, db: $0) }
        if arriving.allSatisfy(members.contains) { return nil }
        let replaced = members.filter { trove.kind == "component" ? $0.name == trove.name : $0.packageName == trove.name }
        let old = replaced.first { $0.name == trove.name && $0.version != trove.version }
        if old != nil, pinned.contains(trove.packageName) { throw ConaryError.pinned(trove.packageName) }
        members.removeAll { replaced.contains($0) }
        members += arriving
        return (old?.version, arriving)
    }

    private func bytes(of troves: [Trove]) throws -> Int64 {
        guard !troves.isEmpty else { return 0 }
        let ids = troves.map { String($0.id!) }.joined(separator: ",")
        return try database.read { try Int64.fetchOne($0, sql: "SELECT COALESCE(SUM(size), 0) FROM files WHERE troveId IN (\(ids))") ?? 0 }
    }

    /// A spec naming an existing regular file is a package to import, not a trove name.
    private func isPackageFile(_ spec: String) -> Bool {
        guard spec.contains("/"), let st = FileSystem.lstat(spec) else { return false }
        return FileSystem.isRegular(st) || FileSystem.isSymlink(st)
    }

    // MARK: Pins

    /// Keeps a package at its installed version: update skips it, install of another version
    /// and remove refuse it until it is unpinned.
    public func pinTrove(_ name: String, _ pinned: Bool) throws {
        if pinned {
            guard try activeMembers().contains(where: { $0.name == name }) else { throw ConaryError.troveNotInstalled(name) }
            try database.write { try $0.execute(sql: "INSERT OR IGNORE INTO pins (name) VALUES (?)", arguments: [name]) }
        } else {
            try database.write { try $0.execute(sql: "DELETE FROM pins WHERE name = ?", arguments: [name]) }
        }
    }

    public func pinnedNames() throws -> Set<String> {
        Set(try database.read { try String.fetchAll($0, sql: "SELECT name FROM pins") })
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
