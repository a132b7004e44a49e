import ConaryModel
import ConarySupport
/// Why a boot-loader change cannot be made. Nothing in the boot directory changes when one is thrown.
public enum BootError: Error, CustomStringConvertible, Equatable {
    /// `<boot>/loader/entries` does not exist: the boot directory is not Conary's to manage.
    case unmanagedBootDirectory(String)
    case noEntry(state: Int64)
    case noBootedState
    case invalidTries(path: String, text: String)
    case noOneShotLoader(bootPath: String)
    case unreadableGrubEnvironment(String)
    case grubEnvironmentFull(path: String, variable: String, size: Int)

    public var description: String {
        switch self {
        case let .unmanagedBootDirectory(path):
            return "\(path) has no loader/entries folder, so Conary does not manage boot entries there."
        case let .noEntry(state):
            return "State \(state) has no boot entry (it has no kernel, or it was pruned)."
        case .noBootedState:
            return "The kernel command line names no conary.state=N, so there is no booted state to mark."
        case let .invalidTries(path, text):
            return "\(path) must hold a number of tries from 0 to 99, not \"\(text)\"."
        case let .noOneShotLoader(bootPath):
            return "Neither systemd-boot (no LoaderInfo EFI variable) nor GRUB (no grubenv in \(bootPath)) can boot a state once; "
                + "use conary boot set-default."
        case let .unreadableGrubEnvironment(path):
            return "\(path) is not a readable GRUB environment block."
        case let .grubEnvironmentFull(path, variable, size):
            return "\(path) has no room left for \(variable) (GRUB's environment block is \(size) bytes)."
        }
    }
}
