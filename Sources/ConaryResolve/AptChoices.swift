/// The packages apt would mark for an install, found the way apt finds them, so that libsolv
/// can be told to prefer them wherever it has to choose. libsolv alone chooses among the
/// providers of a requirement by name and version, across the whole universe; apt decides
/// each requirement on its own, in the order the package lists them:
///
/// - the requested packages are marked first, then each one's requirements are followed in
///   command-line order, depth first (a package's Pre-Depends, Depends, then Recommends);
/// - a group of alternatives already met by a marked package is skipped;
/// - otherwise the alternatives are tried in the order written, and within one alternative
///   its candidates (the newest version of each name that meets it) sorted as apt's
///   CompareProviders sorts them: the package the alternative names before packages that
///   provide it, then Essential, then the lower Priority, then the name met last;
/// - a candidate is taken if it can be: each of its requirements has some candidate at all,
///   it does not conflict with a marked package (either way), and its own requirements can
///   be met the same way; otherwise the next one is tried;
/// - a recommendation that cannot be met is skipped.
///
/// Like apt's autoremove pass, only what the requested packages still reach through marked
/// packages is kept (a candidate that failed half-way leaves marks behind).
///
/// The result is handed to libsolv as jobs it may drop (SOLVER_WEAK) and as preferences
/// (SOLVER_FAVOR): libsolv still decides, so a conflict apt's greedy walk would have left
/// broken is solved properly or explained. Favors alone are not enough: libsolv meets a
/// requirement with whatever it has already decided to install (sysvinit-utils provides
/// lsb-base), where apt, deciding in order, installs the package the requirement names.
struct AptChoices {
    /// Per unit: each requirement's alternatives as pool ids, with the name each one is written with.
    struct Relations {
        var requires: [[(dep: SolverPool.ID, name: String)]]
        var recommends: [[(dep: SolverPool.ID, name: String)]]
        var conflicts: [SolverPool.ID]
    }

    let units: [ResolverUnit]
    let relations: [Relations]
    let providers: (SolverPool.ID) -> [Int]
    /// Installed units count as marked from the start; a newer version marked for the same
    /// name takes its place (`replaceInstalled`).
    private var marked: [Bool]
    /// Units apt's candidate choice offers: each name's newest version (an installed one
    /// still meets what it meets while it stays).
    private let isCandidate: [Bool]
    /// The installed unit of each installed name.
    private let installedByName: [String: Int]
    /// Per name, where it first appears among the units: apt's last tie-break prefers the
    /// package its cache created later, and its cache creates a name where it first meets it.
    private let nameOrder: [String: Int]
    /// Units that failed once: apt drops their candidate for the rest of the run.
    private var failed: Set<Int> = []
    private var order: [Int] = []
    /// Why each unit was marked: the unit whose requirement (or recommendation) it meets.
    private(set) var cause: [Int: (unit: Int, recommended: Bool)] = [:]
    private let followRecommends: Bool
    /// Per unit, how many marked units conflict with it.
    private var clashes: [Int: Int] = [:]

    /// `newest`: each name's newest unit; `installedByName`: each installed name's unit.
    init(units: [ResolverUnit], installedCount: Int, newest: [String: Int], installedByName: [String: Int], relations: [Relations],
         followRecommends: Bool, providers: @escaping (SolverPool.ID) -> [Int]) {
        self.units = units
        self.relations = relations
        self.providers = providers
        self.followRecommends = followRecommends
        marked = units.indices.map { $0 < installedCount }
        var nameOrder: [String: Int] = [:]
        for index in units.indices where nameOrder[units[index].name] == nil { nameOrder[units[index].name] = index }
        self.nameOrder = nameOrder
        isCandidate = units.indices.map { newest[units[$0].name] == $0 }
        self.installedByName = installedByName
        // An installed unit with a newer version may be moved on, so only the newest ones'
        // conflicts stand in the way.
        for unit in 0..<installedCount where isCandidate[unit] { count(conflictsOf: unit, by: 1) }
    }

    private mutating func count(conflictsOf unit: Int, by change: Int) {
        for dep in relations[unit].conflicts {
            for other in providers(dep) where other != unit { clashes[other, default: 0] += change }
        }
    }

    private mutating func setMarked(_ unit: Int, _ on: Bool) {
        marked[unit] = on
        if isCandidate[unit] { count(conflictsOf: unit, by: on ? 1 : -1) }
    }

    /// What apt installs for `requested`: the units it marks that the requested ones still
    /// reach, in the order apt marked them. A requested unit is followed whole even when one
    /// of its requirements finds nothing (apt does so for what the user named), and libsolv
    /// then explains what is missing.
    mutating func choose(_ requested: [Int]) -> [Int] {
        for unit in requested where !marked[unit] {
            replaceInstalled(by: unit)
            setMarked(unit, true)
            order.append(unit)
        }
        for unit in requested { _ = followRequirements(of: unit, depth: 0, giveUp: false) }
        let reached = reachable(from: requested) { marked[$0] }
        return order.filter { reached.contains($0) }
    }

    /// Of `chosen`, what the units libsolv installed (`installed`) still reach from `roots`:
    /// a chosen unit libsolv left out must not leave its requirements behind.
    func reachable(from roots: [Int], within installed: Set<Int>, chosen: [Int]) -> [Int] {
        let reached = reachable(from: roots.filter(installed.contains)) { installed.contains($0) }
        return chosen.filter { reached.contains($0) }
    }

    /// A newer version marked for an installed name takes the installed one's place.
    private mutating func replaceInstalled(by unit: Int) {
        if let installed = installedByName[units[unit].name], installed != unit, marked[installed] { setMarked(installed, false) }
    }

    private mutating func markInstall(_ unit: Int, cause: (unit: Int, recommended: Bool), depth: Int) -> Bool {
        if marked[unit] { return true }
        guard depth < 3000, !failed.contains(unit), canInstall(unit) else { return false }
        let installed = installedByName[units[unit].name].flatMap { marked[$0] ? $0 : nil }
        replaceInstalled(by: unit)
        setMarked(unit, true)
        self.cause[unit] = cause
        order.append(unit)
        if followRequirements(of: unit, depth: depth, giveUp: true) { return true }
        // apt discards the candidate; what it marked on the way stays marked until the sweep.
        setMarked(unit, false)
        if let installed { setMarked(installed, true) }
        order.removeAll { $0 == unit }
        self.cause[unit] = nil
        failed.insert(unit)
        return false
    }

    /// Units needed by `start`, directly or through others, among those `counts` accepts:
    /// every accepted provider of every alternative counts, as in apt's autoremove pass.
    private func reachable(from start: [Int], counts: (Int) -> Bool) -> Set<Int> {
        var reached = Set(start), stack = start
        while let unit = stack.popLast() {
            let groups = relations[unit].requires + (followRecommends ? relations[unit].recommends : [])
            for alternative in groups.joined() {
                for provider in providers(alternative.dep) where counts(provider) && reached.insert(provider).inserted {
                    stack.append(provider)
                }
            }
        }
        return reached
    }

    /// Follows the requirements of a marked unit; false when one cannot be met (and `giveUp`).
    private mutating func followRequirements(of unit: Int, depth: Int, giveUp: Bool) -> Bool {
        for group in relations[unit].requires where !isMet(group) {
            guard candidates(group).contains(where: { markInstall($0, cause: (unit, false), depth: depth + 1) }) || !giveUp else { return false }
        }
        if followRecommends {
            for group in relations[unit].recommends where !isMet(group) {
                _ = candidates(group).contains { markInstall($0, cause: (unit, true), depth: depth + 1) }
            }
        }
        return true
    }

    private func isMet(_ group: [(dep: SolverPool.ID, name: String)]) -> Bool {
        group.contains { providers($0.dep).contains { marked[$0] } }
    }

    /// apt's candidates for a group: per alternative in written order, sorted by CompareProviders.
    private func candidates(_ group: [(dep: SolverPool.ID, name: String)]) -> [Int] {
        var seen = Set<Int>()
        return group.flatMap { alternative in
            providers(alternative.dep).filter { isCandidate[$0] && !failed.contains($0) }.sorted { a, b in
                let (named, otherNamed) = (units[a].name == alternative.name, units[b].name == alternative.name)
                if named != otherNamed { return named }
                if units[a].rank != units[b].rank { return units[a].rank < units[b].rank }
                return (nameOrder[units[a].name] ?? a, a) > (nameOrder[units[b].name] ?? b, b)
            }
        }.filter { seen.insert($0).inserted }
    }

    /// apt's look-ahead: every requirement has some candidate, and nothing marked clashes.
    private func canInstall(_ unit: Int) -> Bool {
        let everyRequirementOffered = relations[unit].requires.allSatisfy { group in
            group.contains { providers($0.dep).contains { isCandidate[$0] && !failed.contains($0) } }
        }
        guard everyRequirementOffered else { return false }
        if relations[unit].conflicts.contains(where: { providers($0).contains { $0 != unit && standsInTheWay($0) } }) { return false }
        return clashes[unit, default: 0] == 0
    }

    /// A marked unit a new one must not clash with; an installed one with a newer version may
    /// be moved on instead (apt upgrades it).
    private func standsInTheWay(_ other: Int) -> Bool {
        marked[other] && (isCandidate[other] || installedByName[units[other].name] != other)
    }
}
