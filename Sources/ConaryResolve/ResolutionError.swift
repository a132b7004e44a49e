/// A request the solver cannot satisfy.
public enum ResolutionError: Error, CustomStringConvertible, Equatable {
    /// The solver's explanation, one sentence per line.
    case unresolvable(action: String, reasons: [String])

    public var description: String {
        switch self {
        case let .unresolvable(action, reasons):
            return "Cannot \(action) as asked:\n" + reasons.map { "  " + $0 }.joined(separator: "\n")
        }
    }
}
