import ConaryModel
import ConarySupport
import Foundation

/// GRUB's environment block (`grub/grubenv`): exactly 1024 bytes, a header line, `name=value`
/// lines, and '#' padding, because GRUB rewrites it in place from the boot loader. Conary sets
/// `next_entry` (one boot only; GRUB clears it) and `saved_entry` (the default) to a BLS entry
/// id, as blscfg names entries: the file name without ".conf".
package struct GrubEnvironment {
    package let path: String

    static let size = 1024
    static let header = "# GRUB Environment Block\n"

    /// The first grubenv under a boot directory, if GRUB is installed there.
    package static func find(inBoot boot: String) -> GrubEnvironment? {
        ["grub/grubenv", "grub2/grubenv"].map { GrubEnvironment(path: boot + "/" + $0) }.first { FileSystem.exists($0.path) }
    }

    package func variables() throws -> [(name: String, value: String)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw BootError.unreadableGrubEnvironment(path)
        }
        return text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") else { return nil }
            return (String(line[..<equals]), String(line[line.index(after: equals)...]))
        }
    }

    /// Sets (or with nil removes) one variable and keeps the others.
    package func set(_ name: String, to value: String?) throws {
        var variables = try self.variables().filter { $0.name != name }
        if let value { variables.append((name, value)) }
        var text = Self.header + variables.map { "\($0.name)=\($0.value)\n" }.joined()
        guard text.utf8.count <= Self.size else {
            throw BootError.grubEnvironmentFull(path: path, variable: name, size: Self.size)
        }
        text += String(repeating: "#", count: Self.size - text.utf8.count)
        let directory = try Descriptor.directory((path as NSString).deletingLastPathComponent)
        try FileSystem.writeAtomically(text, to: (path as NSString).lastPathComponent, relativeTo: directory.fd)
        try directory.sync()
    }
}
