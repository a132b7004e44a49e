import Foundation
import ConaryTestSupport
import XCTest

/// The `conary` binary as a user meets it: one-line errors, non-zero exits, no changes on failure.
final class CommandLineTests: XCTestCase {
    private var scratch: Scratch!
    private var rootPath: String!
    private var binary: String!

    override func setUpWithError() throws {
        try requireRoot()
        binary = try conaryBinary()
        scratch = try Scratch()
        rootPath = try scratch.root()
    }

    /// Runs conary on the test root; `ccs` tools other than trust work on files and take no root.
    private func conary(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
        try conary(arguments)
    }

    private func conary(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let rootless = arguments.first == "ccs" && arguments.dropFirst().first != "trust"
        return try runConary(binary, (rootless ? [] : ["--root", rootPath]) + arguments)
    }

    private func assertOneLineError(_ result: (status: Int32, out: String, err: String), contains text: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 1, file: file, line: line)
        XCTAssertEqual(result.err.split(separator: "\n").count, 1, "expected one line, got: \(result.err)", file: file, line: line)
        XCTAssertTrue(result.err.hasPrefix("conary: "), result.err, file: file, line: line)
        XCTAssertTrue(result.err.contains(text), result.err, file: file, line: line)
    }

    func testWorkflowThroughTheBinary() throws {
        let v1 = try scratch.tree("v1", ["usr/bin/app": "one"])
        let v2 = try scratch.tree("v2", ["usr/bin/app": "two"])
        XCTAssertEqual(try conary("commit", v1, "--name", "app", "--version", "1").status, 0)
        XCTAssertEqual(try conary("commit", v2, "--name", "app", "--version", "2").status, 0)
        XCTAssertEqual(try conary("install", "app=1").status, 0)
        XCTAssertEqual(try conary("install", "app=2").status, 0)
        let listing = try conary("state", "list")
        XCTAssertTrue(listing.out.contains("update app 1 → 2"), listing.out)
        XCTAssertEqual(try conary("rollback").status, 0)
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "one")
        let diff = try conary("state", "diff", "1", "2", "--files")
        XCTAssertTrue(diff.out.contains("~ app 1 → 2") && diff.out.contains("M /usr/bin/app"), diff.out)
        XCTAssertEqual(try conary("verify").status, 0)
        let history = try conary("history")
        XCTAssertTrue(history.out.contains("rollback"), history.out)
    }

    func testBadInputGivesOneLineAndChangesNothing() throws {
        let tree = try scratch.tree("a", ["usr/bin/a": "a"])
        assertOneLineError(try conary("state", "list"), contains: "holds no Conary database yet")
        assertOneLineError(try conary("commit", rootPath + "/missing", "--name", "a", "--version", "1"), contains: "is not a directory")
        XCTAssertEqual(try conary("commit", tree, "--name", "a", "--version", "1").status, 0)
        assertOneLineError(try conary("commit", tree, "--name", "a", "--version", "1"), contains: "already in the store")
        assertOneLineError(try conary("install", "nope"), contains: "No trove matches nope")
        assertOneLineError(try conary("rollback"), contains: "No state is active yet")
        XCTAssertEqual(try conary("install", "a").status, 0)
        assertOneLineError(try conary("install", "a"), contains: "Nothing to do")
        assertOneLineError(try conary("rollback"), contains: "nothing to roll back to")
        assertOneLineError(try conary("state", "activate", "7"), contains: "State 7 does not exist")
        assertOneLineError(try conary("state", "prune", "--keep=-1"), contains: "--keep")
        assertOneLineError(try conary("remove", "zzz"), contains: "not in the active state")
        XCTAssertEqual(try conary("history").out.split(separator: "\n").count, 2, "only the one install was recorded")
        XCTAssertEqual(try conary("verify").status, 0)
    }

    func testVerifyFailsLoudlyOnTampering() throws {
        let tree = try scratch.tree("a", ["usr/bin/a": "a"])
        XCTAssertEqual(try conary("commit", tree, "--name", "a", "--version", "1").status, 0)
        XCTAssertEqual(try conary("install", "a").status, 0)
        unlink(rootPath + "/usr/bin/a")
        let result = try conary("verify")
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.out.contains("missing: /usr/bin/a"), result.out)
    }

    func testQueriesPrintJSON() throws {
        let tree = try scratch.tree("a", ["usr/bin/a": "a", "bin/b": "b"])
        XCTAssertEqual(try conary("commit", tree, "--name", "a", "--version", "1").status, 0)
        XCTAssertEqual(try conary("install", "a").status, 0)
        let listed = try JSONSerialization.jsonObject(with: Data(try conary("query", "--json").out.utf8)) as? [[String: Any]]
        XCTAssertEqual(listed?.first?["name"] as? String, "a")
        let owner = try JSONSerialization.jsonObject(with: Data(try conary("query", "--path", "/usr/bin/b", "--json").out.utf8)) as? [String: Any]
        XCTAssertEqual(owner?["path"] as? String, "/bin/b")
        XCTAssertEqual(owner?["trove"] as? String, "a=1")
        assertOneLineError(try conary("query", "--path", "/usr/bin/zzz"), contains: "No installed trove owns /usr/bin/zzz")
        assertOneLineError(try conary("whatprovides", "nothing"), contains: "Nothing in the store provides nothing")
    }

    func testResolutionThroughTheBinary() throws {
        let built = try runTool(packageRoot + "/Tests/Fixtures/make-dependency-set.sh", [scratch.base + "/debs"])
        guard built.status == 0 else { throw XCTSkip("SKIPPED: dpkg-deb could not build the dependency test set.") }
        let debs = built.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(try conary(["import"] + debs).status, 0)
        let dryRun = try conary("install", "app=1.0-1", "--dry-run")
        XCTAssertEqual(dryRun.status, 0)
        XCTAssertTrue(dryRun.out.contains("+ libcore=1.5-1 (required by"), dryRun.out)
        XCTAssertTrue(dryRun.out.contains("0 B to download") && dryRun.out.contains("the tree grows by"), dryRun.out)
        XCTAssertFalse(try conary("state", "list").out.contains("app"), "a dry run records no state")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/usr/share/app"))

        // An unsatisfiable request explains itself in a few lines and changes nothing.
        let refused = try conary("install", "broken-app")
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(refused.err, "conary: Cannot install as asked:\n  broken-app=1.0-1 needs libmissing (>= 1), which nothing available provides.\n")

        XCTAssertEqual(try conary("install", "app=1.0-1").status, 0)
        let show = try conary("state", "show", "1")
        XCTAssertTrue(show.out.contains("app=1.0-1  [explicit]") && show.out.contains("liba=3.0~beta1-1  [required by app]"), show.out)
        assertOneLineError(try conary("remove", "libb"), contains: "app=1.0-1 (needs libb)")
        XCTAssertEqual(try conary("remove", "app").status, 0)
        let cleanup = try conary("autoremove")
        XCTAssertEqual(cleanup.status, 0, cleanup.err)
        XCTAssertTrue(cleanup.out.contains("remove liba=3.0~beta1-1, libb=1.0-1, libcore=1.5-1"), cleanup.out)
        assertOneLineError(try conary("autoremove"), contains: "Nothing to remove")
    }

    func testSignedPackageWorkflowThroughTheBinary() throws {
        let tree = try scratch.tree("ccs", ["usr/bin/tool": "tool"])
        let keys = scratch.base + "/keys"
        XCTAssertEqual(try conary("ccs", "keygen", keys).status, 0)
        XCTAssertEqual(try conary("ccs", "keygen", keys + "-other").status, 0)
        let package = scratch.base + "/tool.ccs"
        XCTAssertEqual(try conary("ccs", "build", tree, "--name", "tool", "--version", "1", "--key", keys + ".secret", "-o", package).status, 0)
        XCTAssertTrue(try conary("ccs", "verify", package, "--key", keys + ".pub").out.contains("which is trusted"))
        assertOneLineError(try conary("ccs", "verify", package, "--key", keys + "-other.pub"), contains: "does not trust")
        assertOneLineError(try conary("install", package), contains: "does not trust")
        XCTAssertEqual(try conary("ccs", "trust", keys + ".pub").status, 0)
        XCTAssertEqual(try conary("install", package).status, 0)
        XCTAssertEqual(readFile(rootPath + "/usr/bin/tool"), "tool")
        XCTAssertTrue(try conary("ccs", "inspect", package).out.contains("\"merkleRoot\""))
    }

    func testDryRunPrintsThePlanAndChangesNothing() throws {
        for version in ["1", "2"] {
            let tree = try scratch.tree("app\(version)", ["usr/bin/app": version])
            XCTAssertEqual(try conary("commit", tree, "--name", "app", "--version", version).status, 0)
        }
        XCTAssertEqual(try conary("install", "app=1").status, 0)
        let dry = try conary("update", "--dry-run")
        XCTAssertEqual(dry.status, 0)
        XCTAssertTrue(dry.out.contains("Would update: update app 1 → 2"), dry.out)
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "1")
        XCTAssertEqual(try conary("history").out.split(separator: "\n").count, 2, "nothing was recorded")
        assertOneLineError(try conary("install", "--dry-run", "./x.deb"), contains: "run conary import first")
        XCTAssertEqual(try conary("update").status, 0)
        XCTAssertEqual(readFile(rootPath + "/usr/bin/app"), "2")
    }

    func testUnknownOptionIsAUsageError() throws {
        let result = try conary("state", "list", "--frobnicate")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("frobnicate"), result.err)
    }
}
