/// A version, flavor or trove choice that cannot be made sense of.
public enum VersionError: Error, CustomStringConvertible, Equatable {
    /// A version that starts like a native Conary version but does not parse as one.
    case malformedVersion(String, reason: String)
    /// A flavor string that does not parse; the sentence says where.
    case malformedFlavor(String)
    /// One name in several formats whose versions cannot be ordered against each other.
    case ambiguousTrove(String, versions: [String])
    case noFittingFlavor(String, flavors: [String], system: String)
    /// A trove name or version that breaks the rules of `TroveName`.
    case invalidName(String, reason: String)
    case invalidVersion(String, reason: String)
    /// A trove spec that does not split into name, version and flavor.
    case malformedSpec(String, reason: String)

    public var description: String {
        switch self {
        case let .malformedVersion(text, reason):
            return "\(text) is not a Conary version (/host@namespace:tag/upstream-source-build): \(reason)."
        case let .malformedFlavor(sentence):
            return sentence
        case let .ambiguousTrove(name, versions):
            return "\(name) is in the store in several formats (versions \(versions.joined(separator: ", "))) that cannot be ordered "
                + "against each other; name one as \(name)=VERSION."
        case let .noFittingFlavor(spec, flavors, system):
            return "No flavor of \(spec) fits this system (\(system)); the store has \(flavors.joined(separator: "; "))."
        case let .invalidName(name, reason):
            return "\(name.debugDescription) is not a trove name: \(reason)."
        case let .invalidVersion(version, reason):
            return "\(version.debugDescription) is not a trove version: \(reason)."
        case let .malformedSpec(spec, reason):
            return "\(spec.debugDescription) is not a trove spec (NAME, NAME:COMPONENT, NAME=VERSION, NAME[FLAVOR]): \(reason)."
        }
    }
}
