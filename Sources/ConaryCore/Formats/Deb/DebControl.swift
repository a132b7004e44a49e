/// The text files of a .deb's control.tar: the control paragraph and relation fields.
enum DebControl {
    /// Parses one deb822 paragraph; continuation lines join the field before them.
    static func fields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        var current: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { if current != nil { break } else { continue } }
            if line.first == " " || line.first == "\t" {
                if let current { fields[current, default: ""] += "\n" + line.dropFirst() }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            fields[key] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            current = key
        }
        return fields
    }

    /// Parses "a (>= 1) | b, c:any [amd64] <!nocheck>" into dependencies; alternatives share a number.
    static func relations(_ text: String, as relation: Dependency.Relation) -> [Dependency] {
        var result: [Dependency] = []
        for (group, clause) in text.split(separator: ",").enumerated() {
            for alternative in clause.split(separator: "|") {
                var item = String(alternative)
                for (open, close) in [("[", "]"), ("<", ">")] {
                    while let start = item.firstIndex(of: Character(open)), let end = item[start...].firstIndex(of: Character(close)) {
                        item.removeSubrange(start...end)
                    }
                }
                var comparison: String?
                var version: String?
                if let open = item.firstIndex(of: "("), let close = item.firstIndex(of: ")"), open < close {
                    let inner = item[item.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
                    let operatorEnd = inner.firstIndex { !"<>=".contains($0) } ?? inner.endIndex
                    comparison = String(inner[..<operatorEnd])
                    version = inner[operatorEnd...].trimmingCharacters(in: .whitespaces)
                    item.removeSubrange(open...close)
                }
                var name = item.trimmingCharacters(in: .whitespaces)
                if let colon = name.firstIndex(of: ":") { name = String(name[..<colon]) }  // foo:any
                guard !name.isEmpty else { continue }
                result.append(Dependency(relation: relation, capability: name, comparison: comparison, version: version, alternative: group))
            }
        }
        return result
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
