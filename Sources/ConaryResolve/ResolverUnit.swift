import ConaryModel
import ConaryVersions

/// What the solver installs or removes as one piece: a package with its components, a tree,
/// a component installed on its own, or an entry of a package index not yet in the store.
package struct ResolverUnit {
    package var name: String
    package var version: String
    package var scheme: VersionScheme
    /// The troves a state gets for it (empty for an index entry).
    package var troves: [Trove]
    var provides: [Dependency] = []
    /// Hard requirements, Pre-Depends first (the order apt follows them in); each inner list
    /// is a set of alternatives.
    var requires: [[Dependency]] = []
    /// Weak requirements (Debian Recommends; the rpm reader does not read rpm's weak
    /// dependencies yet), grouped the same way.
    var recommends: [[Dependency]] = []
    /// How apt ranks this unit among the providers of a virtual package.
    package var rank = ProviderRank()
    var conflicts: [Dependency] = []
    var obsoletes: [Dependency] = []
    /// For an index entry: the package file to fetch if the solver picks it, and the bytes
    /// it takes unpacked (Installed-Size).
    package var download: PackageDownload?
    package var installedSize: Int64?

    package var spec: String { "\(name)=\(version)" }

    init(name: String, version: String, scheme: VersionScheme, troves: [Trove]) {
        self.name = name
        self.version = version
        self.scheme = scheme
        self.troves = troves
    }

    init(_ trove: Trove, members: [Trove]) {
        self.init(name: trove.name, version: trove.version, scheme: VersionScheme(of: trove), troves: members)
    }

    /// Takes in the relations of one trove (or index entry). Recommendations are not
    /// requirements. A Debian `Replaces` takes a package's place only where the package also
    /// conflicts with (or breaks) it, and only for the versions that clash (sysvinit-utils
    /// replaces lsb-base but conflicts only with lsb-base << 11.3~, so lsb-base 11.6 stays);
    /// otherwise it just allows overwriting files.
    /// Sonames a foreign package's files need are its distribution's business: its declared
    /// dependencies already cover them (dpkg-shlibdeps, rpm's generators), and private
    /// libraries found through RPATH would otherwise look missing. Trees and CCS packages
    /// have no such tool behind them, so their derived requirements count. Breakage checks
    /// (`everyDerived`) count them for every format: removing the component that ships a
    /// library a program loads breaks that program whatever its metadata says.
    mutating func absorb(_ dependencies: [Dependency], format: PackageFormat, requirementsOnly: Bool = false, everyDerived: Bool = false) {
        var groups: [Int: [Dependency]] = [:], weakGroups: [Int: [Dependency]] = [:]
        let clashes = dependencies.filter { $0.relation == .conflicts || $0.relation == .breaks }
        let foreign = !everyDerived && format.declaresItsDependencies
        for dependency in dependencies {
            switch dependency.relation {
            case .requires where foreign && dependency.isDerivedFromContent: continue
            case .requires, .preRequires:
                // Pre-Depends and Depends number their alternatives separately; Pre-Depends come first.
                groups[dependency.alternative * 2 + (dependency.relation == .preRequires ? 0 : 1), default: []].append(dependency)
            // pacman never installs optional dependencies; apt and dnf install recommendations.
            case .recommends where !requirementsOnly && format != .arch:
                weakGroups[dependency.alternative, default: []].append(dependency)
            case .provides where !requirementsOnly: provides.append(dependency)
            case .conflicts, .breaks: conflicts.append(dependency)
            case .obsoletes where !requirementsOnly: obsoletes.append(dependency)
            case .replaces where !requirementsOnly && format == .deb:
                obsoletes += clashes.filter { $0.capability == dependency.capability }
            case .replaces where !requirementsOnly:
                obsoletes.append(dependency)
            default: continue
            }
        }
        let preDependsFirst = groups.keys.sorted { ($0 % 2, $0) < ($1 % 2, $1) }
        requires += preDependsFirst.map { groups[$0]! }
        recommends += weakGroups.keys.sorted().map { weakGroups[$0]! }
    }

    /// dpkg meets `foo:amd64` with foo built for amd64 and nothing else, and a provide of
    /// such a package in the same way: each name the unit offers gets a twin qualified by the
    /// architecture it was built for. Architecture-independent packages ("all") get none.
    mutating func qualifyProvides(byArchitecture architecture: String?) {
        guard let architecture, !["all", "any"].contains(architecture) else { return }
        let declared = provides.filter { !$0.isDerivedFromContent }
        provides.append(Dependency(relation: .provides, capability: name + ":" + architecture, comparison: "=", version: version,
                                   alternative: 0))
        provides += declared.map { provide in
            var qualified = provide
            qualified.capability += ":" + architecture
            return qualified
        }
    }

    /// What `install --no-deps` leaves for the solver to weigh: replacements only.
    mutating func dropRelationsForNoDeps() {
        requires = []
        recommends = []
        conflicts = []
    }
}

/// What apt ranks the providers of one requirement by, after "is it the package the
/// requirement names": Essential first, then the lower Priority (required 1 … extra 5, an
/// unknown word 5; an entry without the field, "", counts as 0, as in apt's cache). A
/// priority not known at all (nil: a stored trove, an entry synced before Conary kept the
/// field) counts as optional.
package struct ProviderRank: Comparable, Sendable {
    package let essential: Bool
    package let priority: Int

    package init(essential: Bool = false, priority: String? = nil) {
        self.essential = essential
        switch priority {
        case nil: self.priority = 4
        case ""?: self.priority = 0
        case let word?: self.priority = Self.priorities[word.lowercased()] ?? 5
        }
    }

    private static let priorities = ["required": 1, "important": 2, "standard": 3, "optional": 4, "extra": 5]

    /// Whether `self` sorts before `other` (is preferred).
    package static func < (lhs: ProviderRank, rhs: ProviderRank) -> Bool {
        lhs.essential != rhs.essential ? lhs.essential : lhs.priority < rhs.priority
    }
}
