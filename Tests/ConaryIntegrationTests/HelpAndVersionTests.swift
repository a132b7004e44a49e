import Foundation
import ConaryTestSupport
import XCTest

/// Help, version and `make install` as a user meets them (issue 11, "A CLI that helps"): help
/// and usage errors come from ArgumentParser, a failing command still says one line.
final class HelpAndVersionTests: XCTestCase {
    private var binary: String!

    override func setUpWithError() throws {
        binary = try conaryBinary()
    }

    private func conary(_ arguments: String...) throws -> (status: Int32, out: String, err: String) {
        try capture(binary, arguments)
    }

    /// Help text on stdout, nothing on stderr, exit status 0, none of ArgumentParser's internals.
    private func assertHelp(_ arguments: [String], usage: String, abstract: String, lists names: [String] = [],
                            file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try capture(binary, arguments)
        let command = "conary " + arguments.joined(separator: " ")
        XCTAssertEqual(result.status, 0, "\(command): \(result.err)", file: file, line: line)
        XCTAssertEqual(result.err, "", command, file: file, line: line)
        XCTAssertTrue(result.out.hasPrefix("OVERVIEW: " + abstract), "\(command):\n\(result.out)", file: file, line: line)
        XCTAssertTrue(result.out.contains("USAGE: " + usage), "\(command):\n\(result.out)", file: file, line: line)
        for name in names {
            XCTAssertTrue(result.out.contains("\n  \(name) "), "\(command) should list \(name):\n\(result.out)", file: file, line: line)
        }
        XCTAssertFalse(result.out.contains("CommandError") || result.out.contains("helpRequested"), result.out, file: file, line: line)
    }

    func testHelpOnEveryLevel() throws {
        let overview = ["commit", "install", "remove", "update", "rollback", "state", "verify", "query", "ccs", "repo", "boot"]
        for arguments in [["--help"], ["-h"], ["help"], []] {
            try assertHelp(arguments, usage: "conary <subcommand>", abstract: "Atomic system states built from troves.",
                           lists: overview + ["--version"])
        }
        let install = "conary install [--root <root>] [--dry-run] <troves> ... [--no-deps]"
        for arguments in [["install", "--help"], ["install", "-h"], ["help", "install"]] {
            try assertHelp(arguments, usage: install, abstract: "Add troves to the system as a new state.", lists: ["--no-deps"])
        }
        for arguments in [["state", "--help"], ["help", "state"], ["state"]] {
            try assertHelp(arguments, usage: "conary state <subcommand>", abstract: "List, inspect and switch states.",
                           lists: ["list", "show", "diff", "activate", "prune"])
        }
        for arguments in [["state", "show", "--help"], ["help", "state", "show"], ["--root", "/nonexistent", "state", "show", "--help"]] {
            try assertHelp(arguments, usage: "conary state show [--root <root>] <state>", abstract: "Show one state and its troves.")
        }
        try assertHelp(["boot", "--help"], usage: "conary boot <subcommand>", abstract: "Boot Loader Specification entries",
                       lists: ["list", "sync", "set-default", "next", "mark-good"])
        try assertHelp(["boot", "mark-good", "--help"], usage: "conary boot mark-good", abstract: "Mark the booted state good")
        try assertHelp(["ccs", "build", "-h"], usage: "conary ccs build", abstract: "Package a directory tree as a .ccs file.")
    }

    func testVersion() throws {
        let result = try conary("--version")
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertNotNil(result.out.range(of: #"^conary [0-9]+\.[0-9]+\.[0-9]+\n$"#, options: .regularExpression), result.out)
        XCTAssertEqual(try conary("--root", "/nonexistent", "--version").out, result.out)

        // The trove version options of commit and ccs build keep their meaning: listed once in
        // their help, and a usage error stays a usage error rather than printing the version.
        let help = try conary("commit", "--help").out
        XCTAssertEqual(help.components(separatedBy: "--version").count - 1, 2, "usage line and one option line:\n\(help)")
        XCTAssertFalse(help.contains("Show the version."), help)
        let missingName = try conary("commit", "/nonexistent", "--version", "1")
        XCTAssertEqual(missingName.status, 64, missingName.out)
        XCTAssertTrue(missingName.err.contains("Missing expected argument '--name <name>'"), missingName.err)
    }

    func testUsageErrorsAndCommandErrors() throws {
        let unknown = try conary("state", "list", "--frobnicate")
        XCTAssertEqual(unknown.status, 64)
        XCTAssertEqual(unknown.out, "")
        XCTAssertTrue(unknown.err.hasPrefix("Error: Unknown option '--frobnicate'"), unknown.err)
        XCTAssertTrue(unknown.err.contains("Usage: conary state list"), unknown.err)

        let noCommand = try conary("frobnicate")
        XCTAssertNotEqual(noCommand.status, 0)
        XCTAssertTrue(noCommand.err.contains("frobnicate"), noCommand.err)

        let missing = try conary("install")
        XCTAssertEqual(missing.status, 64)
        XCTAssertTrue(missing.err.contains("Missing expected argument"), missing.err)

        // What a command's run() throws is still one line and exit status 1, with --root
        // before the command (moved after it) or after it.
        let scratch = try Scratch()
        let empty = try scratch.root()
        for arguments in [["--root", empty, "state", "list"], ["state", "list", "--root", empty]] {
            let failed = try capture(binary, arguments)
            XCTAssertEqual(failed.status, 1)
            XCTAssertEqual(failed.out, "")
            XCTAssertEqual(failed.err, "conary: \(empty) holds no Conary database yet; commit a tree first.\n")
        }
        let damaged = try conary("ccs", "inspect", "/nonexistent.ccs")
        XCTAssertEqual(damaged.status, 1)
        XCTAssertEqual(damaged.err.split(separator: "\n").count, 1, damaged.err)
        XCTAssertTrue(damaged.err.hasPrefix("conary: ") && damaged.err.contains("nonexistent.ccs"), damaged.err)
    }

    func testCompletionScripts() throws {
        for (shell, marker) in [("bash", "complete -o"), ("zsh", "#compdef conary"), ("fish", "complete -c 'conary'")] {
            let script = try conary("--generate-completion-script", shell)
            XCTAssertEqual(script.status, 0, script.err)
            XCTAssertTrue(script.out.contains(marker), "\(shell): \(script.out.prefix(300))")
            XCTAssertTrue(script.out.contains("mark-good"), "\(shell) completes subcommands")
        }
    }

    /// `make install` with the debug binary (BINARY=, so no release build), into a DESTDIR;
    /// then `make uninstall` leaves no file behind.
    func testMakeInstallAndUninstall() throws {
        guard try runTool("sh", ["-c", "command -v make && command -v swift"]).status == 0 else {
            throw XCTSkip("SKIPPED: make install needs make and swift on PATH.")
        }
        let scratch = try Scratch()
        var renderedManPage: String?
        for prefix in ["/usr", "/opt/conary"] {
            let destdir = scratch.base + "/dest" + prefix.replacingOccurrences(of: "/", with: "-")
            let variables = ["-C", packageRoot, "DESTDIR=\(destdir)", "PREFIX=\(prefix)", "BINARY=\(binary!)"]
            let installed = try capture("/usr/bin/env", ["make", "install"] + variables)
            XCTAssertEqual(installed.status, 0, installed.out + installed.err)

            let bin = destdir + prefix + "/bin/conary"
            XCTAssertTrue(FileManager.default.isExecutableFile(atPath: bin))
            XCTAssertEqual(try capture(bin, ["--version"]).out, try conary("--version").out)

            let manPage = destdir + prefix + "/share/man/man1/conary.1"
            let man = readFile(manPage) ?? ""
            XCTAssertTrue(man.hasPrefix(#".\" "Generated by swift-argument-parser""#), String(man.prefix(200)))
            XCTAssertTrue(man.contains(".Dt CONARY 1") && man.contains(".Sh SYNOPSIS"), "an mdoc page")
            XCTAssertTrue(man.contains(".It Em install") && man.contains("Add troves to the system as a new state."), "documents install")

            for completion in ["share/bash-completion/completions/conary", "share/zsh/site-functions/_conary",
                               "share/fish/vendor_completions.d/conary.fish"] {
                XCTAssertFalse((readFile(destdir + prefix + "/" + completion) ?? "").isEmpty, completion)
            }
            let module = destdir + "/usr/lib/dracut/modules.d/90conary"
            for script in ["module-setup.sh", "conary-state.sh"] {
                XCTAssertEqual(readFile(module + "/" + script), readFile(packageRoot + "/dracut/90conary/" + script), script)
                XCTAssertTrue(FileManager.default.isExecutableFile(atPath: module + "/" + script), script)
            }
            let unit = readFile(destdir + "/usr/lib/systemd/system/conary-boot-good.service") ?? ""
            XCTAssertTrue(unit.contains("\nExecStart=\(prefix)/bin/conary boot mark-good\n"), unit)
            XCTAssertTrue(unit.contains("Documentation=file://\(prefix)/share/doc/conary/boot/README.md"), unit)
            XCTAssertEqual(readFile(destdir + prefix + "/share/doc/conary/boot/README.md"), readFile(packageRoot + "/boot/README.md"))

            if prefix == "/usr" {
                // Rendered before uninstall; checked after the loop, so a missing man skips only that part.
                renderedManPage = try copyOfPage(manPage, in: scratch)
            }

            let uninstalled = try capture("/usr/bin/env", ["make", "uninstall"] + variables)
            XCTAssertEqual(uninstalled.status, 0, uninstalled.out + uninstalled.err)
            let left = try capture("/usr/bin/find", [destdir, "!", "-type", "d"])
            XCTAssertEqual(left.out, "", "make uninstall left files behind")
        }
        try checkManRenders(try XCTUnwrap(renderedManPage))
    }

    private func copyOfPage(_ page: String, in scratch: Scratch) throws -> String {
        let copy = scratch.base + "/conary.1"
        try FileManager.default.copyItem(atPath: page, toPath: copy)
        return copy
    }

    private func checkManRenders(_ page: String) throws {
        guard try runTool("sh", ["-c", "command -v man"]).status == 0 else {
            throw XCTSkip("SKIPPED: man is not installed, so the page was checked as text only, not rendered.")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["MANWIDTH"] = "100"
        environment["MANPAGER"] = "cat"
        environment["PAGER"] = "cat"
        let rendered = try capture("/usr/bin/env", ["man", "-l", page], environment: environment)
        XCTAssertEqual(rendered.status, 0, rendered.err)
        XCTAssertTrue(rendered.out.contains("CONARY(1)") && rendered.out.contains("NAME"), String(rendered.out.prefix(400)))
        XCTAssertTrue(rendered.out.contains("Add troves to the system as a new state."), "install is rendered")
        XCTAssertFalse(rendered.out.contains(".It ") || rendered.out.contains(".Sh "), "no mdoc macro left unrendered")
    }
}

/// Runs a program and returns its exit status, standard output and standard error.
private func capture(_ executable: String, _ arguments: [String],
                 environment: [String: String]? = nil) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // stderr is read on another thread, so that neither pipe can fill up and stall the child.
    final class Box: @unchecked Sendable { var data = Data() }
    let errData = Box(), reading = DispatchGroup()
    DispatchQueue.global().async(group: reading) { errData.data = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    reading.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.data, as: UTF8.self))
}
