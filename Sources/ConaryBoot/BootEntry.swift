import ConaryModel
import ConarySupport
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
    public var preference = Preference.untried

    public init(state: Int64, title: String, version: String, linux: String, initrd: String?, options: String,
                triesLeft: Int? = nil, triesDone: Int = 0) {
        self.state = state
        self.title = title
        self.version = version
        self.linux = linux
        self.initrd = initrd
        self.options = options
        self.triesLeft = triesLeft
        self.triesDone = triesDone
    }

    /// loader.conf's `default`: systemd-boot boots the first entry in its own order that the
    /// pattern matches, after moving entries that used up their tries to the end. An exact id
    /// would pin a state even once it failed, so the pattern matches every Conary entry and the
    /// sort key orders them: the preferred state, then states that booted well, then the rest
    /// (each group newest kernel, then highest state, first).
    public static let defaultPattern = "conary-*"

    public enum Preference: Int, Sendable {
        case preferred = 0, bootedWell, untried
    }

    var sortKey: String { "conary-\(preference.rawValue)" }

    /// The entry id boot loaders use: the file name without counters and ".conf".
    public var id: String { "conary-\(state)" }

    public var fileName: String {
        guard let triesLeft else { return id + ".conf" }
        return id + "+\(triesLeft)" + (triesDone > 0 ? "-\(triesDone)" : "") + ".conf"
    }

    public var text: String {
        var lines = ["title \(title)", "version \(version)", "sort-key \(sortKey)", "linux \(linux)"]
        if let initrd { lines.append("initrd \(initrd)") }
        lines.append("options \(options)")
        return lines.joined(separator: "\n") + "\n"
    }

    /// GRUB blscfg's id of an entry file: its current name without ".conf", counters and all.
    package static func grubID(fileName: String) -> String { String(fileName.dropLast(".conf".count)) }

    /// The preference an entry's text records (its sort key).
    package static func preference(inText text: String) -> Preference? {
        text.split(separator: "\n").first { $0.hasPrefix("sort-key conary-") }
            .flatMap { Int($0.dropFirst("sort-key conary-".count)) }.flatMap(Preference.init(rawValue:))
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
