import CSolv

/// One libsolv pool with two repositories, "installed" and "available". Names and versions
/// reach it already translated: every version is a ladder rung (VersionLadder), so libsolv's
/// own version comparison only ever compares integers.
final class SolverPool {
    /// libsolv's id of a name, a relation or a solvable.
    typealias ID = Id

    /// Whether a provide without a version satisfies a versioned requirement: dpkg and pacman
    /// say no, rpm says yes.
    enum ProvideSemantics {
        case debian, rpm
    }

    let pool: UnsafeMutablePointer<Pool>
    private let installedRepo: UnsafeMutablePointer<Repo>
    private let availableRepo: UnsafeMutablePointer<Repo>

    init(semantics: ProvideSemantics) {
        pool = pool_create()
        pool_setdisttype(pool, semantics == .debian ? DISTTYPE_DEB : DISTTYPE_RPM)
        installedRepo = repo_create(pool, "installed")
        availableRepo = repo_create(pool, "available")
        pool_set_installed(pool, installedRepo)
    }

    deinit { pool_free(pool) }

    func name(_ text: String) -> Id { pool_str2id(pool, text, 1) }

    /// The bounds a run of rungs needs (VersionLadder turns strict operators into these).
    enum Bound {
        case equal, atLeast, atMost
        var flags: Int32 {
            switch self {
            case .equal: return REL_EQ
            case .atLeast: return REL_GT | REL_EQ
            case .atMost: return REL_LT | REL_EQ
            }
        }
    }

    func relation(_ name: Id, _ bound: Bound, rung: Int) -> Id {
        pool_rel2id(pool, name, pool_str2id(pool, String(rung), 1), bound.flags, 1)
    }

    /// A requirement one provider must meet on both sides.
    func both(_ first: Id, _ second: Id) -> Id { pool_rel2id(pool, first, second, REL_WITH, 1) }

    /// Alternatives: any one of them satisfies.
    func either(_ first: Id, _ second: Id) -> Id { pool_rel2id(pool, first, second, REL_OR, 1) }

    struct SolvableSpec {
        var name: String
        var rung: Int
        var provides: [Id] = []
        var requires: [Id] = []
        var conflicts: [Id] = []
        var obsoletes: [Id] = []
        var recommends: [Id] = []
    }

    /// Adds a solvable; it provides its own name at its own rung.
    func add(_ spec: SolvableSpec, installed: Bool) -> Id {
        let repo = installed ? installedRepo : availableRepo
        let id = repo_add_solvable(repo)
        let solvable = pool_id2solvable(pool, id)!
        let nameID = name(spec.name)
        solvable.pointee.name = nameID
        solvable.pointee.evr = name(String(spec.rung))
        solvable.pointee.arch = Id(ARCH_NOARCH.rawValue)
        var provides = solvable.pointee.provides
        provides = repo_addid_dep(repo, provides, relation(nameID, .equal, rung: spec.rung), 0)
        for dep in spec.provides { provides = repo_addid_dep(repo, provides, dep, 0) }
        solvable.pointee.provides = provides
        for dep in spec.requires { solvable.pointee.requires = repo_addid_dep(repo, solvable.pointee.requires, dep, 0) }
        for dep in spec.conflicts { solvable.pointee.conflicts = repo_addid_dep(repo, solvable.pointee.conflicts, dep, 0) }
        for dep in spec.obsoletes { solvable.pointee.obsoletes = repo_addid_dep(repo, solvable.pointee.obsoletes, dep, 0) }
        for dep in spec.recommends { solvable.pointee.recommends = repo_addid_dep(repo, solvable.pointee.recommends, dep, 0) }
        return id
    }

    /// Call once every solvable is in, before asking about providers or solving.
    func seal() {
        repo_internalize(installedRepo)
        repo_internalize(availableRepo)
        pool_createwhatprovides(pool)
    }

    func providers(of dep: Id) -> [Id] {
        var result: [Id] = []
        var offset = Int(pool_whatprovides(pool, dep))
        while case let p = pool.pointee.whatprovidesdata[offset], p != 0 {
            result.append(p)
            offset += 1
        }
        return result
    }

    func isInstalled(_ id: Id) -> Bool { pool_id2solvable(pool, id)!.pointee.repo == installedRepo }

    struct Job {
        var how: Int32
        var what: Id
        static func install(_ id: Id) -> Job { Job(how: SOLVER_INSTALL | SOLVER_SOLVABLE, what: id) }
        /// Installs `id` unless that makes the problem unsolvable.
        static func installIfPossible(_ id: Id) -> Job { Job(how: SOLVER_INSTALL | SOLVER_SOLVABLE | SOLVER_WEAK, what: id) }
        static func update(_ id: Id) -> Job { Job(how: SOLVER_UPDATE | SOLVER_SOLVABLE, what: id) }
        static var updateAll: Job { Job(how: SOLVER_UPDATE | SOLVER_SOLVABLE_ALL, what: 0) }
        static func lock(_ id: Id) -> Job { Job(how: SOLVER_LOCK | SOLVER_SOLVABLE, what: id) }
        static func userInstalled(_ id: Id) -> Job { Job(how: SOLVER_USERINSTALLED | SOLVER_SOLVABLE, what: id) }
        /// When the solver must choose among candidates, it prefers `id` (later favors win).
        static func favor(_ id: Id) -> Job { Job(how: SOLVER_FAVOR | SOLVER_SOLVABLE, what: id) }
        /// Never installs `id` as a recommendation (a hard requirement still may).
        static func disfavor(_ id: Id) -> Job { Job(how: SOLVER_DISFAVOR | SOLVER_SOLVABLE, what: id) }
    }

    /// `weakDependencies`: install what newly installed solvables recommend, where it can be.
    func solve(_ jobs: [Job], weakDependencies: Bool = false) -> SolverRun {
        SolverRun(pool: self, jobs: jobs, weakDependencies: weakDependencies)
    }
}

/// One solver run: its problems, or the set installed afterwards and why each member is there.
final class SolverRun {
    private let owner: SolverPool
    private let solver: UnsafeMutablePointer<Solver>
    let problemCount: Int

    fileprivate init(pool: SolverPool, jobs: [SolverPool.Job], weakDependencies: Bool) {
        owner = pool
        solver = solver_create(pool.pool)!
        solver_set_flag(solver, SOLVER_FLAG_IGNORE_RECOMMENDED, weakDependencies ? 0 : 1)
        var queue = Queue()
        queue_init(&queue)
        defer { queue_free(&queue) }
        for job in jobs { queue_push2(&queue, job.how, job.what) }
        problemCount = Int(solver_solve(solver, &queue))
    }

    deinit { solver_free(solver) }

    /// Solvables installed once the transaction is done.
    func installedAfterwards() -> Set<Id> {
        let transaction = solver_create_transaction(solver)
        defer { transaction_free(transaction) }
        return collect { transaction_installedresult(transaction, &$0) }
    }

    /// Installed solvables nothing user-installed needs any more.
    func unneeded() -> Set<Id> { collect { solver_get_unneeded(solver, &$0, 0) } }

    /// The solvable whose requirement brought `id` in, when that is why it was chosen.
    func requiredBy(_ id: Id) -> Id? {
        var rule: Id = 0
        _ = solver_describe_decision(solver, id, &rule)
        guard rule != 0 else { return nil }
        var source: Id = 0, target: Id = 0, dep: Id = 0
        let type = solver_ruleinfo(solver, rule, &source, &target, &dep)
        return type == SOLVER_RULE_PKG_REQUIRES && source != 0 && source != id ? source : nil
    }

    /// The solvable whose recommendation brought `id` in, when that is why it was chosen.
    func recommendedBy(_ id: Id) -> Id? {
        var rule: Id = 0
        guard solver_describe_decision(solver, id, &rule) == SOLVER_REASON_WEAKDEP else { return nil }
        var source: Id = 0, target: Id = 0, dep: Id = 0
        let type = solver_weakdepinfo(solver, id, &source, &target, &dep)
        return type == SOLVER_RULE_PKG_RECOMMENDS && source != 0 ? source : nil
    }

    struct RuleFact {
        enum Kind {
            case nothingProvides, jobNothingProvides, requires, conflicts, obsoletes, sameName, pinned, keptInstalled,
                 notInstallable, selfConflict, other
        }
        var kind: Kind
        var source: Id
        var target: Id
        var dep: Id
    }

    /// What each problem consists of, as libsolv's rules; RuleExplainer turns them into sentences.
    func problems() -> [[RuleFact]] {
        guard problemCount > 0 else { return [] }
        return (1...problemCount).map { problem in
            var rules = Queue()
            queue_init(&rules)
            defer { queue_free(&rules) }
            solver_findallproblemrules(solver, Id(problem), &rules)
            return (0..<Int(rules.count)).map { index -> RuleFact in
                var source: Id = 0, target: Id = 0, dep: Id = 0
                let type = solver_ruleinfo(solver, rules.elements[index], &source, &target, &dep)
                // A job rule names its job: source is the job's index, target its kind, dep its solvable.
                if type == SOLVER_RULE_JOB {
                    let isLock = target & SOLVER_JOBMASK == SOLVER_LOCK
                    return RuleFact(kind: isLock ? .pinned : .other, source: dep, target: 0, dep: 0)
                }
                return RuleFact(kind: Self.kind(of: type), source: source, target: target, dep: dep)
            }
        }
    }

    private static func kind(of type: SolverRuleinfo) -> RuleFact.Kind {
        switch type {
        case SOLVER_RULE_PKG_NOTHING_PROVIDES_DEP: return .nothingProvides
        case SOLVER_RULE_JOB_NOTHING_PROVIDES_DEP, SOLVER_RULE_JOB_UNKNOWN_PACKAGE, SOLVER_RULE_JOB_PROVIDED_BY_SYSTEM: return .jobNothingProvides
        case SOLVER_RULE_PKG_REQUIRES: return .requires
        case SOLVER_RULE_PKG_CONFLICTS: return .conflicts
        case SOLVER_RULE_PKG_SELF_CONFLICT: return .selfConflict
        case SOLVER_RULE_PKG_OBSOLETES, SOLVER_RULE_PKG_INSTALLED_OBSOLETES, SOLVER_RULE_PKG_IMPLICIT_OBSOLETES: return .obsoletes
        case SOLVER_RULE_PKG_SAME_NAME: return .sameName
        case SOLVER_RULE_UPDATE, SOLVER_RULE_FEATURE: return .keptInstalled
        case SOLVER_RULE_PKG_NOT_INSTALLABLE: return .notInstallable
        default: return .other
        }
    }

    private func collect(_ fill: (inout Queue) -> Void) -> Set<Id> {
        var queue = Queue()
        queue_init(&queue)
        defer { queue_free(&queue) }
        fill(&queue)
        return Set((0..<Int(queue.count)).map { queue.elements[$0] })
    }
}
