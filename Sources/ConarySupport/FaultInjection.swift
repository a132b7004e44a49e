import CLinux
import Foundation

/// Named crash points for testing crash safety. Setting CONARY_CRASH_AT=<step> makes the
/// process kill itself with SIGKILL when it reaches that step: no cleanup, no flush.
public enum FaultInjection {
    public static let environmentVariable = "CONARY_CRASH_AT"

    private static let target = ProcessInfo.processInfo.environment[environmentVariable]

    /// Every step a test may name; `point` refuses unknown names so the list stays honest.
    public static let steps: [String] = [
        "import.objects-written", "import.objects-placed", "import.recorded",
        "changeset.recorded", "blit.midway", "blit.done", "initramfs.recorded", "swap.before", "swap.exchanged",
        "swap.archived", "changeset.applied",
        "activate.recorded", "activate.exchanged", "activate.archived",
        "prune.recorded", "prune.deleting", "gc.recorded", "gc.deleting", "rebuild.staged", "rebuild.exchanged",
    ]

    public static func point(_ step: String) {
        precondition(steps.contains(step), "unknown fault injection step \(step)")
        if target == step {
            conary_crash_now()
        }
    }
}
