import ConaryDeploy
import ConaryModel
import ConaryResolve
import ConarySupport
import ConaryVersions
import Foundation

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
        /// Seconds each staging step took, in order: the blit first, the manifest last.
        public let stepSeconds: [(step: String, seconds: Double)]
        public let swapSeconds: Double

        public var blitSeconds: Double { stepSeconds.first { $0.step == BlitStep.stepName }?.seconds ?? 0 }
    }

    /// What a changeset will do, computed before anything changes (`--dry-run` prints it).
    public struct Plan: Sendable {
        public let kind: ChangesetKind
        public let members: [Trove]
        /// Why each member is installed, by trove id.
        public let reasons: [Int64: InstallReason]
        public let added: [String]
        public let updated: [String]
        public let removed: [String]
        /// The arriving troves that were asked for (name=version), which name the changeset.
        public var requested: [String] = []
        /// Regular-file bytes of the troves that arrive (linked from the store, not copied).
        public let incomingBytes: Int64
        /// How much bigger (or, negative, smaller) the new state's tree is than the active one
        /// (a package still to download counts with its index's Installed-Size, else its file size).
        public let treeGrowth: Int64
        /// Package files to fetch from repositories before the state can be built.
        public var downloads: [PackageDownload] = []
        /// Why each download is installed, by its name=version.
        public var downloadReasons: [String: InstallReason] = [:]

        public var downloadBytes: Int64 { downloads.reduce(0) { ResolutionContext.saturatingSum($0, $1.size) } }

        /// One line naming what was asked for ("install python3 and 40 dependencies", the
        /// count including recommendations); it becomes the state's summary.
        public var summary: String {
            let installs = requested.isEmpty ? Plan.abbreviated(added)
                : Plan.abbreviated(requested) + (added.count > requested.count ? " and \(Plan.count(added.count - requested.count, "dependency", "dependencies"))" : "")
            return [("install", added.isEmpty ? "" : installs), ("update", Plan.abbreviated(updated)), ("remove", Plan.abbreviated(removed))]
                .filter { !$0.1.isEmpty }.map { "\($0.0) \($0.1)" }.joined(separator: "; ")
        }

        private static func count(_ number: Int, _ one: String, _ many: String) -> String { "\(number) \(number == 1 ? one : many)" }

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
    /// `recommends`: what the new troves recommend comes too, where it can (apt's default).
    @discardableResult
    public func install(_ specs: [String], resolving: Bool = true, recommends: Bool = true, command: String) throws -> DeployResult {
        try apply(try planInstall(specs, resolving: resolving, recommends: recommends), command: command)
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
    public func update(_ names: [String], recommends: Bool = true, command: String) throws -> DeployResult {
        try apply(try planUpdate(names, recommends: recommends), command: command)
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
            let arrived = try database.read { try $0.withComponents(trove) }
            members += arrived
            for member in arrived { reasons[member.id!] = plan.downloadReasons[trove.spec] ?? .explicit }
        }
        return try deploy(members, reasons: reasons, kind: plan.kind, summary: plan.summary, command: command)
    }

    public func planInstall(_ specs: [String], resolving: Bool = true, recommends: Bool = true) throws -> Plan {
        guard !specs.isEmpty else { throw ConaryError.missingOperand("Name at least one trove to install.") }
        let files = Self.packageFiles(among: specs)
        let specs = try specs.map { files.contains($0) ? $0 : try Self.withoutNativeQualifier($0) }
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
                throw ConaryError.builtForOtherSystem(spec: trove.spec, flavor: trove.flavor, system: system.description)
            }
            return trove
        }
        let context = try ResolutionContext(root: self, requested: requested.compactMap { $0 }, resolving: resolving)
        // In command-line order: apt follows the requested packages' requirements in that order.
        var wanted: [Int] = []
        for (spec, trove) in zip(specs, requested) {
            let indexed = try files.contains(spec) ? nil : context.indexUnit(matching: TroveSelection.Request(spec))
            guard let unit = context.newest(stored: trove.flatMap(context.unit), indexed: indexed) else {
                throw ConaryError.troveNotFound(spec)
            }
            let name = context.resolver.units[unit].name, packageName = Trove.packageName(of: name)
            if let installed = context.installedUnit(named: name), installed != unit, context.pinned.contains(packageName) {
                throw ConaryError.pinned(packageName)
            }
            if !wanted.contains(unit) { wanted.append(unit) }
        }
        let outcome = try context.resolver.install(wanted, locked: context.locked, recommends: recommends && resolving)
        let plan = try context.plan(kind: .install, outcome: outcome, explicit: Set(wanted), root: self)
        guard !plan.isEmpty else {
            throw ConaryError.nothingToDo("Nothing to do: \(specs.joined(separator: ", ")) already in the active state.")
        }
        return plan
    }

    /// apt's `foo:any`, `foo:native` and `foo:amd64` (on amd64) name foo itself; another
    /// architecture's build cannot be installed beside the native one.
    static func withoutNativeQualifier(_ spec: String) throws -> String {
        let nameEnd = spec.firstIndex { $0 == "=" || $0 == "[" } ?? spec.endIndex
        guard let colon = spec[..<nameEnd].lastIndex(of: ":") else { return spec }
        let qualifier = String(spec[spec.index(after: colon)..<nameEnd])
        let native = Flavor.hostDebianArchitecture
        if ["any", "native", native].contains(qualifier) { return String(spec[..<colon] + spec[nameEnd...]) }
        if Flavor.debianArchitectures.contains(qualifier) {
            throw ConaryError.foreignArchitecture(spec: spec, architecture: qualifier, native: native)
        }
        return spec
    }

    /// "name" drops a package with its components, "name:component" only that component.
    public func planRemove(_ names: [String], allowBreaking: Bool = false) throws -> Plan {
        try transaction.requireAgreement()
        guard !names.isEmpty else { throw ConaryError.missingOperand("Name at least one trove to remove.") }
        let before = try installedTroves()
        var members = before
        let pinned = try pinnedNames()
        var seen = Set<String>()
        let names = names.filter { seen.insert($0).inserted }
        for name in names {
            let request = try TroveSelection.Request(name)
            // Matched against the state before, so a name given twice (or a package and its
            // component) is removed once rather than reported missing the second time.
            let matches = before.filter {
                (request.version == nil || $0.version == request.version)
                    && ($0.name == request.name || !request.name.contains(":") && $0.packageName == request.name)
            }
            guard let first = matches.first else { throw ConaryError.troveNotInstalled(name) }
            if pinned.contains(first.packageName) { throw ConaryError.pinned(first.packageName) }
            members.removeAll { matches.contains($0) }
        }
        let broken = try breakage(from: before, to: members)
        if !allowBreaking && !broken.isEmpty {
            let needs = Dictionary(grouping: broken) { $0.trove.spec }
            throw ConaryError.wouldBreak(names, dependants: needs.keys.sorted().map { spec in
                "\(spec) (needs \(needs[spec]!.map(\.relation).joined(separator: ", ")))"
            })
        }
        let reasons = try activeState().map { state in try database.read { try $0.reasons(ofState: state.id) } } ?? [:]
        return Plan(kind: .remove, members: members, reasons: reasons,
                    added: [], updated: [], removed: names, incomingBytes: 0,
                    treeGrowth: try bytes(of: members) - bytes(of: before))
    }

    public func planUpdate(_ names: [String], recommends: Bool = true) throws -> Plan {
        let context = try ResolutionContext(root: self)
        let named = try names.map { name -> Int in
            let request = try TroveSelection.Request(name)
            guard let unit = context.installedUnit(named: request.name),
                  request.version == nil || context.resolver.units[unit].version == request.version else {
                throw ConaryError.troveNotInstalled(name)
            }
            if context.pinned.contains(request.packageName) { throw ConaryError.pinned(name) }
            return unit
        }
        let outcome = try context.resolver.update(named, locked: context.locked, recommends: recommends)
        let plan = try context.plan(kind: .update, outcome: outcome, explicit: [], root: self)
        guard !plan.isEmpty else { throw ConaryError.nothingToDo("Nothing to update: every trove is at its newest version.") }
        return plan
    }

    public func planAutoremove() throws -> Plan {
        let context = try ResolutionContext(root: self, withStore: false)
        let explicit = context.installed.filter(context.isExplicit)
        let unneeded = Set(context.resolver.unneeded(explicit: explicit)).subtracting(context.locked)
        guard !unneeded.isEmpty else {
            throw ConaryError.nothingToDo("Nothing to remove: every installed trove is explicit or needed by one that is.")
        }
        let keep = context.installed.filter { !unneeded.contains($0) }
        return try context.plan(kind: .autoremove, outcome: Resolver.Outcome(installed: keep, requiredBy: [:]), explicit: [], root: self)
    }

    func bytes(of troves: [Trove]) throws -> Int64 {
        try database.read { try $0.fileBytes(of: troves) }
    }

    // MARK: Pins

    /// Keeps a package at its installed version: update skips it, install of another version
    /// and remove refuse it until it is unpinned.
    /// Returns whether the pin changed. Unpinning a package that is installed but not pinned
    /// is a note, not an error, as `apt-mark unhold` says "was already not on hold" and
    /// succeeds: the wish (not pinned) holds. A name neither pinned nor installed is an error
    /// (apt-mark: "Unable to locate package"), most likely a typo.
    @discardableResult
    public func pinTrove(_ name: String, _ pinned: Bool) throws -> Bool {
        try TroveName.check(name)
        let installed = try installedTroves().contains { $0.name == name }
        let wasPinned = try pinnedNames().contains(name)
        if pinned, !installed { throw ConaryError.troveNotInstalled(name) }
        if !pinned, !wasPinned, !installed { throw ConaryError.notPinned(name) }
        guard pinned != wasPinned else { return false }
        try database.write { try $0.setPinned(trove: name, pinned) }
        return true
    }

    public func pinnedNames() throws -> Set<String> {
        try database.read { try $0.pinnedNames() }
    }

    /// What `--dry-run` checks so that it says "would" only of what would work: every check a
    /// deploy makes before it writes (the troves make one tree without conflicts or files
    /// outside the state, and the root can take a new state). Package files still to be
    /// downloaded are checked when they arrive.
    public func check(_ plan: Plan) throws {
        _ = try buildTree(plan.members)
        try transaction.preflight(layout: layout)
    }

    /// One changeset through the state transaction: the tree is built first (conflicts fail
    /// here, before any change), then recorded, staged (the blit, then the initramfs step),
    /// swapped and committed.
    func deploy(_ members: [Trove], reasons: [Int64: InstallReason], kind: ChangesetKind, summary: String, command: String) throws -> DeployResult {
        let (tree, planSeconds) = try measure { try buildTree(members) }
        let steps: [StagingStep] = [InitramfsStep(rootPath: path, bootEntriesManaged: bootLoader().isManaged)]
        let outcome = try transaction.deploy(.init(members: members, reasons: reasons, tree: tree, kind: kind, summary: summary, command: command),
                                             steps: steps, layout: layout)
        synchronizeBootEntriesAfterChange()
        return DeployResult(state: outcome.state, summary: summary, directories: outcome.blit.directories, links: outcome.blit.links,
                            copies: outcome.blit.copies, symlinks: outcome.blit.symlinks, planSeconds: planSeconds,
                            stepSeconds: outcome.stepSeconds, swapSeconds: outcome.swapSeconds)
    }
}
