import Foundation

/// A Conary version: `/host@ns:tag/upstream-source-build`. A shadow continues a branch on
/// another label after `//` (`/a@ns:1//b@ns:2/1.0-1.1-1`), and its counts gain a dotted level.
/// The frozen form puts the commit time before the revision (`/a@ns:1/1146020580.5:1.0-1-1`).
///
/// Versions order by position on their branch: by commit time when both carry one, otherwise
/// by upstream version (rpm's comparison), then source count, then build count — each dotted
/// count numerically, level by level. Versions on different branches are not successors of
/// one another; they order by branch name so that sorting stays total.
public struct NativeVersion: Equatable, Sendable, CustomStringConvertible {
    /// `/a@ns:1//b@ns:2`: every label, shadows marked by the doubled slash.
    public let branch: String
    public let labels: [String]
    public let timestamp: Double?
    public let upstream: String
    public let sourceCount: [Int]
    public let buildCount: [Int]?

    public static func isNative(_ text: String) -> Bool { text.hasPrefix("/") }

    /// Refuses a version that looks native (starts with "/") but does not parse as one.
    public static func check(_ text: String) throws {
        if isNative(text) { _ = try NativeVersion(text) }
    }

    public init(_ text: String) throws {
        func malformed(_ why: String) -> VersionError { .malformedVersion(text, reason: why) }
        guard text.hasPrefix("/"), let lastSlash = text.lastIndex(of: "/"), lastSlash != text.startIndex else {
            throw malformed("it needs a label")
        }
        branch = String(text[..<lastSlash])
        var labels: [String] = []
        for (index, part) in branch.dropFirst().components(separatedBy: "/").enumerated() {
            // "//" leaves one empty part: the next label is a shadow.
            if part.isEmpty, index > 0 { continue }
            guard Self.isLabel(part) else { throw malformed("\"\(part)\" is not a label host@namespace:tag") }
            labels.append(part)
        }
        guard !labels.isEmpty, !branch.hasSuffix("/") else { throw malformed("it needs a label") }
        self.labels = labels
        var revision = Substring(text[text.index(after: lastSlash)...])
        if let colon = revision.firstIndex(of: ":") {
            guard let stamp = Double(revision[..<colon]), stamp >= 0 else { throw malformed("the commit time is not a number") }
            timestamp = stamp
            revision = revision[revision.index(after: colon)...]
        } else {
            timestamp = nil
        }
        let parts = revision.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, !parts[0].isEmpty else {
            throw malformed("the revision is upstream-source or upstream-source-build")
        }
        func counts(_ part: Substring) throws -> [Int] {
            let levels = part.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
            guard !levels.isEmpty, levels.allSatisfy({ ($0 ?? -1) >= 0 }) else { throw malformed("\"\(part)\" is not a dotted count") }
            return levels.map { $0! }
        }
        upstream = String(parts[0])
        sourceCount = try counts(parts[1])
        buildCount = parts.count == 3 ? try counts(parts[2]) : nil
        // A shadow's counts have one level per label after the first.
        guard sourceCount.count <= labels.count else { throw malformed("the source count has more levels than the branch has labels") }
    }

    public var description: String {
        let stamp = timestamp.map { "\($0):" } ?? ""
        let build = buildCount.map { "-" + $0.map(String.init).joined(separator: ".") } ?? ""
        return "\(branch)/\(stamp)\(upstream)-\(sourceCount.map(String.init).joined(separator: "."))\(build)"
    }

    /// The last label: where new versions of this branch are committed.
    public var label: String { labels[labels.count - 1] }

    public var isShadow: Bool { labels.count > 1 }

    public static func compare(_ a: NativeVersion, _ b: NativeVersion) -> Int {
        if a.branch != b.branch { return a.branch < b.branch ? -1 : 1 }
        if let x = a.timestamp, let y = b.timestamp, x != y { return x < y ? -1 : 1 }
        if case let order = RPMOrdering.vercmp(a.upstream, b.upstream), order != 0 { return order }
        if case let order = compareCounts(a.sourceCount, b.sourceCount), order != 0 { return order }
        return compareCounts(a.buildCount ?? [], b.buildCount ?? [])
    }

    /// Level by level; a count with more levels (a shadow's 1.1) comes after its prefix (1).
    private static func compareCounts(_ a: [Int], _ b: [Int]) -> Int {
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }

    private static func isLabel(_ text: String) -> Bool {
        guard let at = text.firstIndex(of: "@"), let colon = text[at...].firstIndex(of: ":") else { return false }
        let host = text[..<at], namespace = text[text.index(after: at)..<colon], tag = text[text.index(after: colon)...]
        let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || "._-+".contains(c)) }
        return [host, namespace, tag].allSatisfy { !$0.isEmpty && $0.allSatisfy(allowed) }
    }
}
