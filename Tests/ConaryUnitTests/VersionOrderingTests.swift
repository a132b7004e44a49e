@testable import ConaryModel
@testable import ConaryVersions
import ConaryTestSupport
import XCTest

/// Version ordering per scheme: published vectors, then cross-checked against the real rpm,
/// dpkg and pacman tools on the same vectors and on random versions when they are installed.
final class VersionOrderingTests: XCTestCase {
    private typealias Vector = (String, String, Int)

    private static let rpmVectors: [Vector] = [
        ("1.0", "1.0", 0), ("1.0", "2.0", -1), ("2.0", "1.0", 1), ("2.0.1", "2.0.1", 0), ("2.0", "2.0.1", -1),
        ("2.0.1a", "2.0.1a", 0), ("2.0.1a", "2.0.1", 1), ("5.5p1", "5.5p2", -1), ("5.5p10", "5.5p1", 1),
        ("10xyz", "10.1xyz", -1), ("xyz10", "xyz10.1", -1), ("xyz.4", "8", -1), ("xyz.4", "2", -1),
        ("5.5p2", "5.6p1", -1), ("5.6p1", "6.5p1", -1), ("6.0.rc1", "6.0", 1), ("10b2", "10a1", 1), ("10a2", "10b2", -1),
        ("1.0aa", "1.0a", 1), ("10.0001", "10.1", 0), ("10.0001", "10.0039", -1), ("4.999.9", "5.0", -1),
        ("20101121", "20101122", -1), ("2_0", "2_0", 0), ("2.0", "2_0", 0), ("a", "a", 0), ("a+", "a_", 0), ("+", "_", 0),
        ("1.0~rc1", "1.0", -1), ("1.0~rc1", "1.0~rc2", -1), ("1.0~rc1~git123", "1.0~rc1", -1), ("1.0^", "1.0", 1),
        ("1.0^git1", "1.0^git2", -1), ("1.0^git1", "1.01", -1), ("1.0^20160101", "1.0.1", -1), ("1.0~rc1^git1", "1.0~rc1", 1),
        ("1.0^git1~pre", "1.0^git1", -1), ("1:1.0-1", "2.0-1", 1), ("1.0-1", "1.0-2", -1), ("1.0-1.fc40", "1.0-1.fc39", 1),
        ("0:1.0-1", "1.0-1", 0),
    ]

    private static let debVectors: [Vector] = [
        ("1.0", "1.0", 0), ("1.0~rc1", "1.0", -1), ("1.0", "1.0+b1", -1), ("1:0.1", "2.0", 1), ("1.0-1", "1.0-2", -1),
        ("1.0a", "1.0", 1), ("1.0~", "1.0", -1), ("1.0~~", "1.0~", -1), ("1.0~~a", "1.0~~", 1), ("1.0-0", "1.0", 0),
        ("1.2.3", "1.2.10", -1), ("0:1.0", "1.0", 0), ("1.0.", "1.0", 1), ("2.0-1ubuntu1", "2.0-1", 1), ("1.0+dfsg", "1.0", 1),
        ("1.0~beta1", "1.0~alpha1", 1), ("1.35.0-4+deb12u1", "1.35.0-4", 1), ("2.36-9+deb12u14", "2.36-9+deb12u4", 1),
        ("1:1.35.0-4", "1.36.0-1", 1), ("1.0-1~bpo12+1", "1.0-1", -1), ("7.0", "7.00", 0), ("1.0a~", "1.0a", -1),
        ("1.0.0", "1.0a", 1), ("3.0-1", "3.0-1.1", -1),
    ]

    private static let archVectors: [Vector] = [
        ("1.5.0", "1.5.0", 0), ("1.5.1", "1.5.0", 1), ("1.5", "1.5.0", -1), ("1.0a", "1.0", -1), ("1.0alpha", "1.0beta", -1),
        ("1.0", "1.0.0", -1), ("1.0", "1.0.alpha", -1), ("1.0.alpha", "1.0.0", -1), ("1.0.alpha", "1.0.1", -1),
        ("1:1.0", "2.0", 1), ("1.0-1", "1.0-2", -1), ("1.0-1", "1.0", 0), ("1.0rc1", "1.0", -1), ("1.0pre1", "1.0rc1", -1),
        ("2.36-9", "2.36-10", -1), ("1.0-2.1", "1.0-2", 1), ("0:1.0", "1.0", 0), ("1.0..0", "1.0.0", 1), ("r1234", "r999", 1),
        ("1.0_beta", "1.0", 1),
    ]

    private func check(_ vectors: [Vector], _ scheme: VersionScheme, file: StaticString = #filePath, line: UInt = #line) {
        for (a, b, expected) in vectors {
            XCTAssertEqual(scheme.compare(a, b), expected, "\(scheme) \(a) vs \(b)", file: file, line: line)
            XCTAssertEqual(scheme.compare(b, a), -expected, "\(scheme) \(b) vs \(a)", file: file, line: line)
        }
    }

    func testRPMVectors() { check(Self.rpmVectors, .rpm) }
    func testDebianVectors() { check(Self.debVectors, .deb) }
    func testPacmanVectors() { check(Self.archVectors, .arch) }

    // MARK: Cross-checks against the real tools

    private struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        mutating func string(_ alphabet: String, _ length: Int) -> String {
            let characters = Array(alphabet)
            return String((0..<length).map { _ in characters[next(characters.count)] })
        }
    }

    /// Random versions valid for every tool: a digit first, then digits, letters and separators.
    private func randomPairs(_ extra: String, count: Int, seed: UInt64) -> [(String, String)] {
        var random = Random(state: seed)
        func version() -> String {
            var text = random.string("0123456789", 1) + random.string("0123456789ab." + extra, random.next(6))
            if random.next(3) == 0 { text = "\(random.next(3)):" + text }
            if random.next(2) == 0 { text += "-" + random.string("0123456789", 1) + random.string("0123456789.", random.next(3)) }
            return text
        }
        return (0..<count).map { _ in
            let a = version()
            // Half the pairs share a prefix, so the interesting cases come up.
            return (a, random.next(2) == 0 ? version() : String(a.prefix(random.next(a.count + 1))) + random.string("0123456789a.~", 2))
        }
    }

    private func available(_ tool: String) -> Bool { (try? runTool("which", [tool]).status) == 0 }

    func testAgreesWithDpkg() throws {
        guard available("dpkg") else { throw XCTSkip("SKIPPED: dpkg is not installed.") }
        let pairs = Self.debVectors.map { ($0.0, $0.1) } + randomPairs("~+", count: 100, seed: 7)
        for (a, b) in pairs {
            let answer = try runTool("dpkg", ["--compare-versions", a, "lt", b]).status == 0 ? -1
                : try runTool("dpkg", ["--compare-versions", a, "gt", b]).status == 0 ? 1 : 0
            XCTAssertEqual(VersionScheme.deb.compare(a, b), answer, "dpkg: \(a) vs \(b)")
        }
    }

    func testAgreesWithPacmanVercmp() throws {
        guard available("vercmp") else { throw XCTSkip("SKIPPED: pacman's vercmp is not installed.") }
        let pairs = Self.archVectors.map { ($0.0, $0.1) } + randomPairs("_", count: 100, seed: 11)
        for (a, b) in pairs {
            let answer = Int(try runTool("vercmp", [a, b]).output.trimmingCharacters(in: .whitespacesAndNewlines))
            XCTAssertEqual(VersionScheme.arch.compare(a, b), answer, "vercmp: \(a) vs \(b)")
        }
    }

    func testAgreesWithRPM() throws {
        guard available("rpm") else { throw XCTSkip("SKIPPED: rpm is not installed.") }
        let pairs = Self.rpmVectors.map { ($0.0, $0.1) } + randomPairs("~^_", count: 150, seed: 13)
        // rpm's Lua print() adds no newline, so each answer ends with ";".
        let script = pairs.map { "print(rpm.vercmp('\($0.0)', '\($0.1)') .. ';')" }.joined(separator: " ")
        let answers = try runTool("rpm", ["--eval", "%{lua: \(script)}"]).output
            .split(separator: ";").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }.filter { $0 != nil }
        XCTAssertEqual(answers.count, pairs.count)
        for ((a, b), answer) in zip(pairs, answers) {
            XCTAssertEqual(VersionScheme.rpm.compare(a, b), answer, "rpm: \(a) vs \(b)")
        }
    }
}
