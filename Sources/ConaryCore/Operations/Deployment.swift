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
        /// Why each member is installed, by trove id: "explicit" or "required by NAME".
        public let reasons: [Int64: String]
        public let added: [String]
        public let updated: [String]
        public let removed: [String]
        /// Regular-file bytes of the troves that arrive (linked from the store, not copied).
        public let incomingBytes: Int64
        /// How much bigger (or, negative, smaller) the new state's tree is than the active one
        /// (a package still to download counts with its file size).
        public let treeGrowth: Int64
        /// Package files to fetch from repositories before the state can be built.
        public var downloads: [PackageDownload] = []
        /// Why each download is installed, by its name=version.
        public var downloadReasons: [String: String] = [:]

        public var downloadBytes: Int64 { downloads.reduce(0) { $0 + $1.size } }

        public var summary: String {
            [("install", added), ("update", updated), ("remove", removed)].filter { !$0.1.isEmpty }
                .map { "\($0.0) \(Plan.abbreviated($0.1))" }.joined(separator: "; ")
        }

        var isEmpty: Bool { added.isEmpty && updated.isEmpty && removed.isEmpty }

        /// "a, b, c" for short lists, "a, b, c and 197 more" for long ones (state summaries stay one line).
        private static func abbreviated(_ items: [String]) -> String {
            items.count <= 4 ? items.joined(separator: ", ") : items.prefix(3).joined(separator: ", ") + " and \(items.count - 3) more"
        }
    }

    /// Adds troves to the active state with everything they require. A spec is "name",
    /// "name=version", "name[flavor]", "name:component" or the path of a package file, which
    /// is imported first. A trove whose name is installed replaces that version.
    /// `resolving: false` installs exactly what is named (rpm's --nodeps): requirements and
    /// conflicts are not checked, nothing is pulled in; obsoletes still replace.
    @discardableResult
    public func install(_ specs: [String], resolving: Bool = true, command: String) throws -> DeployResult {
        try apply(try planInstall(specs, resolving: resolving), command: command)
    }

    /// Removes troves; one whose removal would leave an installed trove with an unmet
    /// requirement is refused unless `allowBreaking`.
    @discardableResult
    public func remove(_ names: [String], allowBreaking: Bool = false, command: String) throws -> DeployResult {
        try apply(try planRemove(names, allowBreaking: allowBreaking), command: command)
    }

    /// Moves installed troves (all, or the named ones) to their newest versions whose
    /// requirements can be met, pulling in what those need.
    @discardableResult
    public func update(_ names: [String], command: String) throws -> DeployResult {
        try apply(try planUpdate(names), command: command)
    }

    /// Removes the troves that were installed only because something needed them and that
    /// nothing explicitly installed needs any more.
    @discardableResult
    public func autoremove(command: String) throws -> DeployResult {
        try apply(try planAutoremove(), command: command)
    }

    /// Fetches and imports what the plan downloads, then deploys its state.
    public func apply(_ plan: Plan, command: String) throws -> DeployResult {
        var members = plan.members, reasons = plan.reasons
        for trove in try fetch(plan.downloads) {
            let arrived = try database.read { try Catalog.withComponents(trove, db: $0) }
            members += arrived
            for member in arrived { reasons[member.id!] = plan.downloadReasons[trove.spec] ?? "explicit" }
        }
        return try deploy(members, reasons: reasons, kind: plan.kind, summary: plan.summary, command: command)
    }

    public func planInstall(_ specs: [String], resolving: Bool = true) throws -> Plan {
        guard !specs.isEmpty else { throw ConaryError.invalidArgument("Name at least one trove to install.") }
        let files = specs.filter(isPackageFile)
        let imported = try importPackages(files)
        let system = try systemFlavor()
        // A spec the store cannot answer may name an entry of a synced package index.
        let requested = try specs.map { spec -> Trove? in
            // A name picks a flavor that fits; a package file must fit as it is.
            guard let index = files.firstIndex(of: spec) else {
                do { return try self.trove(matching: spec) } catch ConaryError.troveNotFound { return nil }
            }
            let trove = imported[index]
            if try Flavor(trove.flavor).score(on: system) == nil {
                throw ConaryError.invalidArgument("\(trove.spec) is built for \(trove.flavor), which this system (\(system)) cannot run.")
            }
            return trove
        }
        let context = try ResolutionContext(root: self, requested: requested.compactMap { $0 }, resolving: resolving)
        var wanted = Set<Int>()
        for (spec, trove) in zip(specs, requested) {
            guard let unit = context.newest(stored: trove.flatMap(context.unit), indexed: context.indexUnit(matching: spec)) else {
                throw ConaryError.troveNotFound(spec)
            }
            let name = context.resolver.units[unit].name, packageName = String(name.split(separator: ":")[0])
            if let installed = context.installedUnit(named: name), installed != unit, context.pinned.contains(packageName) {
                throw ConaryError.pinned(packageName)
            }
            wanted.insert(unit)
        }
        let outcome = try context.resolver.install(wanted.sorted(), locked: context.locked)
        let plan = try context.plan(kind: "install", outcome: outcome, explicit: wanted, root: self)
        guard !plan.isEmpty else {
            throw ConaryError.invalidArgument("Nothing to do: \(specs.joined(separator: ", ")) already in the active state.")
        }
        return plan
    }

    /// "name" drops a package with its components, "name:component" only that component.
    public func planRemove(_ names: [String], allowBreaking: Bool = false) throws -> Plan {
        guard !names.isEmpty else { throw ConaryError.invalidArgument("Name at least one trove to remove.") }
        let before = try activeMembers()
        var members = before
        let pinned = try pinnedNames()
        for name in names {
            let bare = String(name.split(separator: "=").first ?? "")
            let matches = members.filter { $0.name == bare || $0.spec == name || !bare.contains(":") && $0.packageName == bare }
            guard !matches.isEmpty else { throw ConaryError.troveNotInstalled(name) }
            if pinned.contains(matches[0].packageName) { throw ConaryError.pinned(matches[0].packageName) }
            members.removeAll { matches.contains($0) }
        }
        let broken = try breakage(from: before, to: members)
        if !allowBreaking && !broken.isEmpty {
            let needs = Dictionary(grouping: broken) { $0.trove.spec }
            throw ConaryError.wouldBreak(names, dependants: needs.keys.sorted().map { spec in
                "\(spec) (needs \(needs[spec]!.map(\.relation).joined(separator: ", ")))"
            })
        }
        let reasons = try activeState().map { state in try database.read { try Catalog.reasons(ofState: state.id, db: $0) } } ?? [:]
        return Plan(kind: "remove", members: members, reasons: reasons,
                    added: [], updated: [], removed: names, incomingBytes: 0,
                    treeGrowth: try bytes(of: members) - bytes(of: before))
    }

    public func planUpdate(_ names: [String]) throws -> Plan {
        let context = try ResolutionContext(root: self)
        let named = try names.map { name -> Int in
            guard let unit = context.installedUnit(named: name) else { throw ConaryError.troveNotInstalled(name) }
            if context.pinned.contains(name.split(separator: ":")[0].description) { throw ConaryError.pinned(name) }
            return unit
        }
        let outcome = try context.resolver.update(named, locked: context.locked)
        let plan = try context.plan(kind: "update", outcome: outcome, explicit: [], root: self)
        guard !plan.isEmpty else { throw ConaryError.invalidArgument("Nothing to update: every trove is at its newest version.") }
        return plan
    }

    public func planAutoremove() throws -> Plan {
        let context = try ResolutionContext(root: self, withStore: false)
        let explicit = context.installed.filter(context.isExplicit)
        let unneeded = Set(context.resolver.unneeded(explicit: explicit)).subtracting(context.locked)
        guard !unneeded.isEmpty else {
            throw ConaryError.invalidArgument("Nothing to remove: every installed trove is explicit or needed by one that is.")
        }
        let keep = context.installed.filter { !unneeded.contains($0) }
        return try context.plan(kind: "autoremove", outcome: Resolver.Outcome(installed: keep, requiredBy: [:]), explicit: [], root: self)
    }

    private func activeMembers() throws -> [Trove] {
        guard let active = try activeState() else { return [] }
        return try database.read { try Catalog.members(ofState: active.id, db: $0) }
    }

    func bytes(of troves: [Trove]) throws -> Int64 {
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
    func deploy(_ members: [Trove], reasons: [Int64: String], kind: String, summary: String, command: String) throws -> DeployResult {
        let (tree, planSeconds) = try measure { try buildTree(members) }
        for link in layout.rootLinks { try trees.checkRootLink(link) }
        try trees.requireSwappableUsr()
        try requireBootedStateLive()
        let live = try trees.liveState()  // refuses an unmanaged /usr before anything changes
        let previous = try activeState()
        let usrNode = tree.lookup("/usr")
        let id = try database.read { try Catalog.nextStateID(db: $0) }
        let state = SystemState(id: id, parent: previous?.id, created: Date(), summary: summary,
                                treeHash: usrNode.map { tree.treeHash(below: $0) } ?? "",
                                fileCount: usrNode.map { tree.descendantCount(of: $0) } ?? 0,
                                status: .pending, pinned: false)
        let (changeset, kernels) = try database.write { db -> (Changeset, [StateKernel]) in
            try state.insert(db)
            for trove in members { try StateMember(stateId: id, troveId: trove.id!, reason: reasons[trove.id!] ?? "explicit").insert(db) }
            let kernels = try StateKernel.find(in: tree, state: id, store: store, db: db)
            for kernel in kernels { try kernel.insert(db) }
            return (try StateLedger.begin(kind: kind, from: previous?.id, to: id, command: command, db: db), kernels)
        }
        FaultInjection.point("changeset.recorded")

        let stats: Blitter.Stats, blitSeconds: Double
        do {
            (stats, blitSeconds) = try measure { () -> Blitter.Stats in
                let staging = try trees.freshStaging()
                let stats = try usrNode.map { try Blitter(tree: tree, store: store).blit($0, into: staging.fd) } ?? Blitter.Stats()
                try trees.writeMarker(id, into: staging)
                FaultInjection.point("blit.done")
                try staging.syncFilesystem()
                return stats
            }
            try buildMissingInitramfs(kernels, tree: tree)
        } catch {
            // Nothing went live: undo the changeset now (staging, the pending state) rather than at the next run.
            _ = try? Recovery(database: database, store: store, trees: trees).run()
            throw error
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
        remountLiveUsr(previous: live)
        synchronizeBootEntriesAfterChange()
        var applied = state
        applied.status = .active
        return DeployResult(state: applied, summary: summary, directories: stats.directories, links: stats.links,
                            copies: stats.copies, symlinks: stats.symlinks,
                            planSeconds: planSeconds, blitSeconds: blitSeconds, swapSeconds: swapSeconds)
    }
}
