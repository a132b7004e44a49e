import Foundation

/// Why a request cannot be carried out as asked. Errors of the layers below (a file conflict,
/// an unresolvable install, a failed syscall) reach the user as they are; these are the
/// operations' own. Each renders as one sentence naming what was asked.
public enum ConaryError: Error, CustomStringConvertible, Equatable {
    case rootMissing(String)
    case rootNotDirectory(String)
    /// A file argument (a package to import) that is not a regular file: what it is instead.
    case notRegularFile(String, kind: String)
    /// `unpin` of a name that is neither pinned nor installed.
    case notPinned(String)
    case notInitialized(String)
    /// A command that needs operands got none: the sentence says which.
    case missingOperand(String)
    /// The request changes nothing: the sentence says why.
    case nothingToDo(String)
    case troveNotFound(String)
    case troveNotInstalled(String)
    case builtForOtherSystem(spec: String, flavor: String, system: String)
    /// `foo:i386` on an amd64 root: Multi-Arch foreign architectures are not supported.
    case foreignArchitecture(spec: String, architecture: String, native: String)
    case pinned(String)
    case wouldBreak([String], dependants: [String])
    case noOwner(path: String)
    case noPreviousState(Int64)
    case noActiveState
    case invalidKeepCount
    case invalidPublicKey
    case invalidRepositoryName(String)
    case unsupportedRepositoryURL(String)
    case notAFolder(String)
    /// A downloaded package file is not what its index promised.
    case downloadMismatch(file: String, repository: String, what: String)
    case downloadHoldsOther(file: String, repository: String, holds: String, listed: String)
    /// The trees on disk cannot rebuild the database: the sentence says why.
    case cannotRebuild(String)

    public var description: String {
        switch self {
        case let .rootMissing(path):
            return "The root directory \(path) does not exist."
        case let .rootNotDirectory(path):
            return "The root \(path) is not a directory."
        case let .notRegularFile(path, kind):
            return "\(path) is \(kind), not a package file; pass a regular file."
        case let .notPinned(name):
            return "\(name) is not pinned and not installed."
        case let .notInitialized(path):
            return "\(path) holds no Conary database yet; commit a tree first."
        case let .missingOperand(sentence), let .nothingToDo(sentence):
            return sentence
        case let .troveNotFound(spec):
            return "No trove matches \(spec) in the store."
        case let .troveNotInstalled(name):
            return "The trove \(name) is not in the active state."
        case let .builtForOtherSystem(spec, flavor, system):
            return "\(spec) is built for \(flavor), which this system (\(system)) cannot run."
        case let .foreignArchitecture(spec, architecture, native):
            return "\(spec) asks for the \(architecture) build, but a root holds only its own architecture's (\(native)): "
                + "foreign architectures (dpkg --add-architecture) are not supported yet."
        case let .pinned(name):
            return "\(name) is pinned; unpin it (conary unpin \(name)) to change or remove it."
        case let .wouldBreak(names, dependants):
            return "Removing \(names.joined(separator: ", ")) would leave \(dependants.joined(separator: ", ")) without something they require; "
                + "remove them too, or pass --allow-broken."
        case let .noOwner(path):
            return "No installed trove owns \(path)."
        case let .noPreviousState(id):
            return "State \(id) was not built from an earlier state that still exists, so there is nothing to roll back to."
        case .noActiveState:
            return "No state is active yet; install a trove first."
        case .invalidKeepCount:
            return "--keep takes a number of states, 0 or more."
        case .invalidPublicKey:
            return "That is not an Ed25519 public key (64 hex digits)."
        case .invalidRepositoryName:
            return "A repository name uses letters, digits, - and _ only."
        case let .unsupportedRepositoryURL(url):
            return "\(url) is not a file:// URL; repositories are local folders of package files."
        case let .notAFolder(path):
            return "\(path) is not a folder."
        case let .downloadMismatch(file, repository, what):
            return "\(file) in repository \(repository) does not match its index (\(what)); run conary repo sync if the repository changed."
        case let .downloadHoldsOther(file, repository, holds, listed):
            return "\(file) in repository \(repository) holds \(holds), not the \(listed) its index lists; run conary repo sync."
        case let .cannotRebuild(sentence):
            return sentence
        }
    }
}

extension ConaryError: LocalizedError {
    public var errorDescription: String? { description }
}
