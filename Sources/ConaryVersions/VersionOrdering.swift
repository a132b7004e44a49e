import ConaryModel

/// How each packaging world orders its version strings. Results are -1, 0 or 1.
public enum VersionScheme: String, Sendable {
    /// [epoch:]version[-release], rpmvercmp with `~` (sorts first) and `^` (sorts after the base).
    case rpm
    /// [epoch:]upstream[-revision], dpkg's rules: `~` before everything, letters before other symbols.
    case deb
    /// [epoch:]pkgver[-pkgrel], pacman's vercmp: like rpm's, but `1.0a` < `1.0` and separators count.
    case arch
    /// /host@ns:tag/upstream-source-build: position on the branch (NativeVersion).
    case conary

    /// The scheme of a trove: native versions by their shape, foreign ones by their format.
    /// Trees and CCS packages with plain versions use rpm's ordering.
    public init(format: PackageFormat, version: String) {
        switch format {
        case .deb: self = .deb
        case .arch: self = .arch
        case .rpm, .ccs, .tree: self = NativeVersion.isNative(version) ? .conary : .rpm
        }
    }

    public init(of trove: Trove) { self.init(format: trove.format, version: trove.version) }

    public func compare(_ a: String, _ b: String) -> Int {
        switch self {
        case .rpm: return RPMOrdering.compareEVR(a, b)
        case .deb: return DebianOrdering.compare(a, b)
        case .arch: return PacmanOrdering.compare(a, b)
        case .conary:
            guard let x = try? NativeVersion(a), let y = try? NativeVersion(b) else { return RPMOrdering.compareEVR(a, b) }
            return NativeVersion.compare(x, y)
        }
    }
}

/// Splits "[epoch:]version[-release]"; the release is after the last "-".
private func splitEVR(_ text: String) -> (epoch: String, version: String, release: String?) {
    var rest = Substring(text)
    var epoch = "0"
    if let colon = rest.firstIndex(of: ":"), rest[..<colon].allSatisfy(\.isASCIIDigit) {
        epoch = rest[..<colon].isEmpty ? "0" : String(rest[..<colon])
        rest = rest[rest.index(after: colon)...]
    }
    if let dash = rest.lastIndex(of: "-") {
        return (epoch, String(rest[..<dash]), String(rest[rest.index(after: dash)...]))
    }
    return (epoch, String(rest), nil)
}

/// Epochs numerically, then versions, then releases (a missing release counts as empty).
private func compareEpochVersionRelease(_ a: String, _ b: String, using compare: (String, String) -> Int) -> Int {
    let x = splitEVR(a), y = splitEVR(b)
    if case let order = compareNumbers(ArraySlice(x.epoch.utf8), ArraySlice(y.epoch.utf8)), order != 0 { return order }
    if case let order = compare(x.version, y.version), order != 0 { return order }
    return compare(x.release ?? "", y.release ?? "")
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

private extension UInt8 {
    var isDigit: Bool { self >= 48 && self <= 57 }
    var isAlpha: Bool { (self >= 65 && self <= 90) || (self >= 97 && self <= 122) }
    var isAlnum: Bool { isDigit || isAlpha }
}

/// Compares two runs of digits numerically, however long they are.
private func compareNumbers(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
    let x = a.drop { $0 == 48 }, y = b.drop { $0 == 48 }
    if x.count != y.count { return x.count < y.count ? -1 : 1 }
    return compareBytes(x, y)
}

private func compareBytes(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>) -> Int {
    for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
    return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
}

/// Takes the leading digits (or letters) of `bytes` from `index`.
private func segment(_ bytes: [UInt8], _ index: inout Int, digits: Bool) -> ArraySlice<UInt8> {
    let start = index
    while index < bytes.count && (digits ? bytes[index].isDigit : bytes[index].isAlpha) { index += 1 }
    return bytes[start..<index]
}

enum RPMOrdering {
    static func compareEVR(_ a: String, _ b: String) -> Int { compareEpochVersionRelease(a, b, using: vercmp) }

    /// rpm's rpmvercmp.
    static func vercmp(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        let one = Array(a.utf8), two = Array(b.utf8)
        var i = 0, j = 0
        let tilde = UInt8(ascii: "~"), caret = UInt8(ascii: "^")
        while i < one.count || j < two.count {
            while i < one.count && !one[i].isAlnum && one[i] != tilde && one[i] != caret { i += 1 }
            while j < two.count && !two[j].isAlnum && two[j] != tilde && two[j] != caret { j += 1 }
            let c1 = i < one.count ? one[i] : 0, c2 = j < two.count ? two[j] : 0
            if c1 == tilde || c2 == tilde {
                if c1 != tilde { return 1 }
                if c2 != tilde { return -1 }
                i += 1; j += 1
                continue
            }
            if c1 == caret || c2 == caret {
                if c1 == 0 { return -1 }
                if c2 == 0 { return 1 }
                if c1 != caret { return 1 }
                if c2 != caret { return -1 }
                i += 1; j += 1
                continue
            }
            if c1 == 0 || c2 == 0 { break }
            let numeric = c1.isDigit
            let s1 = segment(one, &i, digits: numeric), s2 = segment(two, &j, digits: numeric)
            if s2.isEmpty { return numeric ? 1 : -1 }
            let order = numeric ? compareNumbers(s1, s2) : compareBytes(s1, s2)
            if order != 0 { return order }
        }
        if i >= one.count && j >= two.count { return 0 }
        return i < one.count ? 1 : -1
    }
}

enum PacmanOrdering {
    static func compare(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        let x = splitEVR(a), y = splitEVR(b)
        if case let order = vercmp(x.epoch, y.epoch), order != 0 { return order }
        if case let order = vercmp(x.version, y.version), order != 0 { return order }
        if let r1 = x.release, let r2 = y.release { return vercmp(r1, r2) }
        return 0
    }

    /// libalpm's rpmvercmp variant: no `~`/`^`, separator lengths matter, and a trailing
    /// alphabetic part is older than nothing (1.0a < 1.0).
    static func vercmp(_ a: String, _ b: String) -> Int {
        if a == b { return 0 }
        let one = Array(a.utf8), two = Array(b.utf8)
        var i = 0, j = 0
        while i < one.count && j < two.count {
            let p1 = i, p2 = j
            while i < one.count && !one[i].isAlnum { i += 1 }
            while j < two.count && !two[j].isAlnum { j += 1 }
            if i >= one.count || j >= two.count { break }
            if i - p1 != j - p2 { return i - p1 < j - p2 ? -1 : 1 }
            let numeric = one[i].isDigit
            let s1 = segment(one, &i, digits: numeric), s2 = segment(two, &j, digits: numeric)
            if s2.isEmpty { return numeric ? 1 : -1 }
            let order = numeric ? compareNumbers(s1, s2) : compareBytes(s1, s2)
            if order != 0 { return order }
        }
        if i >= one.count && j >= two.count { return 0 }
        let first = i < one.count ? one[i] : 0, second = j < two.count ? two[j] : 0
        return (first == 0 && !second.isAlpha) || first.isAlpha ? -1 : 1
    }
}

enum DebianOrdering {
    static func compare(_ a: String, _ b: String) -> Int { compareEpochVersionRelease(a, b, using: verrevcmp) }

    /// dpkg's weight of a character in a non-digit run.
    private static func order(_ c: UInt8) -> Int {
        if c.isDigit { return 0 }
        if c.isAlpha { return Int(c) }
        if c == UInt8(ascii: "~") { return -1 }
        return c == 0 ? 0 : Int(c) + 256
    }

    /// dpkg's verrevcmp.
    static func verrevcmp(_ a: String, _ b: String) -> Int {
        let one = Array(a.utf8), two = Array(b.utf8)
        var i = 0, j = 0
        func at(_ bytes: [UInt8], _ index: Int) -> UInt8 { index < bytes.count ? bytes[index] : 0 }
        while i < one.count || j < two.count {
            var firstDifference = 0
            while (i < one.count && !one[i].isDigit) || (j < two.count && !two[j].isDigit) {
                let ac = order(at(one, i)), bc = order(at(two, j))
                if ac != bc { return ac < bc ? -1 : 1 }
                i += 1; j += 1
            }
            while at(one, i) == UInt8(ascii: "0") { i += 1 }
            while at(two, j) == UInt8(ascii: "0") { j += 1 }
            while at(one, i).isDigit && at(two, j).isDigit {
                if firstDifference == 0 { firstDifference = Int(one[i]) - Int(two[j]) }
                i += 1; j += 1
            }
            if at(one, i).isDigit { return 1 }
            if at(two, j).isDigit { return -1 }
            if firstDifference != 0 { return firstDifference < 0 ? -1 : 1 }
        }
        return 0
    }
}

/// The operator of a versioned relation, read in its package's scheme.
public enum VersionComparison: Sendable {
    case less, lessOrEqual, equal, greaterOrEqual, greater

    /// Debian's deprecated `<` and `>` mean `<=` and `>=`; everyone else's are strict.
    public init?(_ text: String, scheme: VersionScheme) {
        switch text {
        case "<<": self = .less
        case ">>": self = .greater
        case "<": self = scheme == .deb ? .lessOrEqual : .less
        case ">": self = scheme == .deb ? .greaterOrEqual : .greater
        case "<=", "=<": self = .lessOrEqual
        case ">=", "=>": self = .greaterOrEqual
        case "=", "==": self = .equal
        default: return nil
        }
    }

    func holds(for order: Int) -> Bool {
        switch self {
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .equal: return order == 0
        case .greaterOrEqual: return order >= 0
        case .greater: return order > 0
        }
    }
}

extension VersionScheme {
    /// Whether `candidate` meets "`comparison` `required`". rpm and pacman ignore the
    /// candidate's release when the requirement names none (`foo = 1.0` accepts 1.0-3);
    /// dpkg compares the whole version.
    public func satisfies(_ candidate: String, _ comparison: VersionComparison, _ required: String) -> Bool {
        var candidate = candidate
        if self == .rpm || self == .arch, splitEVR(required).release == nil {
            let parts = splitEVR(candidate)
            candidate = "\(parts.epoch):\(parts.version)"
        }
        return comparison.holds(for: compare(candidate, required))
    }
}
