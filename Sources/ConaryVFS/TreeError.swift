import ConaryModel
/// Why a set of troves does not make one state tree. Each names the troves and the path.
public enum TreeError: Error, CustomStringConvertible, Equatable {
    case fileConflict(path: String, first: String, second: String)
    case pathOutsideState(trove: String, path: String)
    case reservedPath(trove: String, path: String)
    case pathClimbsOut(trove: String, path: String)
    case symlinkLoop(String)
    case symlinkIntoItself(String)

    public var description: String {
        switch self {
        case let .fileConflict(path, first, second):
            return "File conflict at \(path): \(first) and \(second) both provide it with different contents."
        case let .pathOutsideState(trove, path):
            return "\(trove) ships \(path), which lies outside /usr and /etc; a Conary state holds only /usr."
        case let .reservedPath(trove, path):
            return "\(trove) ships \(path), a path Conary reserves for itself."
        case let .pathClimbsOut(trove, path):
            return "\(trove) ships \(path), a path that climbs out with \"..\"."
        case let .symlinkLoop(path):
            return "The symlink \(path) is part of a loop."
        case let .symlinkIntoItself(path):
            return "The symlink \(path) points into the directory it replaces."
        }
    }
}
