/// A version, flavor or trove choice that cannot be made sense of.
public enum VersionError: Error, CustomStringConvertible, Equatable {
    /// A version that starts like a native Conary version but does not parse as one.
    case malformedVersion(String, reason: String)
    /// A flavor string that does not parse; the sentence says where.
    case malformedFlavor(String)
    /// One name in several formats whose versions cannot be ordered against each other.
    case ambiguousTrove(String, versions: [String])
    case noFittingFlavor(String, flavors: [String], system: String)

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
        }
    }
}
