import Foundation

/// Every failure Conary reports to a user. Each case renders as one sentence.
public enum ConaryError: Error, CustomStringConvertible, Equatable {
    case system(operation: String, path: String, errno: Int32)
    case invalidArgument(String)
    case rootMissing(String)
    case notInitialized(String)
    case unmanagedUsr(String)
    case notMergedUsr(path: String)
    case crossDevice(String)
    case bootedStateNotLive(booted: Int64, live: Int64)
    case exchangeUnsupported(String)
    case troveNotFound(String)
    case ambiguousTrove(String, versions: [String])
    case troveExists(name: String, version: String)
    case noFittingFlavor(String, flavors: [String], system: String)
    case troveNotInstalled(String)
    case pinned(String)
    case wouldBreak([String], dependants: [String])
    /// The solver's explanation, one sentence per line.
    case unresolvable(action: String, reasons: [String])
    case fileConflict(path: String, first: String, second: String)
    case pathOutsideState(trove: String, path: String)
    case reservedPath(trove: String, path: String)
    case symlinkLoop(String)
    case symlinkIntoItself(String)
    case stateNotFound(Int64)
    case stateUnavailable(Int64, reason: String)
    case alreadyActive(Int64)
    case noPreviousState(Int64)
    case noActiveState
    case changedDuringImport(String)
    case initramfsFailed(kernel: String, detail: String)
    /// The sandbox (Deploy/Sandbox.swift) could not be set up for `program`; `step` names
    /// what failed, e.g. "Mounting an overlay at /usr/lib/modules/6.1".
    case sandboxFailed(program: String, step: String, errno: Int32)
    /// `searched` is the PATH looked through, nil when the program was given as a path.
    case sandboxProgramMissing(program: String, searched: String?)

    public var description: String {
        switch self {
        case let .system(operation, path, code):
            return "\(operation) \(path) failed: \(String(cString: strerror(code)))."
        case let .invalidArgument(text):
            return text
        case let .rootMissing(path):
            return "The root directory \(path) does not exist."
        case let .notInitialized(path):
            return "\(path) holds no Conary database yet; commit a tree first."
        case let .unmanagedUsr(path):
            return "\(path) exists but is not managed by Conary (no .conary-state); move it away or use an empty root."
        case let .notMergedUsr(path):
            return "\(path) is a real directory, but Conary needs a merged-/usr root where it is a symlink into usr."
        case let .bootedStateNotLive(booted, live):
            return "This boot runs state \(booted), but state \(live) is the live one; make \(booted) live first "
                + "(conary state activate \(booted)) or boot state \(live)."
        case let .crossDevice(path):
            return "\(path) and the Conary store are on different filesystems; hardlinks and the atomic swap need one filesystem."
        case let .exchangeUnsupported(path):
            return "The filesystem under \(path) does not support renameat2(RENAME_EXCHANGE), so /usr cannot be swapped atomically."
        case let .troveNotFound(spec):
            return "No trove matches \(spec) in the store."
        case let .ambiguousTrove(name, versions):
            return "\(name) is in the store in several formats (versions \(versions.joined(separator: ", "))) that cannot be ordered against each other; name one as \(name)=VERSION."
        case let .noFittingFlavor(spec, flavors, system):
            return "No flavor of \(spec) fits this system (\(system)); the store has \(flavors.joined(separator: "; "))."
        case let .troveExists(name, version):
            return "The trove \(name)=\(version) is already in the store."
        case let .unresolvable(action, reasons):
            return "Cannot \(action) as asked:\n" + reasons.map { "  " + $0 }.joined(separator: "\n")
        case let .wouldBreak(names, dependants):
            return "Removing \(names.joined(separator: ", ")) would leave \(dependants.joined(separator: ", ")) without something they require; "
                + "remove them too, or pass --allow-broken."
        case let .pinned(name):
            return "\(name) is pinned; unpin it (conary unpin \(name)) to change or remove it."
        case let .troveNotInstalled(name):
            return "The trove \(name) is not in the active state."
        case let .fileConflict(path, first, second):
            return "File conflict at \(path): \(first) and \(second) both provide it with different contents."
        case let .pathOutsideState(trove, path):
            return "\(trove) ships \(path), which lies outside /usr and /etc; a Conary state holds only /usr."
        case let .reservedPath(trove, path):
            return "\(trove) ships \(path), a path Conary reserves for itself."
        case let .symlinkLoop(path):
            return "The symlink \(path) is part of a loop."
        case let .symlinkIntoItself(path):
            return "The symlink \(path) points into the directory it replaces."
        case let .stateNotFound(id):
            return "State \(id) does not exist."
        case let .stateUnavailable(id, reason):
            return "State \(id) cannot be activated: \(reason)."
        case let .alreadyActive(id):
            return "State \(id) is already the active state."
        case let .noPreviousState(id):
            return "State \(id) was not built from an earlier state that still exists, so there is nothing to roll back to."
        case .noActiveState:
            return "No state is active yet; install a trove first."
        case let .changedDuringImport(path):
            return "\(path) changed while it was being imported; import it again."
        case let .initramfsFailed(kernel, detail):
            return "dracut could not build the initramfs of kernel \(kernel), so the state was not deployed: \(detail)"
        case let .sandboxFailed(program, step, code):
            return "\(step) in the sandbox for \(program) failed: \(String(cString: strerror(code)))."
        case let .sandboxProgramMissing(program, searched):
            return searched.map { "\(program) is not in the sandbox (PATH \($0))." } ?? "\(program) does not exist in the sandbox."
        }
    }
}

extension ConaryError: LocalizedError {
    public var errorDescription: String? { description }
}
