import ConarySupport
import ConaryModel
/// The text files of a .deb's control.tar: the control paragraph and relation fields.
enum DebControl {
    /// Parses one deb822 paragraph; continuation lines join the field before them.
    static func fields(_ text: String) -> [String: String] { fields(lines: lines(of: text)) }

    /// The lines of `text`, split on bytes (a Character-wise split is slow on a large index).
    static func lines(of text: String) -> [Substring] {
        text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Substring($0) }
    }

    static func fields(lines: [Substring]) -> [String: String] {
        var fields: [String: String] = [:]
        var current: String?
        for line in lines {
            if line.isEmpty { if current != nil { break } else { continue } }
            if line.utf8.first == UInt8(ascii: " ") || line.utf8.first == UInt8(ascii: "\t") {
                if let current { fields[current, default: ""] += "\n" + line.dropFirst() }
                continue
            }
            guard let colon = line.utf8.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let key = trimmed(line[..<colon]).lowercased()
            fields[key] = String(trimmed(line[line.index(after: colon)...]))
            current = key
        }
        return fields
    }

    /// The relation fields of a control paragraph (or a Packages index entry) and what they mean.
    static let relationFields: [(field: String, relation: Dependency.Relation)] = [
        ("pre-depends", .preRequires), ("depends", .requires), ("recommends", .recommends), ("provides", .provides),
        ("conflicts", .conflicts), ("breaks", .breaks), ("replaces", .replaces),
    ]

    /// Every relation of a parsed paragraph (keys lowercased, as `fields` returns them).
    static func dependencies(from fields: [String: String]) -> [Dependency] {
        relationFields.flatMap { field, relation in fields[field].map { relations($0, as: relation) } ?? [] }
    }

    /// Parses "a (>= 1) | b, c:any [amd64] <!nocheck>" into dependencies; alternatives share a
    /// number. The name ends at the first "(", "[" or "<"; only a "(…)" right after it is a
    /// version constraint, so qualifiers never eat into one.
    static func relations(_ text: String, as relation: Dependency.Relation) -> [Dependency] {
        var result: [Dependency] = []
        for (group, clause) in text.split(separator: ",").enumerated() {
            for item in clause.split(separator: "|") {
                let stop = item.utf8.firstIndex { $0 == UInt8(ascii: "(") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "<") }
                    ?? item.endIndex
                var name = trimmed(item[..<stop])
                // foo:any and foo:native are satisfied by foo (as dpkg does for Multi-Arch allowed
                // and foreign); foo:i386 stays as written: only foo built for i386 provides it
                // (ResolverUnit.qualifyProvides).
                if name.hasSuffix(":any") || name.hasSuffix(":native"), let colon = name.utf8.lastIndex(of: UInt8(ascii: ":")) {
                    name = name[..<colon]
                }
                guard !name.isEmpty else { continue }
                var comparison: String?
                var version: String?
                if stop < item.endIndex, item[stop] == "(", let close = item[stop...].utf8.firstIndex(of: UInt8(ascii: ")")) {
                    let inner = trimmed(item[item.index(after: stop)..<close])
                    let operatorEnd = inner.utf8.firstIndex { !"<>=".utf8.contains($0) } ?? inner.endIndex
                    comparison = String(inner[..<operatorEnd])
                    version = String(trimmed(inner[operatorEnd...]))
                }
                result.append(Dependency(relation: relation, capability: String(name), comparison: comparison, version: version,
                                         alternative: group))
            }
        }
        return result
    }

    /// `text` without leading and trailing spaces, tabs and line ends (control data is ASCII
    /// where it matters, and Foundation's Unicode trimming is slow on a 60,000-entry index).
    static func trimmed(_ text: Substring) -> Substring {
        let blank = { (byte: UInt8) in byte == 32 || byte == 9 || byte == 10 || byte == 13 }
        guard let first = text.utf8.firstIndex(where: { !blank($0) }), let last = text.utf8.lastIndex(where: { !blank($0) }) else {
            return ""
        }
        return text[first...last]
    }

    /// "md5  path" lines → path (absolute) → md5.
    static func md5sums(_ text: String) -> [String: String] {
        var sums: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { continue }
            sums["/" + parts[1].trimmingCharacters(in: .whitespaces)] = String(parts[0])
        }
        return sums
    }
}
