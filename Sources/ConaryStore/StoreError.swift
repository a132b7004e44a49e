import ConarySupport
/// What the content store refuses.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// The file changed while it was hashed and copied, so its object would not match it.
    case changedDuringImport(String)

    public var description: String {
        switch self {
        case let .changedDuringImport(path): return "\(path) changed while it was being imported; import it again."
        }
    }
}
