@testable import ConaryModel
@testable import ConaryVersions
import XCTest

final class FlavorTests: XCTestCase {
    func testParsePrintAndNormalize() throws {
        let flavor = try Flavor("~readline, ssl,!pam,~!debug is: x86_64 x86(sse2,~mmx)")
        XCTAssertEqual(flavor.description, "~!debug,!pam,~readline,ssl is: x86(~mmx,sse2) x86_64")
        XCTAssertEqual(try Flavor(flavor.description), flavor, "the printed form parses back to the same flavor")
        XCTAssertEqual(try Flavor("ssl,ssl").description, "ssl")
        XCTAssertEqual(try Flavor("").description, "")
        XCTAssertEqual(try Flavor("is: x86_64").description, "is: x86_64")
        XCTAssertThrowsError(try Flavor("ssl,!ssl"))
        XCTAssertThrowsError(try Flavor("!!ssl"))
        XCTAssertThrowsError(try Flavor("ssl is: x86 is: arm"))
        XCTAssertThrowsError(try Flavor("s s l"))
    }

    func testScoringTable() throws {
        func score(_ trove: String, _ system: String) throws -> Int? { try Flavor(trove).score(on: Flavor(system)) }
        XCTAssertEqual(try score("ssl", "ssl"), 3)
        XCTAssertEqual(try score("ssl", "~ssl"), 2)
        XCTAssertEqual(try score("ssl", "~!ssl"), -2)
        XCTAssertNil(try score("ssl", "!ssl"), "a required flag the system disallows cannot run")
        XCTAssertNil(try score("ssl", ""), "a required flag the system does not have cannot run")
        XCTAssertNil(try score("!ssl", "ssl"))
        XCTAssertEqual(try score("!ssl", "!ssl"), 3)
        XCTAssertEqual(try score("!ssl", ""), 0)
        XCTAssertEqual(try score("~ssl", "~!ssl"), -1)
        XCTAssertEqual(try score("~ssl", "ssl"), 1)
        XCTAssertEqual(try score("is: x86_64", "is: x86_64 x86(sse2)"), 0)
        XCTAssertNil(try score("is: aarch64", "is: x86_64"))
        XCTAssertNil(try score("is: x86(sse3)", "is: x86(sse2)"))
        XCTAssertEqual(try score("", "ssl is: x86_64"), 0, "a flavorless trove runs anywhere")
    }

    func testForeignArchitecturesMapToInstructionSets() {
        XCTAssertEqual(Flavor.architecture("amd64").description, "is: x86_64")
        XCTAssertEqual(Flavor.architecture("all").description, "")
        XCTAssertEqual(Flavor.architecture("noarch").description, "")
        XCTAssertEqual(Flavor.architecture("arm64").description, "is: aarch64")
    }
}
