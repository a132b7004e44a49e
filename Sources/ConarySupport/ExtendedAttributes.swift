import CLinux
import Foundation

/// Extended attributes of one file, sorted by name so they hash canonically.
public struct ExtendedAttributes: Equatable, Sendable {
    public var entries: [(name: String, value: [UInt8])]

    public static let none = ExtendedAttributes(entries: [])

    public init(entries: [(name: String, value: [UInt8])]) {
        self.entries = entries.sorted { $0.name < $1.name }
    }

    public static func == (a: ExtendedAttributes, b: ExtendedAttributes) -> Bool {
        a.entries.count == b.entries.count
            && zip(a.entries, b.entries).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    /// Canonical text form used inside object identities: "name=hex;" per attribute.
    package var canonical: String {
        entries.map { entry in
            entry.name + "=" + entry.value.hex + ";"
        }.joined()
    }

    /// Reads the attributes of an open file.
    package static func read(fd: Int32, path: String) throws -> ExtendedAttributes {
        let names = try readList(path: path) { conary_flistxattr(fd, $0, $1) }
        var entries: [(String, [UInt8])] = []
        for name in names {
            let value = try readValue(path: path) { conary_fgetxattr(fd, name, $0, $1) }
            entries.append((name, value))
        }
        return ExtendedAttributes(entries: entries)
    }

    package func apply(fd: Int32, path: String) throws {
        for entry in entries {
            let result = entry.value.withUnsafeBytes { conary_fsetxattr(fd, entry.name, $0.baseAddress, $0.count) }
            try sys("Setting extended attribute \(entry.name) on", path, result)
        }
    }

    private static func readList(path: String, _ call: (UnsafeMutablePointer<CChar>?, Int) -> Int) throws -> [String] {
        let size = call(nil, 0)
        if size < 0 {
            if errno == ENOTSUP { return [] }
            throw SystemError(operation: "Listing extended attributes of", path: path, errno: errno)
        }
        if size == 0 { return [] }
        var buffer = [CChar](repeating: 0, count: size)
        let filled = call(&buffer, size)
        guard filled >= 0 else { throw SystemError(operation: "Listing extended attributes of", path: path, errno: errno) }
        return buffer[0..<filled].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    }

    private static func readValue(path: String, _ call: (UnsafeMutableRawPointer?, Int) -> Int) throws -> [UInt8] {
        let size = call(nil, 0)
        guard size >= 0 else { throw SystemError(operation: "Reading extended attributes of", path: path, errno: errno) }
        var buffer = [UInt8](repeating: 0, count: size)
        let filled = buffer.withUnsafeMutableBytes { call($0.baseAddress, size) }
        guard filled >= 0 else { throw SystemError(operation: "Reading extended attributes of", path: path, errno: errno) }
        return Array(buffer[0..<filled])
    }
}
