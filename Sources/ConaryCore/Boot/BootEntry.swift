import Foundation

/// One Boot Loader Specification (Type #1) entry: `loader/entries/conary-<N>.conf`, read by
/// systemd-boot and by GRUB's blscfg. A new state's entry carries systemd's boot-counting
/// suffix (`conary-<N>+3.conf`: three tries left); the boot loader counts tries down in the
/// name, and a successful boot renames it to `conary-<N>.conf` (systemd-bless-boot).
public struct BootEntry: Equatable, Sendable {
    public var state: Int64
    public var title: String
    /// The kernel version.
    public var version: String
    /// Paths relative to the boot directory, as the specification wants them.
    public var linux: String
    public var initrd: String?
    public var options: String
    public var triesLeft: Int?
    public var triesDone: Int = 0

    /// The entry id boot loaders use: the file name without counters and ".conf".
    public var id: String { "conary-\(state)" }

    public var fileName: String {
        guard let triesLeft else { return id + ".conf" }
        return id + "+\(triesLeft)" + (triesDone > 0 ? "-\(triesDone)" : "") + ".conf"
    }

    public var text: String {
        var lines = ["title \(title)", "version \(version)", "sort-key conary", "linux \(linux)"]
        if let initrd { lines.append("initrd \(initrd)") }
        lines.append("options \(options)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The state and counters of a file name Conary wrote: conary-7.conf, conary-7+3.conf,
    /// conary-7+2-1.conf. Anything else is not Conary's.
    public static func parse(fileName: String) -> (state: Int64, triesLeft: Int?, triesDone: Int)? {
        guard fileName.hasPrefix("conary-"), fileName.hasSuffix(".conf") else { return nil }
        let core = fileName.dropFirst("conary-".count).dropLast(".conf".count)
        let parts = core.split(separator: "+", maxSplits: 1, omittingEmptySubsequences: false)
        guard let state = Int64(parts[0]), state > 0 else { return nil }
        guard parts.count == 2 else { return (state, nil, 0) }
        let counters = parts[1].split(separator: "-", omittingEmptySubsequences: false)
        guard let left = Int(counters[0]), left >= 0, counters.count <= 2 else { return nil }
        guard counters.count == 2 else { return (state, left, 0) }
        guard let done = Int(counters[1]), done >= 0 else { return nil }
        return (state, left, done)
    }
}
