import Foundation

/// A build's configuration, as the original Conary wrote it: `ssl,!pam,~readline,~!debug is: x86_64 x86(sse2)`.
/// Use flags come first; after `is:` the instruction sets with their own flags.
public struct Flavor: Equatable, Sendable, CustomStringConvertible {
    public enum Sense: Int, Sendable {
        case required, disallowed, preferred, preferNot

        init(marks: Substring) throws {
            switch marks {
            case "": self = .required
            case "!": self = .disallowed
            case "~": self = .preferred
            case "~!": self = .preferNot
            default: throw VersionError.malformedFlavor("\"\(marks)\" is not a flavor sense; use nothing, !, ~ or ~!.")
            }
        }

        var marks: String { ["", "!", "~", "~!"][rawValue] }
    }

    public private(set) var flags: [String: Sense] = [:]
    /// Instruction set → its flags (x86(sse2) is "x86": ["sse2": .required]).
    public private(set) var architectures: [String: [String: Sense]] = [:]

    public static let empty = Flavor()

    public init() {}

    /// Parses and normalizes; a flag named twice with different senses is an error.
    public init(_ text: String) throws {
        let parts = text.components(separatedBy: "is:")
        guard parts.count <= 2 else { throw VersionError.malformedFlavor("The flavor \"\(text)\" has more than one \"is:\".") }
        for item in parts[0].split(separator: ",") {
            let (name, sense) = try Flavor.flag(item.trimmingCharacters(in: .whitespaces)[...], in: text)
            try Flavor.set(&flags, name, sense, in: text)
        }
        if parts.count == 2 {
            for item in parts[1].split(separator: " ", omittingEmptySubsequences: true) {
                var name = Substring(item)
                var subflags: [String: Sense] = [:]
                if let open = item.firstIndex(of: "("), item.hasSuffix(")") {
                    name = item[..<open]
                    for sub in item[item.index(after: open)..<item.index(before: item.endIndex)].split(separator: ",") {
                        let (subName, sense) = try Flavor.flag(sub, in: text)
                        try Flavor.set(&subflags, subName, sense, in: text)
                    }
                }
                guard Flavor.isName(name) else { throw VersionError.malformedFlavor("\"\(item)\" is not an instruction set in \"\(text)\".") }
                architectures[String(name), default: [:]].merge(subflags) { $1 }
            }
        }
    }

    private static func flag(_ item: Substring, in text: String) throws -> (String, Sense) {
        let marks = item.prefix { $0 == "~" || $0 == "!" }
        let name = item.dropFirst(marks.count)
        guard isName(name) else { throw VersionError.malformedFlavor("\"\(item)\" is not a flavor flag in \"\(text)\".") }
        return (String(name), try Sense(marks: marks))
    }

    private static func isName(_ name: Substring) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }
    }

    private static func set(_ flags: inout [String: Sense], _ name: String, _ sense: Sense, in text: String) throws {
        if let existing = flags[name], existing != sense {
            throw VersionError.malformedFlavor("The flavor \"\(text)\" names \(name) twice with different senses.")
        }
        flags[name] = sense
    }

    /// The normal form: flags sorted by name, then `is:` and the sorted instruction sets.
    public var description: String {
        let use = flags.sorted { $0.key < $1.key }.map { $0.value.marks + $0.key }.joined(separator: ",")
        let arch = architectures.sorted { $0.key < $1.key }.map { name, subflags in
            subflags.isEmpty ? name : name + "(" + subflags.sorted { $0.key < $1.key }.map { $0.value.marks + $0.key }.joined(separator: ",") + ")"
        }.joined(separator: " ")
        return [use, arch.isEmpty ? "" : "is: " + arch].filter { !$0.isEmpty }.joined(separator: " ")
    }

    /// How well a trove built with this flavor suits `system`, or nil if it cannot run
    /// there (Docs/flavors.md has the table).
    public func score(on system: Flavor) -> Int? {
        var total = 0
        for (name, sense) in flags {
            guard let points = Flavor.points(trove: sense, system: system.flags[name]) else { return nil }
            total += points
        }
        for (name, subflags) in architectures {
            guard let systemSubflags = system.architectures[name] else { return nil }
            for (flag, sense) in subflags {
                guard let points = Flavor.points(trove: sense, system: systemSubflags[flag]) else { return nil }
                total += points
            }
        }
        return total
    }

    /// Rows: the trove's sense; columns: the system's (nil when it does not mention the flag).
    private static func points(trove: Sense, system: Sense?) -> Int? {
        switch (trove, system) {
        case (_, nil): return trove == .required ? nil : 0
        case (.required, .required?): return 3
        case (.required, .preferred?): return 2
        case (.required, .preferNot?): return -2
        case (.required, .disallowed?): return nil
        case (.disallowed, .required?): return nil
        case (.disallowed, .preferred?): return -2
        case (.disallowed, .preferNot?): return 2
        case (.disallowed, .disallowed?): return 3
        case (.preferred, .required?), (.preferred, .preferred?), (.preferNot, .preferNot?), (.preferNot, .disallowed?): return 1
        case (.preferred, _), (.preferNot, _): return -1
        }
    }

    /// The system flavor with a user's request laid over it: `ssl` in `foo[ssl]` overrides
    /// whatever the system says of ssl.
    public func overridden(by request: Flavor) -> Flavor {
        var result = self
        result.flags.merge(request.flags) { $1 }
        result.architectures.merge(request.architectures) { $0.merging($1) { $1 } }
        return result
    }

    /// This machine: `is: <uname -m>`, with the usual older instruction sets of x86_64.
    public static var host: Flavor {
        var name = utsname()
        uname(&name)
        let machine = withUnsafePointer(to: &name.machine) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
        var flavor = Flavor()
        flavor.architectures[machine] = [:]
        if machine == "x86_64" { flavor.architectures["x86"] = ["sse2": .required] }
        return flavor
    }

    /// The flavor a foreign package's architecture field implies ("all", "noarch" and "any" imply none).
    package static func architecture(_ arch: String?) -> Flavor {
        guard let arch, !["all", "noarch", "any"].contains(arch) else { return .empty }
        var flavor = Flavor()
        flavor.architectures[machineNames[arch] ?? arch] = [:]
        return flavor
    }

    /// Package architectures' names for machines (`uname -m`) where they differ.
    private static let machineNames = ["amd64": "x86_64", "arm64": "aarch64", "i386": "x86", "i686": "x86", "armhf": "arm", "ppc64el": "ppc64le"]

    /// Debian's name for this machine's architecture (amd64 on x86_64).
    public static var hostDebianArchitecture: String {
        let machine = host.architectures.keys.first { $0 != "x86" } ?? ""
        return machineNames.first { $0.value == machine && $0.key != "i686" }?.key ?? machine
    }

    /// Debian's architecture names, which `foo:ARCH` may carry (dpkg-architecture -L, the
    /// release and ports ones).
    public static let debianArchitectures: Set<String> = [
        "amd64", "arm64", "armel", "armhf", "i386", "mips64el", "mipsel", "ppc64el", "s390x", "riscv64", "x32", "alpha", "hppa",
        "ia64", "loong64", "m68k", "powerpc", "ppc64", "sh4", "sparc64", "hurd-i386", "hurd-amd64",
    ]
}
