import ConaryFormats
import ConaryModel
import ConaryResolve
import ConaryVersions

extension ConaryRoot {
    /// The store's troves, relations and (with `withIndexes`) synced index entries, read from
    /// the database into the in-memory catalog the resolver works on.
    func resolverCatalog(withIndexes: Bool) throws -> ResolverCatalog {
        try database.read { session in
            let indexed = withIndexes ? try session.indexEntries().map { entry, repository in
                ResolverCatalog.IndexedPackage(
                    entry: entry, relations: DebianIndex.relations(entry.relationFields),
                    download: PackageDownload(repository: repository.name, url: repository.url, filename: entry.filename, size: entry.size,
                                              sha256: entry.sha256, spec: "\(entry.name)=\(entry.version)"))
            } : []
            var catalog = ResolverCatalog(try session.catalog(), indexed: indexed)
            for (trove, path) in try session.owners(ofPaths: catalog.pathsToLookUp(layout: layout)) {
                catalog.fileOwners[path, default: []].append(trove)
            }
            return catalog
        }
    }
}

/// The active state seen by the resolver: its units, why each is installed, and the
/// store's units it may move to. Turns a solver outcome into a Plan.
struct ResolutionContext {
    let resolver: Resolver
    /// Reasons recorded in the active state, by trove id.
    let reasons: [Int64: InstallReason]
    let pinned: Set<String>

    /// `resolving: false` drops every requirement and conflict (as rpm's --nodeps does), so
    /// the solver only weighs replacements and versions of one name.
    init(root: ConaryRoot, requested: [Trove] = [], withStore: Bool = true, resolving: Bool = true) throws {
        // A plan made from a database that does not describe the disk would mislead.
        try root.transaction.requireAgreement()
        let active = try root.activeState()
        let members = try active.map { state in try root.database.read { try $0.members(ofState: state.id) } } ?? []
        let system = try root.systemFlavor()
        var universe = try ResolverUniverse.load(active: members, requested: requested, store: withStore ? system : nil,
                                                 catalog: try root.resolverCatalog(withIndexes: withStore), layout: root.layout)
        if !resolving { universe.dropRelationsForNoDeps() }
        resolver = Resolver(universe)
        reasons = try active.map { state in try root.database.read { try $0.reasons(ofState: state.id) } } ?? [:]
        pinned = try root.pinnedNames()
    }

    var installed: Range<Int> { 0..<resolver.installedCount }

    /// The unit that deploys `trove`: the one named after it, else an installed one that
    /// holds it (a component of an installed package).
    func unit(for trove: Trove) -> Int? {
        resolver.units.indices.first { resolver.units[$0].troves.first?.id == trove.id }
            ?? installed.first { resolver.units[$0].troves.contains { $0.id == trove.id } }
    }

    /// The newest index entry a request ("name" or "name=version") names, if any.
    func indexUnit(matching request: TroveSelection.Request) -> Int? {
        let units = resolver.units
        return units.indices.filter { units[$0].download != nil && units[$0].name == request.name && (request.version == nil || units[$0].version == request.version) }
            .max { units[$0].scheme.compare(units[$0].version, units[$1].version) < 0 }
    }

    /// Of a stored and an indexed candidate for one request, the newer (the stored one on a tie).
    func newest(stored: Int?, indexed: Int?) -> Int? {
        guard let stored, let indexed else { return stored ?? indexed }
        let units = resolver.units
        return units[indexed].scheme.compare(units[indexed].version, units[stored].version) > 0 ? indexed : stored
    }

    func installedUnit(named name: String) -> Int? {
        installed.first { resolver.units[$0].name == name }
    }

    /// Installed units whose package is pinned: the solver keeps them exactly as they are.
    var locked: [Int] {
        installed.filter { pinned.contains(resolver.units[$0].troves.first?.packageName ?? resolver.units[$0].name) }
    }

    func isExplicit(_ unit: Int) -> Bool {
        resolver.units[unit].troves.first.flatMap { $0.id }.flatMap { reasons[$0] } == .explicit
    }

    /// What the solver's outcome changes, with each arriving unit's reason.
    func plan(kind: ChangesetKind, outcome: Resolver.Outcome, explicit: Set<Int>, root: ConaryRoot) throws -> ConaryRoot.Plan {
        let units = resolver.units
        let after = Set(outcome.installed)
        let arriving = after.subtracting(installed).sorted()
        var leaving = Set(installed).subtracting(after)
        var added: [String] = [], requested: [String] = [], updated: [String] = [], memberReasons: [Int64: InstallReason] = [:], downloadReasons: [String: InstallReason] = [:]
        for index in after.sorted() {
            let replaced = leaving.first { units[$0].name == units[index].name }
            let reason: InstallReason
            if explicit.contains(index) {
                reason = .explicit
            } else if let previous = (index < installed.upperBound ? index : replaced).flatMap({ units[$0].troves.first?.id }).flatMap({ reasons[$0] }) {
                reason = previous
            } else if let needer = outcome.requiredBy[index] {
                reason = .requiredBy(units[needer].name)
            } else if let recommender = outcome.recommendedBy[index] {
                reason = .recommendedBy(units[recommender].name)
            } else {
                reason = .dependency
            }
            for trove in units[index].troves { memberReasons[trove.id!] = reason }
            if units[index].download != nil { downloadReasons[units[index].spec] = reason }
            guard index >= installed.upperBound else { continue }
            if let replaced {
                leaving.remove(replaced)
                updated.append("\(units[index].name) \(units[replaced].version) → \(units[index].version)")
            } else {
                // A download names its repository, as apt's "Inst" lines do.
                let origin = units[index].download.map { " [\($0.repository)]" } ?? ""
                switch reason {
                case .requiredBy, .recommendedBy: added.append("\(units[index].spec)\(origin) (\(reason))")
                case .explicit, .dependency: added.append(units[index].spec + origin)
                }
                if explicit.contains(index) { requested.append(units[index].spec) }
            }
        }
        let removed = leaving.sorted().map { units[$0].spec }
        let members = after.sorted().flatMap { units[$0].troves }
        let before = installed.flatMap { units[$0].troves }
        let downloads = arriving.compactMap { units[$0].download }
        // What a download will unpack: the index's Installed-Size, else the package size.
        // Sizes come from an index: summed without overflowing, however large they claim to be.
        let unpackedBytes = arriving.reduce(Int64(0)) { total, index in
            Self.saturatingSum(total, units[index].download.map { units[index].installedSize ?? $0.size } ?? 0)
        }
        var plan = ConaryRoot.Plan(kind: kind, members: members, reasons: memberReasons, added: added, updated: updated, removed: removed,
                                   incomingBytes: try root.bytes(of: arriving.flatMap { units[$0].troves }),
                                   treeGrowth: Self.saturatingSum(try root.bytes(of: members) - root.bytes(of: before), unpackedBytes),
                                   downloads: downloads, downloadReasons: downloadReasons)
        plan.requested = requested
        return plan
    }

    static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b > 0 ? Int64.max : Int64.min) : sum
    }
}
