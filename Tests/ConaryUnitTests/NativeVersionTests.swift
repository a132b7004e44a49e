@testable import ConaryModel
@testable import ConaryVersions
import XCTest

/// Conary's own versions (/host@ns:tag/upstream-source-build, shadows, frozen timestamps)
/// and how each scheme reads a versioned requirement.
final class NativeVersionTests: XCTestCase {
    func testParsesLabelsShadowsAndCounts() throws {
        let plain = try NativeVersion("/conary.example.com@rpl:devel/1.0-2-3")
        XCTAssertEqual(plain.labels, ["conary.example.com@rpl:devel"])
        XCTAssertEqual(plain.branch, "/conary.example.com@rpl:devel")
        XCTAssertEqual(plain.upstream, "1.0")
        XCTAssertEqual(plain.sourceCount, [2])
        XCTAssertEqual(plain.buildCount, [3])
        XCTAssertFalse(plain.isShadow)
        XCTAssertEqual(plain.description, "/conary.example.com@rpl:devel/1.0-2-3")

        let shadow = try NativeVersion("/conary.example.com@rpl:devel//local@me:hotfix/1.0-2.1-1")
        XCTAssertEqual(shadow.labels, ["conary.example.com@rpl:devel", "local@me:hotfix"])
        XCTAssertEqual(shadow.label, "local@me:hotfix")
        XCTAssertTrue(shadow.isShadow)
        XCTAssertEqual(shadow.sourceCount, [2, 1])

        let frozen = try NativeVersion("/a.example@ns:1/1146020580.5:2.4-1-1")
        XCTAssertEqual(frozen.timestamp, 1146020580.5)
        XCTAssertEqual(frozen.upstream, "2.4")
        XCTAssertEqual(try NativeVersion("/a@b:c/1.0-1").buildCount, nil, "a source version has no build count")
    }

    func testRefusesMalformedVersions() {
        for bad in ["/1.0-1-1", "/host/1.0-1-1", "/a@ns:tag/1.0", "/a@ns:tag/1.0-x-1", "/a@ns:tag/-1-1",
                    "/a@ns:tag/1.0-1-1-1", "/a@ns:/1.0-1-1", "/a@ns:tag/1.0-1.1.1-1", "/a@ns:tag/x:1.0-1-1", "/a@n s:t/1-1-1"] {
            XCTAssertThrowsError(try NativeVersion(bad), bad)
        }
        XCTAssertNoThrow(try NativeVersion.check("1.0-1"), "foreign-looking versions are not native")
        XCTAssertThrowsError(try NativeVersion.check("/not-a-label/1.0-1-1"))
    }

    private static let vectors: [(String, String, Int)] = [
        ("/a@ns:1/1.0-1-1", "/a@ns:1/1.0-1-1", 0),
        ("/a@ns:1/1.0-1-1", "/a@ns:1/1.0-1-2", -1),
        ("/a@ns:1/1.0-2-1", "/a@ns:1/1.0-1-9", 1),
        ("/a@ns:1/1.10-1-1", "/a@ns:1/1.9-1-1", 1),
        ("/a@ns:1/1.0-1-1", "/a@ns:1/1.0-1", 1),
        ("/a@ns:1/1.0-1-1", "/a@ns:1/1.0.1-1-1", -1),
        ("/a@ns:1/1.0a-1-1", "/a@ns:1/1.0-1-1", 1),
        ("/a@ns:1/1.0~rc1-1-1", "/a@ns:1/1.0-1-1", -1),
        // Equal commit times, or only one side frozen: the revision decides.
        ("/a@ns:1/100.0:1.0-1-2", "/a@ns:1/100.0:1.0-1-1", 1),
        ("/a@ns:1/100.0:1.0-1-1", "/a@ns:1/1.0-1-2", -1),
        // Position on the branch wins over the upstream string when both are frozen.
        ("/a@ns:1/200.0:0.9-1-1", "/a@ns:1/100.0:1.0-1-1", 1),
        ("/a@ns:1/100.0:2.0-1-1", "/a@ns:1/200.0:1.0-1-1", -1),
        // A shadow's dotted counts come after the count they continue.
        ("/a@ns:1//b@ns:2/1.0-1.1-1", "/a@ns:1//b@ns:2/1.0-1-1", 1),
        ("/a@ns:1//b@ns:2/1.0-1.2-1", "/a@ns:1//b@ns:2/1.0-1.10-1", -1),
        ("/a@ns:1//b@ns:2/1.0-2-1", "/a@ns:1//b@ns:2/1.0-1.9-1", 1),
        ("/a@ns:1//b@ns:2/1.0-1-1.1", "/a@ns:1//b@ns:2/1.0-1-1", 1),
        // Different branches are apart; they order by branch so that sorting is total.
        ("/a@ns:1/9.0-1-1", "/b@ns:1/1.0-1-1", -1),
        ("/a@ns:1//b@ns:2/1.0-1.1-1", "/a@ns:1/2.0-1-1", 1),
    ]

    func testOrdersByPositionOnTheBranch() throws {
        for (a, b, expected) in Self.vectors {
            XCTAssertEqual(VersionScheme.conary.compare(a, b), expected, "\(a) vs \(b)")
            XCTAssertEqual(VersionScheme.conary.compare(b, a), -expected, "\(b) vs \(a)")
        }
        XCTAssertEqual(VersionScheme(format: .tree, version: "/a@ns:1/1.0-1-1"), .conary)
        XCTAssertEqual(VersionScheme(format: .ccs, version: "1.0"), .rpm)
        XCTAssertEqual(VersionScheme(format: .deb, version: "/odd"), .deb)
    }

    func testEachSchemeReadsRequirementsItsOwnWay() {
        // rpm and pacman ignore the candidate's release when the requirement names none.
        XCTAssertTrue(VersionScheme.rpm.satisfies("1.0-3", .equal, "1.0"))
        XCTAssertFalse(VersionScheme.rpm.satisfies("1.0-3", .greater, "1.0"))
        XCTAssertTrue(VersionScheme.rpm.satisfies("1.0-3", .greaterOrEqual, "1.0-2"))
        XCTAssertTrue(VersionScheme.arch.satisfies("1.0-3", .lessOrEqual, "1.0"))
        // dpkg compares the whole version: 1.0-3 is not = 1.0.
        XCTAssertFalse(VersionScheme.deb.satisfies("1.0-3", .equal, "1.0"))
        XCTAssertTrue(VersionScheme.deb.satisfies("1.0-3", .greater, "1.0"))
        // Debian's deprecated < and > are <= and >=.
        XCTAssertEqual(VersionComparison("<", scheme: .deb), .lessOrEqual)
        XCTAssertEqual(VersionComparison("<", scheme: .rpm), .less)
        XCTAssertEqual(VersionComparison("<<", scheme: .deb), .less)
        XCTAssertNil(VersionComparison("~=", scheme: .rpm))
    }
}
