import GRDB

/// Everything the solver may choose from: the units of the active state, the units the
/// store holds (packages and trees, each name and version in its best-fitting flavor), and
/// the entries of synced package indexes not yet downloaded.
struct ResolverUniverse {
    var installed: [ResolverUnit] = []
    var available: [ResolverUnit] = []

    /// `store` offers the store's troves that fit that system flavor (nil: the active troves
    /// alone). `requested` are troves named by the user: a component becomes a unit of its
    /// own, and an explicitly chosen flavor is offered even when another flavor scores better.
    static func load(active: [Trove], requested: [Trove] = [], store system: Flavor? = nil,
                     layout: RootLayout, db: Database) throws -> ResolverUniverse {
        let catalog = try StoreCatalog(db: db, everyDerived: false)
        var universe = ResolverUniverse(installed: installedUnits(active, catalog: catalog))
        let activeIDs = Set(active.compactMap(\.id))
        var offered = Set<Int64>()
        // An installed flavor was chosen once (tool[ssl]); its updates keep it.
        let affinity = try Dictionary(active.filter { $0.kind != "component" && !$0.flavor.isEmpty }.map { ($0.name, try Flavor($0.flavor)) },
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
            try bestFlavors(catalog.troves.filter { $0.kind != "component" && onBranch($0) }, system: $0, affinity: affinity)
        } ?? []
        for trove in stored + requested
        where !activeIDs.contains(trove.id!) && offered.insert(trove.id!).inserted {
            let components = trove.kind == "component" ? [] : catalog.components(of: trove)
            var unit = catalog.unit(trove, members: [trove] + components)
            // Installing the whole package takes the place of its components installed alone.
            unit.obsoletes += components.map { Dependency(relation: .obsoletes, capability: $0.name, alternative: 0) }
            universe.available.append(unit)
        }
        if let system {
            let stored = Set(catalog.troves.map(\.spec))
            universe.available += try indexUnits(system: system, db: db).filter { !stored.contains($0.spec) }
        }
        try universe.addFileProvides(layout: layout, db: db, catalog: catalog)
        return universe
    }

    /// Entries of synced Packages indexes this system can run, one per name and version
    /// (the first repository by name wins).
    private static func indexUnits(system: Flavor, db: Database) throws -> [ResolverUnit] {
        var seen = Set<String>()
        return try Row.fetchAll(db, sql: """
            SELECT e.name, e.version, e.architecture, e.filename, e.size, e.sha256, e.relationFields, e.repository, r.url
            FROM indexEntries e JOIN repositories r ON r.name = e.repository ORDER BY e.repository, e.name, e.version
            """).compactMap { row -> ResolverUnit? in
            let name: String = row[0], version: String = row[1]
            guard Flavor.architecture(row[2]).score(on: system) != nil, seen.insert("\(name)=\(version)").inserted else { return nil }
            var unit = ResolverUnit(name: name, version: version, scheme: .deb, troves: [])
            unit.absorb(DebianIndex.relations(row[6]), format: "deb")
            unit.download = PackageDownload(repository: row[7], url: row[8], filename: row[3], size: row[4], sha256: row[5],
                                            spec: "\(name)=\(version)")
            return unit
        }
    }

    /// One universe of installed units alone per set of troves (for questions about what
    /// they need of each other), with the sonames every package's files need counted (see
    /// ResolverUnit.absorb), the store read once.
    static func installedOnly(_ sets: [[Trove]], layout: RootLayout, db: Database) throws -> [ResolverUniverse] {
        let catalog = try StoreCatalog(db: db, everyDerived: true)
        return try sets.map { troves in
            var universe = ResolverUniverse(installed: installedUnits(troves, catalog: catalog))
            try universe.addFileProvides(layout: layout, db: db, catalog: catalog)
            return universe
        }
    }

    /// A package with its installed components, or a component installed on its own, each
    /// as one unit.
    private static func installedUnits(_ active: [Trove], catalog: StoreCatalog) -> [ResolverUnit] {
        let activeIDs = Set(active.compactMap(\.id))
        let activePackages = Set(active.filter { $0.kind != "component" }.compactMap(\.id))
        return active.compactMap { trove in
            if trove.kind == "component", let parent = catalog.parent[trove.id!], activePackages.contains(parent) { return nil }
            let members = trove.kind == "component" ? [trove] : [trove] + catalog.components(of: trove).filter { activeIDs.contains($0.id!) }
            return catalog.unit(trove, members: members)
        }
    }

    /// `install --no-deps`: every unit without its requirements and conflicts.
    mutating func dropRelationsForNoDeps() {
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
    private mutating func addFileProvides(layout: RootLayout, db: Database, catalog: StoreCatalog) throws {
        let wanted = Set((installed + available).flatMap { $0.requires.joined() }.map(\.capability).filter { $0.hasPrefix("/") })
        guard !wanted.isEmpty else { return }
        var pathsFor: [String: [String]] = [:]
        for path in wanted {
            for shipped in layout.aliases(of: path) { pathsFor[shipped, default: []].append(path) }
        }
        var provided: [Int64: Set<String>] = [:]
        let placeholders = Array(repeating: "?", count: pathsFor.count).joined(separator: ",")
        let rows = try Row.fetchAll(db, sql: "SELECT troveId, path FROM files WHERE path IN (\(placeholders))",
                                    arguments: StatementArguments(Array(pathsFor.keys)))
        for row in rows {
            let owner: Int64 = row[0]
            let package = catalog.parent[owner] ?? owner
            for capability in pathsFor[row[1] as String] ?? [] {
                provided[owner, default: []].insert(capability)
                provided[package, default: []].insert(capability)
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

/// The store's troves, their component links and their relations, read in three queries.
private struct StoreCatalog {
    let troves: [Trove]
    let parent: [Int64: Int64]
    private let children: [Int64: [Trove]]
    private let relations: [Int64: [Dependency]]
    private let everyDerived: Bool

    init(db: Database, everyDerived: Bool) throws {
        self.everyDerived = everyDerived
        troves = try Trove.fetchAll(db, sql: "SELECT * FROM troves ORDER BY id")
        let byID = Dictionary(uniqueKeysWithValues: troves.map { ($0.id!, $0) })
        var parent: [Int64: Int64] = [:], children: [Int64: [Trove]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT parentId, childId FROM troveMembers ORDER BY childId") {
            let (up, down): (Int64, Int64) = (row[0], row[1])
            parent[down] = up
            if let child = byID[down] { children[up, default: []].append(child) }
        }
        var relations: [Int64: [Dependency]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT troveId, relation, capability, comparison, version, alternative FROM dependencies ORDER BY id") {
            guard let relation = Dependency.Relation(rawValue: row[1]) else { continue }
            relations[row[0], default: []].append(Dependency(relation: relation, capability: row[2], comparison: row[3],
                                                             version: row[4], alternative: row[5]))
        }
        self.parent = parent
        self.children = children
        self.relations = relations
    }

    func components(of trove: Trove) -> [Trove] { children[trove.id!] ?? [] }

    /// A package unit carries its own relations and those of its components; a lone component
    /// carries its own plus its package's requirements.
    func unit(_ trove: Trove, members: [Trove]) -> ResolverUnit {
        var unit = ResolverUnit(trove, members: members)
        for member in members { unit.absorb(relations[member.id!] ?? [], format: member.format, everyDerived: everyDerived) }
        if trove.kind == "component", let package = parent[trove.id!] {
            unit.absorb(relations[package] ?? [], format: trove.format, requirementsOnly: true, everyDerived: everyDerived)
        }
        return unit
    }
}
