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

    /// A dry run says "Would install" only of what the real install would do: the same
    /// refusals (a file outside the state, a conflict between troves), with the same words.
    func testDryRunRefusesWhatTheInstallWouldRefuse() throws {
        let trees: [(String, [String: String])] = [("outside", ["var/lib/outside/db": "x"]),
                                                    ("one", ["usr/bin/tool": "one"]), ("two", ["usr/bin/tool": "two"])]
        for (name, entries) in trees {
            XCTAssertEqual(try conary("commit", try scratch.tree(name, entries), "--name", name, "--version", "1").status, 0)
        }
        for request in [["outside"], ["one", "two"]] {
            let dry = try conary(["install", "--dry-run"] + request)
            let real = try conary(["install"] + request)
            assertOneLineError(dry, contains: request.count == 1 ? "lies outside /usr" : "File conflict at /usr/bin/tool")
            XCTAssertFalse(dry.out.contains("Would install"), dry.out)
            XCTAssertEqual(dry.err, real.err, "the dry run refuses as the install does")
        }
        XCTAssertEqual(try conary("history").out.split(separator: "\n").count, 1, "nothing was recorded")
    }

    func testUnknownOptionIsAUsageError() throws {
        let result = try conary("state", "list", "--frobnicate")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("frobnicate"), result.err)
    }
}

/// Hostile and mistaken input from issue 12: each is one "conary: …" line with exit status 1
/// (no trap, no hang), and the root is left as it was.
extension CommandLineTests {
    /// Runs conary as `user` (or root), killed after `seconds` so a regression cannot hang the suite.
    private func conaryBounded(_ arguments: [String], as user: String? = nil, seconds: Double = 30) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: user == nil ? binary : "/usr/sbin/runuser")
        process.arguments = (user.map { ["-u", $0, "--", binary] } ?? []) + ["--root", rootPath] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let timer = DispatchWorkItem { kill(process.processIdentifier, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: timer)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// The database, the live tree and the root's top level, to compare before and after.
    private func snapshot() throws -> [String] {
        let database = FileManager.default.contents(atPath: rootPath + "/conary/conary.db")?.count ?? -1
        return try FileManager.default.contentsOfDirectory(atPath: rootPath).sorted() + ["db \(database)", "live \(liveMarker(rootPath) ?? 0)"]
            + [try conary("history").out, try conary("state", "list").out]
    }

    func testMalformedSpecsAreErrorsNotTraps() throws {
        let tree = try scratch.tree("x", ["usr/bin/x": "x"])
        XCTAssertEqual(try conary("commit", tree, "--name", "x", "--version", "1").status, 0)
        XCTAssertEqual(try conary("install", "x").status, 0)
        let before = try snapshot()
        for arguments in [["install", ""], ["install", "="], ["install", "[is:x86_64]"], ["install", "x:"], ["install", ":x"],
                          ["install", "x="], ["install", "x[is:x86_64"], ["remove", ""], ["remove", "="], ["update", ""],
                          ["update", ":"], ["query", "="], ["query", ""], ["list-components", ""], ["list-components", "="],
                          ["rdepends", ""], ["rdepends", "="], ["whatbreaks", ""], ["whatbreaks", ":"], ["pin", ""]] {
            let result = try conaryBounded(arguments)
            assertOneLineError(result, contains: "is not a trove")
            XCTAssertFalse(result.err.contains("Fatal error"), "\(arguments): \(result.err)")
        }
        assertOneLineError(try conary("install", "="), contains: "is not a trove spec")
        assertOneLineError(try conary("query", ""), contains: "is not a trove spec")
        XCTAssertEqual(try snapshot(), before)
    }

    func testTroveNamesFollowOneRuleInEveryReader() throws {
        let tree = try scratch.tree("x", ["usr/bin/x": "x"])
        for (name, version) in [("", "1"), ("a:b", "1"), ("a[b]", "1"), ("a b", "1"), ("a", ""), ("a", "1 2"), ("a", "/bad")] {
            assertOneLineError(try conary("commit", tree, "--name", name, "--version", version), contains: "is not a ")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary"), "the refused first commits left no conary/")
        let out = scratch.base + "/x.ccs"
        let ccs = try conary("ccs", "build", tree, "--name", "a:b", "--version", "1", "--output", out)
        assertOneLineError(ccs, contains: "is not a trove name")
    }

    func testOneCharacterKeyPrefix() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["ccs", "keygen", "k"]
        process.currentDirectoryURL = URL(fileURLWithPath: scratch.base)
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.base + "/k.secret") && FileManager.default.fileExists(atPath: scratch.base + "/k.pub"))
    }

    func testArgumentsThatAreNotRegularFilesAreRefusedBeforeTheLock() throws {
        let tree = try scratch.tree("x", ["usr/bin/x": "x"])
        XCTAssertEqual(try conary("commit", tree, "--name", "x", "--version", "1").status, 0)
        let fifo = scratch.base + "/fifo"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let before = try snapshot()
        for arguments in [["import", fifo], ["install", fifo], ["import", scratch.base], ["install", "/dev/null"], ["import", "/dev/null"]] {
            let result = try conaryBounded(arguments, seconds: 20)
            assertOneLineError(result, contains: "\(arguments[1]) is ")
            XCTAssertTrue(result.err.contains("not a package file"), result.err)
        }
        // A pipe from <(…) is /dev/fd/N to the program.
        let shell = try runTool("/bin/bash", ["-c", "exec timeout 20 \"$0\" --root \"$1\" import <(cat /dev/null) 2>&1", binary, rootPath])
        XCTAssertEqual(shell.status, 1)
        XCTAssertTrue(shell.output.hasPrefix("conary: /dev/fd/") && shell.output.contains("is a pipe"), shell.output)
        XCTAssertEqual(try snapshot(), before)
    }

    func testSetDefaultTakesAStateOrActive() throws {
        try FileManager.default.createDirectory(atPath: rootPath + "/boot/loader/entries", withIntermediateDirectories: true)
        let kernel = try scratch.tree("k", ["usr/lib/modules/6.1.0-1/vmlinuz": "kernel", "usr/lib/modules/6.1.0-1/initrd": "initrd"])
        XCTAssertEqual(try conary("commit", kernel, "--name", "kernel", "--version", "1").status, 0)
        XCTAssertEqual(try conary("install", "kernel").status, 0)
        let chosen = try conary("boot", "set-default", "1")
        XCTAssertEqual(chosen.status, 0, chosen.err)
        XCTAssertTrue(chosen.out.contains("State 1 boots by default."), chosen.out)
        let following = try conary("boot", "set-default", "--active")
        XCTAssertEqual(following.status, 0, following.err)
        XCTAssertTrue(following.out.contains("follows the active state"), following.out)
        for arguments in [["boot", "set-default"], ["boot", "set-default", "1", "--active"]] {
            let refused = try conary(arguments)
            XCTAssertNotEqual(refused.status, 0)
            XCTAssertTrue(refused.err.contains("Name a state or pass --active."), refused.err)
        }
    }

    func testMessagesBlameTheRightThing() throws {
        let tree = try scratch.tree("hello", ["usr/bin/hello": "hello"])
        XCTAssertEqual(try conary("commit", tree, "--name", "hello", "--version", "1").status, 0)
        XCTAssertEqual(try conary("install", "hello").status, 0)

        assertOneLineError(try conary("unpin", "nonexistent"), contains: "nonexistent is not pinned and not installed")
        let unpinned = try conary("unpin", "hello")
        XCTAssertEqual(unpinned.status, 0)
        XCTAssertEqual(unpinned.out, "hello was not pinned.\n")
        XCTAssertEqual(try conary("pin", "hello").status, 0)
        XCTAssertEqual(try conary("unpin", "hello").out, "hello is no longer pinned.\n")

        let removed = try conary("remove", "hello", "hello")
        XCTAssertEqual(removed.status, 0, removed.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/usr/bin/hello"))
        let listing = try conary("state", "list").out
        XCTAssertTrue(listing.contains("remove hello") && !listing.contains("hello, hello"), listing)

        let file = scratch.base + "/plain-file"
        FileManager.default.createFile(atPath: file, contents: Data())
        let onFile = try runTool("/bin/sh", ["-c", "\"$0\" --root \"$1\" state list 2>&1", binary, file])
        XCTAssertEqual(onFile.status, 1)
        XCTAssertEqual(onFile.output, "conary: The root \(file) is not a directory.\n")
    }

    func testUnreadableDatabaseIsAPermissionError() throws {
        let tree = try scratch.tree("x", ["usr/bin/x": "x"])
        XCTAssertEqual(try conary("commit", tree, "--name", "x", "--version", "1").status, 0)
        chmod(scratch.base, 0o755)
        chmod(rootPath, 0o755)
        chmod(rootPath + "/conary", 0o700)
        var path = URL(fileURLWithPath: binary).deletingLastPathComponent().path
        while path != "/" {
            guard access(path, X_OK) == 0, (lstatOf(path)?.st_mode ?? 0) & 0o001 != 0 else {
                throw XCTSkip("SKIPPED: nobody cannot reach the binary through \(path).")
            }
            path = (path as NSString).deletingLastPathComponent
        }
        let result = try conaryBounded(["state", "list"], as: "nobody")
        assertOneLineError(result, contains: "Permission denied")
        XCTAssertTrue(result.err.contains(rootPath + "/conary/conary.db"), result.err)
    }

    func testInvalidUTF8FileNameIsRefusedAtImport() throws {
        let tree = try scratch.tree("bad", ["usr/bin/ok": "ok"])
        let name = Array((tree + "/usr/bin/bad-").utf8) + [0xff, 0x41, 0]
        let fd = name.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_CREAT | O_WRONLY, 0o644) }
        XCTAssertGreaterThanOrEqual(fd, 0)
        close(fd)
        assertOneLineError(try conary("commit", tree, "--name", "bad", "--version", "1"), contains: "/usr/bin/bad-\\xffA is not a UTF-8 file name")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary"), "a failed first commit leaves the root as it was")
    }

    func testFailedFirstInstallLeavesNoConaryFolder() throws {
        assertOneLineError(try conary("install", "nothing"), contains: "No trove matches nothing")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary"))
        assertOneLineError(try conary("import", scratch.base + "/missing.deb"), contains: "missing.deb")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/conary"))
    }
}
