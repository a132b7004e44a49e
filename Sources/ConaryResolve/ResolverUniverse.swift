import ConaryModel
import ConaryVersions

/// What the resolver reads, all in memory: the store's troves with their relations, the
/// entries of synced package indexes, and which troves ship the paths that rpm-style file
/// requirements name. The operations layer fills it from the database.
public struct ResolverCatalog {
    /// An index entry with its relations parsed and where to fetch it.
    public struct IndexedPackage: Sendable {
        public let entry: IndexEntry
        public let relations: [Dependency]
        public let download: PackageDownload

        public init(entry: IndexEntry, relations: [Dependency], download: PackageDownload) {
            self.entry = entry
            self.relations = relations
            self.download = download
        }
    }

    public let troves: [Trove]
    let parent: [Int64: Int64]
    private let children: [Int64: [Trove]]
    private let relations: [Int64: [Dependency]]
    public var indexed: [IndexedPackage]
    /// Which troves ship a path, for every path `pathsToLookUp` names.
    public var fileOwners: [String: [Int64]] = [:]

    public init(_ catalog: TroveCatalog, indexed: [IndexedPackage] = []) {
        troves = catalog.troves
        let byID = Dictionary(uniqueKeysWithValues: troves.map { ($0.id!, $0) })
        var parent: [Int64: Int64] = [:], children: [Int64: [Trove]] = [:]
        for link in catalog.memberships {
            parent[link.component] = link.package
            if let child = byID[link.component] { children[link.package, default: []].append(child) }
        }
        self.parent = parent
        self.children = children
        relations = catalog.relations
        self.indexed = indexed
    }

    func components(of trove: Trove) -> [Trove] { children[trove.id!] ?? [] }

    /// Every spelling (through the layout's links) of every path a requirement names: the
    /// file lists to look up for `fileOwners`.
    public func pathsToLookUp(layout: RootLayout) -> Set<String> {
        let required = (relations.values.joined() + indexed.flatMap(\.relations))
            .filter { $0.relation == .requires || $0.relation == .preRequires }.map(\.capability).filter { $0.hasPrefix("/") }
        return Set(required.flatMap { layout.aliases(of: $0) })
    }

    /// A package unit carries its own relations and those of its components; a lone component
    /// carries its own plus its package's requirements.
    func unit(_ trove: Trove, members: [Trove], everyDerived: Bool) -> ResolverUnit {
        var unit = ResolverUnit(trove, members: members)
        for member in members { unit.absorb(relations[member.id!] ?? [], format: member.format, everyDerived: everyDerived) }
        if trove.isComponent, let package = parent[trove.id!] {
            unit.absorb(relations[package] ?? [], format: trove.format, requirementsOnly: true, everyDerived: everyDerived)
        }
        if !trove.isComponent && trove.format == .deb { unit.qualifyProvides(byArchitecture: trove.arch) }
        return unit
    }
}

/// Everything the solver may choose from: the units of the active state, the units the
/// store holds (packages and trees, each name and version in its best-fitting flavor), and
/// the entries of synced package indexes not yet downloaded.
public struct ResolverUniverse {
    var installed: [ResolverUnit] = []
    var available: [ResolverUnit] = []

    init(installed: [ResolverUnit], available: [ResolverUnit] = []) {
        self.installed = installed
        self.available = available
    }

    /// `store` offers the store's troves that fit that system flavor (nil: the active troves
    /// alone). `requested` are troves named by the user: a component becomes a unit of its
    /// own, and an explicitly chosen flavor is offered even when another flavor scores better.
    public static func load(active: [Trove], requested: [Trove] = [], store system: Flavor? = nil,
                            catalog: ResolverCatalog, layout: RootLayout) throws -> ResolverUniverse {
        var universe = ResolverUniverse(installed: installedUnits(active, catalog: catalog, everyDerived: false))
        let activeIDs = Set(active.compactMap(\.id))
        var offered = Set<Int64>()
        // An installed flavor was chosen once (tool[ssl]); its updates keep it.
        let affinity = try Dictionary(active.filter { !$0.isComponent && !$0.flavor.isEmpty }.map { ($0.name, try Flavor($0.flavor)) },
                                      uniquingKeysWith: { first, _ in first })
        // A name installed from a Conary branch moves along that branch only (shadows included):
        // versions on other branches are not its successors.
        let branches = Dictionary(active.compactMap { trove in (try? NativeVersion(trove.version)).map { (trove.name, $0.branch) } },
                                  uniquingKeysWith: { first, _ in first })
        let onBranch = { (trove: Trove) in
            guard let branch = branches[trove.name] else { return true }
            return (try? NativeVersion(trove.version))?.branch == branch
        }
        let stored = try system.map {
            try bestFlavors(catalog.troves.filter { !$0.isComponent && onBranch($0) }, system: $0, affinity: affinity)
        } ?? []
        for trove in stored + requested
        where !activeIDs.contains(trove.id!) && offered.insert(trove.id!).inserted {
            let components = trove.isComponent ? [] : catalog.components(of: trove)
            var unit = catalog.unit(trove, members: [trove] + components, everyDerived: false)
            // Installing the whole package takes the place of its components installed alone.
            unit.obsoletes += components.map { Dependency(relation: .obsoletes, capability: $0.name, alternative: 0) }
            universe.available.append(unit)
        }
        if let system {
            let stored = Set(catalog.troves.map(\.spec))
            universe.available += indexUnits(system: system, catalog: catalog).filter { !stored.contains($0.spec) }
        }
        universe.addFileProvides(layout: layout, catalog: catalog)
        return universe
    }

    /// Entries of synced Packages indexes this system can run, one per name and version
    /// (the first repository by name wins).
    private static func indexUnits(system: Flavor, catalog: ResolverCatalog) -> [ResolverUnit] {
        var seen = Set<String>()
        return catalog.indexed.compactMap { package -> ResolverUnit? in
            let entry = package.entry
            guard Flavor.architecture(entry.architecture).score(on: system) != nil, seen.insert("\(entry.name)=\(entry.version)").inserted else {
                return nil
            }
            var unit = ResolverUnit(name: entry.name, version: entry.version, scheme: .deb, troves: [])
            unit.absorb(package.relations, format: .deb)
            unit.qualifyProvides(byArchitecture: entry.architecture)
            unit.rank = ProviderRank(essential: entry.essential, priority: entry.priority)
            unit.download = package.download
            unit.installedSize = entry.installedSize
            return unit
        }
    }

    /// One universe of installed units alone per set of troves (for questions about what
    /// they need of each other), with the sonames every package's files need counted (see
    /// ResolverUnit.absorb), the store read once.
    public static func installedOnly(_ sets: [[Trove]], catalog: ResolverCatalog, layout: RootLayout) -> [ResolverUniverse] {
        sets.map { troves in
            var universe = ResolverUniverse(installed: installedUnits(troves, catalog: catalog, everyDerived: true))
            universe.addFileProvides(layout: layout, catalog: catalog)
            return universe
        }
    }

    /// A package with its installed components, or a component installed on its own, each
    /// as one unit.
    private static func installedUnits(_ active: [Trove], catalog: ResolverCatalog, everyDerived: Bool) -> [ResolverUnit] {
        let activeIDs = Set(active.compactMap(\.id))
        let activePackages = Set(active.filter { !$0.isComponent }.compactMap(\.id))
        return active.compactMap { trove in
            if trove.isComponent, let parent = catalog.parent[trove.id!], activePackages.contains(parent) { return nil }
            let members = trove.isComponent ? [trove] : [trove] + catalog.components(of: trove).filter { activeIDs.contains($0.id!) }
            return catalog.unit(trove, members: members, everyDerived: everyDerived)
        }
    }

    /// `install --no-deps`: every unit without its requirements and conflicts.
    public mutating func dropRelationsForNoDeps() {
        for index in installed.indices { installed[index].dropRelationsForNoDeps() }
        for index in available.indices { available[index].dropRelationsForNoDeps() }
    }

    /// Per name and version, the flavor that scores best on this system, with the flavor a
    /// name is installed in taken as if the user had asked for it again; troves this system
    /// cannot run are left out.
    private static func bestFlavors(_ troves: [Trove], system: Flavor, affinity: [String: Flavor]) throws -> [Trove] {
        var best: [String: (trove: Trove, score: Int)] = [:]
        for trove in troves {
            let target = affinity[trove.name].map { system.overridden(by: $0) } ?? system
            guard let score = try Flavor(trove.flavor).score(on: target) else { continue }
            if let current = best[trove.spec], current.score >= score { continue }
            best[trove.spec] = (trove, score)
        }
        return best.values.map(\.trove).sorted { $0.id! < $1.id! }
    }

    /// rpm requirements on paths (`/bin/sh`) are met by whoever ships the path, found in the
    /// file lists; on a merged /usr, /bin/sh and /usr/bin/sh are the same file.
    private mutating func addFileProvides(layout: RootLayout, catalog: ResolverCatalog) {
        let wanted = Set((installed + available).flatMap { $0.requires.joined() }.map(\.capability).filter { $0.hasPrefix("/") })
        guard !wanted.isEmpty else { return }
        var provided: [Int64: Set<String>] = [:]
        for path in wanted {
            for shipped in layout.aliases(of: path) {
                for owner in catalog.fileOwners[shipped] ?? [] {
                    provided[owner, default: []].insert(path)
                    provided[catalog.parent[owner] ?? owner, default: []].insert(path)
                }
            }
        }
        func addProvides(_ units: inout [ResolverUnit]) {
            for index in units.indices {
                // A unit offers the paths of the troves it deploys.
                let paths = Set(units[index].troves.compactMap(\.id).flatMap { provided[$0] ?? [] })
                units[index].provides += paths.sorted().map { Dependency(relation: .provides, capability: $0, alternative: 0) }
            }
        }
        addProvides(&installed)
        addProvides(&available)
    }
}
