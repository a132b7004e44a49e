import ConaryVersions
import XCTest

/// One parser for every trove spec, one rule for every trove name (issue 12).
final class TroveSpecTests: XCTestCase {
    func testSpecsSplitIntoTheirParts() throws {
        let full = try TroveSelection.Request("tool:runtime=1:2.0-1[ssl]")
        XCTAssertEqual(full.name, "tool:runtime")
        XCTAssertEqual(full.packageName, "tool")
        XCTAssertEqual(full.version, "1:2.0-1")
        XCTAssertEqual(full.flavor, try Flavor("ssl"))
        XCTAssertEqual(try TroveSelection.Request("app=/a@ns:1/1.0-1-1").version, "/a@ns:1/1.0-1-1")
        XCTAssertNil(try TroveSelection.Request("app").version)
    }

    func testMalformedSpecsAreTypedErrors() {
        for spec in ["", "=", "=1", "[is:x86_64]", "x=", ":x", "x:", "x[ssl", "a b", "x=1 2", "x=/bad", "a/b"] {
            XCTAssertThrowsError(try TroveSelection.Request(spec), spec) { error in
                XCTAssertTrue(error is VersionError, "\(spec): \(error)")
            }
        }
    }

    func testNamesAndVersionsFollowOneRule() {
        XCTAssertNoThrow(try TroveName.check(name: "libfoo-1.2+x_y.z", version: "1:2.0~rc1-1+b1"))
        for (name, version) in [("", "1"), ("a=b", "1"), ("a/b", "1"), ("a:b", "1"), ("a[b]", "1"), ("a\tb", "1"), ("a", ""), ("a", "1=2")] {
            XCTAssertThrowsError(try TroveName.check(name: name, version: version), "\(name) \(version)")
        }
    }
}
