import ConaryModel
import ConaryVersions
/// Answers dependency questions over a universe with libsolv: what an install, update or
/// autoremove turns the installed set into, and what a set of units leaves unmet.
/// Units are addressed by index: installed ones first, then available ones.
package final class Resolver {
    package let units: [ResolverUnit]
    package let installedCount: Int
    private let pool: SolverPool
    private var solvables: [SolverPool.ID] = []
    private var unitOf: [SolverPool.ID: Int] = [:]
    /// Per unit, its requirements and conflicts as pool ids and as the package wrote them
    /// (different texts can share one id once versions become rungs).
    private var requirementIDs: [[SolverPool.ID]] = []
    /// Each unit's relations as AptChoices walks them (Debian units only: libsolv's own
    /// choices are dnf's, which is libsolv too).
    private var choiceRelations: [AptChoices.Relations] = []
    /// Each name's newest unit (the first one on a tie, so an installed one), and each
    /// installed name's unit.
    private let newest: [String: Int]
    private let installedByName: [String: Int]
    /// Per unit, its recommendations' alternatives as pool ids.
    private var recommendIDs: [[[SolverPool.ID]]] = []
    private var relationTexts: [[SolverPool.ID: String]] = []
    /// The capability each translated relation names, to list the versions that exist when
    /// none fits.
    private var capabilities: [SolverPool.ID: String] = [:]
    private var translated: [TranslationKey: SolverPool.ID] = [:]

    package init(_ universe: ResolverUniverse) {
        let units = universe.installed + universe.available
        self.units = units
        installedCount = universe.installed.count
        var newest: [String: Int] = [:]
        for (index, unit) in units.enumerated() {
            if let current = newest[unit.name], units[current].scheme.compare(units[current].version, unit.version) >= 0 { continue }
            newest[unit.name] = index
        }
        self.newest = newest
        installedByName = Dictionary(units.indices.prefix(universe.installed.count).map { (units[$0].name, $0) }, uniquingKeysWith: { first, _ in first })
        let debianLike = units.filter { $0.scheme == .deb || $0.scheme == .arch }.count
        pool = SolverPool(semantics: debianLike * 2 >= units.count ? .debian : .rpm)
        var ladder = VersionLadder()
        for unit in units {
            ladder.add(unit.name, unit.version, scheme: unit.scheme)
            for provide in unit.provides { if let version = provide.version { ladder.add(provide.capability, version, scheme: unit.scheme) } }
        }
        ladder.build()
        for (index, unit) in units.enumerated() {
            let translate = { (relation: Dependency) -> SolverPool.ID in self.translate(relation, scheme: unit.scheme, ladder: ladder) }
            let alternatives = unit.requires.map { group in group.map(translate) }
            let recommended = unit.recommends.map { group in group.map(translate) }
            let either = { (group: [SolverPool.ID]) in group.reduce(0) { $0 == 0 ? $1 : self.pool.either($0, $1) } }
            let requires = alternatives.map(either)
            recommendIDs.append(recommended)
            // A versioned provide offers exactly its version.
            let provides = unit.provides.map { provide -> SolverPool.ID in
                guard let version = provide.version else { return pool.name(provide.capability) }
                return pool.relation(pool.name(provide.capability), .equal, rung: ladder.rung(provide.capability, version))
            }
            let conflicts = unit.conflicts.map(translate)
            let spec = SolverPool.SolvableSpec(name: unit.name, rung: ladder.rung(unit.name, unit.version), provides: provides,
                                               requires: requires, conflicts: conflicts,
                                               obsoletes: unit.obsoletes.map(translate), recommends: recommended.map(either))
            let named = { (groups: [[Dependency]], ids: [[SolverPool.ID]]) in
                zip(groups, ids).map { group, ids in zip(group, ids).map { (dep: $1, name: $0.capability) } }
            }
            choiceRelations.append(unit.scheme == .deb
                ? AptChoices.Relations(requires: named(unit.requires, alternatives), recommends: named(unit.recommends, recommended),
                                       conflicts: conflicts)
                : AptChoices.Relations(requires: [], recommends: [], conflicts: []))
            let id = pool.add(spec, installed: index < installedCount)
            solvables.append(id)
            unitOf[id] = index
            requirementIDs.append(requires)
            var texts: [SolverPool.ID: String] = [:]
            for (group, dep) in zip(unit.requires, requires) { texts[dep] = group.map(\.text).joined(separator: " | ") }
            for (relation, dep) in zip(unit.conflicts, conflicts) { texts[dep] = relation.text }
            relationTexts.append(texts)
        }
        pool.seal()
    }

    package struct Outcome {
        /// Units installed afterwards.
        package var installed: [Int]
        /// For units the solver pulled in: the unit whose requirement brought each one.
        package var requiredBy: [Int: Int]
        /// For units installed as recommendations: the unit that recommends each one.
        package var recommendedBy: [Int: Int] = [:]

        package init(installed: [Int], requiredBy: [Int: Int], recommendedBy: [Int: Int] = [:]) {
            self.installed = installed
            self.requiredBy = requiredBy
            self.recommendedBy = recommendedBy
        }
    }

    /// Installs `requested` (indices), keeping `locked` installed units as they are; with
    /// `recommends`, what the new units recommend comes too where it can.
    package func install(_ requested: [Int], locked: [Int], recommends: Bool = false) throws -> Outcome {
        try run(requested.map { .install(solvables[$0]) } + locked.map { .lock(solvables[$0]) }, action: "install",
                choices: requested, recommends: recommends, walkRecommends: recommends)
    }

    /// Moves the named installed units (or all when none is named) to the newest versions
    /// whose requirements can be met.
    package func update(_ named: [Int], locked: [Int], recommends: Bool = false) throws -> Outcome {
        let jobs: [SolverPool.Job] = named.isEmpty ? [.updateAll] : named.map { .update(solvables[$0]) }
        // apt follows the requirements of each newer version as it would for an install;
        // pinned names stay where they are.
        let updating = (named.isEmpty ? Array(0..<installedCount) : named).filter { !locked.contains($0) }
        // On a tie the installed unit is the newest (it comes first), so it has no successor.
        let successors = Set(updating.compactMap { newest[units[$0].name] }).filter { $0 >= installedCount }.sorted()
        // Recommendations are left to libsolv, minus what the installed versions recommended
        // already: as with apt, an update brings what a new version newly recommends, and
        // what the user left out stays out.
        var leftOut = Set<SolverPool.ID>()
        for successor in successors {
            guard let old = installedByName[units[successor].name] else { continue }
            let already = Set(recommendIDs[old])
            for group in recommendIDs[successor] where already.contains(group) {
                leftOut.formUnion(group.flatMap { pool.providers(of: $0) }.filter { !pool.isInstalled($0) })
            }
        }
        return try run(jobs + locked.map { .lock(solvables[$0]) } + leftOut.sorted().map { .disfavor($0) }, action: "update",
                       choices: successors, recommends: recommends, walkRecommends: false)
    }

    /// Installed units that no explicitly installed unit needs, directly or through others.
    package func unneeded(explicit: [Int]) -> [Int] {
        let run = pool.solve(explicit.map { .userInstalled(solvables[$0]) })
        return run.unneeded().compactMap { unitOf[$0] }.sorted()
    }

    /// Requirements of `members` that no unit among `members` meets, as (unit, relation text).
    package func unmet(among members: Set<Int>) -> [(unit: Int, relation: String)] {
        let present = Set(members.map { solvables[$0] })
        return members.sorted().flatMap { index in
            requirementIDs[index].filter { !pool.providers(of: $0).contains(where: present.contains) }
                .map { (index, relationTexts[index][$0] ?? "") }
        }
    }

    /// Installed units with a requirement that `target` (a unit index) meets.
    package func dependants(of target: Int, among members: Set<Int>) -> [Int] {
        let solvable = solvables[target]
        return members.sorted().filter { index in
            index != target && requirementIDs[index].contains { pool.providers(of: $0).contains(solvable) }
        }
    }

    /// Solves `jobs`, installing where it can (and preferring wherever libsolv has to choose)
    /// what apt would mark for `choices` (AptChoices). When libsolv leaves out a chosen unit,
    /// the solve is repeated without what only that unit needed.
    private func run(_ jobs: [SolverPool.Job], action: String, choices: [Int], recommends: Bool, walkRecommends: Bool) throws -> Outcome {
        var apt = AptChoices(units: units, installedCount: installedCount, newest: newest, installedByName: installedByName,
                             relations: choiceRelations, followRecommends: walkRecommends) {
            self.pool.providers(of: $0).compactMap { self.unitOf[$0] }
        }
        var chosen = apt.choose(choices)
        var run = solve(jobs, preferring: chosen, recommends: recommends)
        var after = Set(run.installedAfterwards().compactMap { unitOf[$0] })
        if run.problemCount == 0, chosen.contains(where: { !after.contains($0) }) {
            chosen = apt.reachable(from: choices, within: after, chosen: chosen)
            run = solve(jobs, preferring: chosen, recommends: recommends)
            after = Set(run.installedAfterwards().compactMap { unitOf[$0] })
        }
        guard run.problemCount == 0 else { throw ResolutionError.unresolvable(action: action, reasons: explain(run.problems())) }
        var outcome = Outcome(installed: after.sorted(), requiredBy: [:])
        for unit in after where unit >= installedCount {
            let id = solvables[unit]
            // A requirement names its needer (apt's, else libsolv's); a recommendation only
            // when nothing requires the unit.
            let cause = apt.cause[unit].flatMap { after.contains($0.unit) ? $0 : nil }
            if let cause, !cause.recommended {
                outcome.requiredBy[unit] = cause.unit
            } else if let source = run.requiredBy(id), let needer = unitOf[source] {
                outcome.requiredBy[unit] = needer
            } else if let cause {
                outcome.recommendedBy[unit] = cause.unit
            } else if let source = run.recommendedBy(id), let recommender = unitOf[source] {
                outcome.recommendedBy[unit] = recommender
            }
        }
        return outcome
    }

    private func solve(_ jobs: [SolverPool.Job], preferring chosen: [Int], recommends: Bool) -> SolverRun {
        pool.solve(jobs + chosen.map { .installIfPossible(solvables[$0]) } + chosen.map { .favor(solvables[$0]) }, weakDependencies: recommends)
    }

    /// One sentence per distinct fact of each problem: the missing capability and who needs
    /// it, the conflict and its parties, the pin in the way.
    private func explain(_ problems: [[SolverRun.RuleFact]]) -> [String] {
        var lines: [String] = []
        for facts in problems {
            for fact in facts {
                guard let line = sentence(fact), !lines.contains(line) else { continue }
                lines.append(line)
            }
        }
        return lines.isEmpty ? ["The solver found no way to satisfy every requirement."] : lines
    }

    private func sentence(_ fact: SolverRun.RuleFact) -> String? {
        let source = name(fact.source), target = name(fact.target)
        let relation = unitOf[fact.source].flatMap { relationTexts[$0][fact.dep] } ?? "a capability"
        switch fact.kind {
        case .nothingProvides:
            let scheme = unitOf[fact.source].map { units[$0].scheme } ?? .deb
            return "\(source) needs \(relation), which nothing available provides\(existing(fact.dep, scheme: scheme))."
        case .jobNothingProvides: return "Nothing available provides \(relation)."
        case .requires:
            let offered = pool.providers(of: fact.dep).compactMap { unitOf[$0] }.map { units[$0].spec }
            return "\(source) needs \(relation)" + (offered.isEmpty ? "." : ", offered by \(offered.joined(separator: ", ")).")
        case .conflicts: return "\(source) conflicts with \(target) (\(relation))."
        case .selfConflict: return "\(source) conflicts with itself."
        case .obsoletes: return "\(source) replaces \(target)."
        case .sameName: return "\(source) and \(target) cannot both be installed."
        case .pinned: return "\(source) is pinned at its installed version."
        case .keptInstalled: return "\(source) is installed and would have to go; remove it first if that is what you want."
        case .notInstallable: return "\(source) cannot be installed on this system."
        case .other: return nil
        }
    }

    private func name(_ id: SolverPool.ID) -> String { unitOf[id].map { units[$0].spec } ?? "" }

    /// Every version each name or versioned provide exists at, built when an error first needs it.
    private lazy var versionsOffered: [String: Set<String>] = {
        var versions: [String: Set<String>] = [:]
        for unit in units {
            versions[unit.name, default: []].insert(unit.version)
            for provide in unit.provides { if let version = provide.version { versions[provide.capability, default: []].insert(version) } }
        }
        return versions
    }()

    /// " at a version that fits (there are 1.0-1, 1.5-1)" when the capability exists at other versions.
    private func existing(_ dep: SolverPool.ID, scheme: VersionScheme) -> String {
        guard let capability = capabilities[dep], let versions = versionsOffered[capability], !versions.isEmpty else { return "" }
        let sorted = versions.sorted { scheme.compare($0, $1) < 0 }
        let listed = sorted.count > 5 ? sorted.prefix(5).joined(separator: ", ") + " and \(sorted.count - 5) more" : sorted.joined(separator: ", ")
        return " at a version that fits (there \(sorted.count == 1 ? "is" : "are") \(listed))"
    }

    /// A relation as a pool dependency: unversioned by name, versioned as the run of rungs
    /// its operator accepts; a run that is empty matches nothing (rung 0 never exists).
    private func translate(_ relation: Dependency, scheme: VersionScheme, ladder: VersionLadder) -> SolverPool.ID {
        // An archive repeats the same relations thousands of times (libc6 (>= 2.34)); each is
        // judged against its ladder once.
        let key = TranslationKey(capability: relation.capability, comparison: relation.comparison, version: relation.version, scheme: scheme)
        if let known = translated[key] { return known }
        let id = relationID(relation, scheme: scheme, ladder: ladder)
        translated[key] = id
        capabilities[id] = relation.capability
        return id
    }

    private struct TranslationKey: Hashable {
        let capability: String
        let comparison: String?
        let version: String?
        let scheme: VersionScheme
    }

    private func relationID(_ relation: Dependency, scheme: VersionScheme, ladder: VersionLadder) -> SolverPool.ID {
        let name = pool.name(relation.capability)
        guard let text = relation.comparison, let version = relation.version,
              let comparison = VersionComparison(text, scheme: scheme) else { return name }
        guard let run = ladder.satisfying(relation.capability, comparison, version, scheme: scheme) else {
            return pool.relation(name, .equal, rung: 0)
        }
        let top = ladder.top(relation.capability)
        switch (run.lowerBound > 1, run.upperBound < top) {
        case (false, false): return pool.relation(name, .atLeast, rung: 1)
        case (true, false): return pool.relation(name, .atLeast, rung: run.lowerBound)
        case (false, true): return pool.relation(name, .atMost, rung: run.upperBound)
        case (true, true):
            if run.lowerBound == run.upperBound { return pool.relation(name, .equal, rung: run.lowerBound) }
            return pool.both(pool.relation(name, .atLeast, rung: run.lowerBound), pool.relation(name, .atMost, rung: run.upperBound))
        }
    }
}
