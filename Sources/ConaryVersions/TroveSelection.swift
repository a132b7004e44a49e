import ConaryModel

/// Which of several troves a request such as "name", "name=version" or "name[flavor]" means.
public enum TroveSelection {
    /// A request split into its parts: "tool=2.0[ssl]" → ("tool", "2.0", ssl).
    public struct Request: Equatable, Sendable {
        public var name: String
        public var version: String?
        public var flavor: Flavor

        public init(_ spec: String) throws {
            var text = Substring(spec)
            flavor = .empty
            if text.hasSuffix("]"), let open = text.firstIndex(of: "[") {
                flavor = try Flavor(String(text[text.index(after: open)..<text.index(before: text.endIndex)]))
                text = text[..<open]
            }
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            name = parts.first ?? ""
            version = parts.count == 2 ? parts[1] : nil
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
