import ConaryModel

/// Why a state cannot be built, swapped or activated on this root. Nothing live has changed
/// when one of these is thrown.
public enum DeployError: Error, CustomStringConvertible, Equatable {
    case unmanagedUsr(String)
    case notMergedUsr(path: String)
    case crossDevice(String)
    case exchangeUnsupported(String)
    case bootedStateNotLive(booted: Int64, live: Int64)
    case stateUnavailable(Int64, reason: String)
    case alreadyActive(Int64)
    case initramfsFailed(kernel: String, detail: String)
    /// The database does not describe the trees on disk: the sentence says how.
    case databaseDisagrees(String)
    /// The root has state trees but no database: a fresh one would forget them.
    case databaseMissing(root: String)
    /// Staging holds a real state's tree that recovery could not archive yet.
    case stagingOccupied(state: Int64)
    /// A state's tree failed the fast check: the first problem and how many there are.
    case damagedTree(state: Int64, first: String, count: Int)
    /// A tree's manifest cannot be read (damaged, or written by a newer Conary).
    case unreadableManifest(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unmanagedUsr(path):
            return "\(path) exists but is not managed by Conary (no .conary-state); move it away or use an empty root."
        case let .notMergedUsr(path):
            return "\(path) is a real directory, but Conary needs a merged-/usr root where it is a symlink into usr."
        case let .crossDevice(path):
            return "\(path) and the Conary store are on different filesystems; hardlinks and the atomic swap need one filesystem."
        case let .exchangeUnsupported(path):
            return "The filesystem under \(path) does not support renameat2(RENAME_EXCHANGE), so /usr cannot be swapped atomically."
        case let .bootedStateNotLive(booted, live):
            return "This boot runs state \(booted), but state \(live) is the live one; make \(booted) live first "
                + "(conary state activate \(booted)) or boot state \(live)."
        case let .stateUnavailable(id, reason):
            return "State \(id) cannot be activated: \(reason)."
        case let .alreadyActive(id):
            return "State \(id) is already the active state."
        case let .initramfsFailed(kernel, detail):
            return "dracut could not build the initramfs of kernel \(kernel), so the state was not deployed: \(detail)"
        case let .databaseDisagrees(sentence):
            return sentence
        case let .databaseMissing(root):
            return "\(root) has state trees but no conary/conary.db; Conary will not start a fresh database that forgets them. "
                + "Restore the database, or rebuild it from the trees with conary db rebuild."
        case let .stagingOccupied(state):
            return "conary/staging still holds the tree of state \(state), which could not be archived; "
                + "fix what stops it (the previous command said what) and run conary again."
        case let .damagedTree(state, first, count):
            let more = count > 1 ? ", and \(count - 1) more problem\(count == 2 ? "" : "s")" : ""
            return "State \(state) cannot be activated: its tree is damaged (\(first)\(more)); conary fsck --repair restores what it can."
        case let .unreadableManifest(path, reason):
            return "The state manifest \(path) cannot be read: \(reason)."
        }
    }
}
