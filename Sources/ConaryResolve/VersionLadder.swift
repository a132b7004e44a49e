import ConaryVersions

/// Turns the versions of each capability into rungs 1, 2, 3, … in the order of the scheme
/// that owns them, equal versions sharing a rung. libsolv then compares integers only, so
/// one pool holds rpm, Debian, pacman and native Conary versions, each ordered by the rules
/// tested against the real tools (VersionOrdering), not by libsolv's single built-in scheme.
struct VersionLadder {
    private var pending: [String: (scheme: VersionScheme, versions: Set<String>)] = [:]
    /// Per capability: its distinct versions in ascending order, rung = index + 1.
    private var ladders: [String: [String]] = [:]
    private var rungs: [String: [String: Int]] = [:]

    /// Records that `name` exists at `version`; the first scheme seen orders the name.
    mutating func add(_ name: String, _ version: String, scheme: VersionScheme) {
        pending[name, default: (scheme, [])].versions.insert(version)
    }

    mutating func build() {
        for (name, entry) in pending {
            let ascending = entry.versions.sorted { entry.scheme.compare($0, $1) < 0 }
            var ladder: [String] = []
            var rung: [String: Int] = [:]
            for version in ascending {
                if let last = ladder.last, entry.scheme.compare(last, version) == 0 {
                    rung[version] = ladder.count
                    continue
                }
                ladder.append(version)
                rung[version] = ladder.count
            }
            ladders[name] = ladder
            rungs[name] = rung
        }
        pending = [:]
    }

    func rung(_ name: String, _ version: String) -> Int { rungs[name]?[version] ?? 0 }

    func top(_ name: String) -> Int { ladders[name]?.count ?? 0 }

    /// The rungs of `name` whose versions meet the requirement, judged by the requiring
    /// package's scheme; nil when none does. Every operator picks out one contiguous run.
    func satisfying(_ name: String, _ comparison: VersionComparison, _ version: String, scheme: VersionScheme) -> ClosedRange<Int>? {
        let matching = (ladders[name] ?? []).indices.filter { scheme.satisfies(ladders[name]![$0], comparison, version) }
        guard let first = matching.first, let last = matching.last else { return nil }
        return (first + 1)...(last + 1)
    }
}
