import ConaryModel

/// Which of several troves a request such as "name", "name=version" or "name[flavor]" means.
public enum TroveSelection {
    /// A request split into its parts: "tool=2.0[ssl]" → ("tool", "2.0", ssl). Every command
    /// that takes a trove spec parses it here, so a malformed one is a `VersionError`.
    public struct Request: Equatable, Sendable {
        /// "name" or "name:component".
        public var name: String
        public var version: String?
        public var flavor: Flavor

        public init(_ spec: String) throws {
            func malformed(_ why: String) -> VersionError { .malformedSpec(spec, reason: why) }
            guard !spec.isEmpty else { throw malformed("it is empty") }
            var text = Substring(spec)
            flavor = .empty
            if let open = text.firstIndex(of: "[") {
                guard text.hasSuffix("]") else { throw malformed("a flavor ends with \"]\"") }
                flavor = try Flavor(String(text[text.index(after: open)..<text.index(before: text.endIndex)]))
                text = text[..<open]
            }
            let equals = text.firstIndex(of: "=")
            name = String(text[..<(equals ?? text.endIndex)])
            version = equals.map { String(text[text.index(after: $0)...]) }
            guard !name.isEmpty else { throw malformed("it names no trove") }
            let package = Trove.packageName(of: name)
            try TroveName.check(package)
            if package != name { try TroveName.check(String(name.dropFirst(package.count + 1))) }
            if let version { try TroveName.check(version: version) }
        }

        /// The package a component request belongs to ("foo" of "foo:runtime").
        public var packageName: String { Trove.packageName(of: name) }

        /// Whether `trove` is what this request names, flavor aside.
        public func matches(_ trove: Trove) -> Bool {
            trove.name == name && (version == nil || trove.version == version)
        }
    }

    /// Among `candidates` (all of one name, nil when there are none) those that can run on
    /// `system` (with the requested flavor laid over it, and its required flags demanded of
    /// the trove): the best-scoring flavor wins, then the newest version in the format's own
    /// ordering. Versions of one name in different formats cannot be ordered against each
    /// other, so those must be named.
    public static func best(of candidates: [Trove], for request: Request, spec: String, system: Flavor) throws -> Trove? {
        guard let first = candidates.first else { return nil }
        guard candidates.allSatisfy({ $0.format == first.format }) else {
            throw VersionError.ambiguousTrove(request.name, versions: candidates.map(\.version))
        }
        let requested = request.flavor
        let target = system.overridden(by: requested)
        let fitting = try candidates.compactMap { trove -> (Trove, Int)? in
            let flavor = try Flavor(trove.flavor)
            guard requested.flags.allSatisfy({ name, sense in
                sense == .required ? flavor.flags[name] == .required : sense == .disallowed ? flavor.flags[name] != .required : true
            }), let score = flavor.score(on: target) else { return nil }
            return (trove, score)
        }
        let scheme = VersionScheme(of: first)
        guard let best = fitting.max(by: { a, b in
            a.1 != b.1 ? a.1 < b.1 : scheme.compare(a.0.version, b.0.version) < 0
        }) else {
            throw VersionError.noFittingFlavor(spec, flavors: candidates.map { $0.flavor.isEmpty ? "(none)" : $0.flavor }, system: target.description)
        }
        return best.0
    }
}
