import Foundation
import ConaryTestSupport
import XCTest

/// The dracut hook (dracut/90conary/conary-state.sh) run as dracut runs it, sourced with
/// $NEWROOT set, in a private mount namespace (unshare -m) so its mounts end with the test.
/// dracut's getarg and die are stood in for; /dev/kmsg is a file there.
final class DracutModuleTests: XCTestCase {
    private var scratch: Scratch!
    private var newRoot: String!

    override func setUpWithError() throws {
        try requirePrivateMounts("the hook cannot mount privately")
        scratch = try Scratch()
        newRoot = scratch.base + "/sysroot"
        // The live tree is state 2; state 1 is archived.
        for (tree, state) in [("usr", 2), ("conary/states/1/usr", 1)] {
            try FileManager.default.createDirectory(atPath: "\(newRoot!)/\(tree)/share", withIntermediateDirectories: true)
            try Data("\(state)\n".utf8).write(to: URL(fileURLWithPath: "\(newRoot!)/\(tree)/.conary-state"))
            try Data("state \(state)".utf8).write(to: URL(fileURLWithPath: "\(newRoot!)/\(tree)/share/which"))
        }
    }

    /// Boots the hook with `commandLine`; returns what /usr then holds, whether it is
    /// writable, and what went to the console.
    private func boot(_ commandLine: String) throws -> (usr: String, writable: Bool, console: String) {
        let script = """
            set -u
            : > "$T/kmsg"; mount --bind "$T/kmsg" /dev/kmsg
            getarg() { for word in $CMDLINE; do case "$word" in "$1"*) echo "${word#"$1"}"; return 0 ;; esac; done; return 1; }
            die() { echo "DIE: $*" > /dev/kmsg; }
            NEWROOT="$T/sysroot"
            . "$HOOK"
            cat "$NEWROOT/usr/share/which"; echo
            if touch "$NEWROOT/usr/probe" 2>/dev/null; then rm "$NEWROOT/usr/probe"; echo writable; else echo read-only; fi
            cat "$T/kmsg"
            """
        let (status, output) = try inPrivateMounts(script, ["T": scratch.base, "CMDLINE": commandLine,
                                                            "HOOK": packageRoot + "/dracut/90conary/conary-state.sh"])
        XCTAssertEqual(status, 0, output)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 2 else {
            XCTFail("the hook printed too little: \(output)")
            return ("", false, output)
        }
        return (lines[0], lines[1] == "writable", lines.dropFirst(2).joined(separator: "\n"))
    }

    func testAnArchivedStateIsMountedReadOnlyOnUsr() throws {
        let result = try boot("root=/dev/vda ro conary.state=1 quiet")
        XCTAssertEqual(result.usr, "state 1")
        XCTAssertFalse(result.writable)
        XCTAssertTrue(result.console.contains("conary: booting state 1, /usr read-only"), result.console)
    }

    func testTheLiveStateAndNoStateKeepTheLiveTreeReadOnly() throws {
        for commandLine in ["root=/dev/vda conary.state=2", "root=/dev/vda"] {
            let result = try boot(commandLine)
            XCTAssertEqual(result.usr, "state 2", commandLine)
            XCTAssertFalse(result.writable, commandLine)
            XCTAssertTrue(result.console.contains("booting") && result.console.contains("2"), result.console)
        }
    }

    func testMalformedOrMissingStatesTakeTheEmergencyPath() throws {
        for (commandLine, message) in [("conary.state=1x", "is not a state number"), ("conary.state=01", "is not a state number"),
                                       ("conary.state=7", "state 7 has no tree in /conary/states")] {
            let result = try boot(commandLine)
            XCTAssertTrue(result.console.hasPrefix("DIE: conary: "), result.console)
            XCTAssertTrue(result.console.contains(message), result.console)
            XCTAssertEqual(result.usr, "state 2", "nothing was mounted")
            XCTAssertTrue(result.writable)
        }
    }

    /// A root with troves a, b, c, d committed and `installed` of them installed, one state each.
    private func rootWithStates(_ installed: [String]) throws -> (root: String, conary: String) {
        let conary = try conaryBinary()
        let root = scratch.base + "/root"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        for name in ["a", "b", "c", "d"] {
            let tree = try scratch.tree(name, ["usr/bin/\(name)": name])
            XCTAssertEqual(try runTool(conary, ["--root", root, "commit", tree, "--name", name, "--version", "1"]).status, 0)
        }
        for name in installed { XCTAssertEqual(try runTool(conary, ["--root", root, "install", name]).status, 0) }
        return (root, conary)
    }

    /// Runs `script` as the booted system would, in its own mount namespace ($R root, $C conary).
    private func asBooted(_ root: (root: String, conary: String), _ script: String) throws -> String {
        try inPrivateMounts(script, ["R": root.root, "C": root.conary]).output
    }

    /// `sh -c script` in a mount namespace of its own, so its mounts end with it.
    private func inPrivateMounts(_ script: String, _ variables: [String: String]) throws -> (status: Int32, output: String) {
        try runTool("unshare", ["--mount", "--propagation", "private", "sh", "-c", script],
                    environment: variables.merging(["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]) { own, _ in own })
    }

    /// Booted with the live tree bound read-only on /usr: Conary works on the tree underneath
    /// and binds the new live tree on /usr afterwards, read-only again.
    func testChangesFromABootWithTheLiveTreeMountedReadOnly() throws {
        let root = try rootWithStates(["a", "b"])
        let output = try asBooted(root, """
            mount --bind "$R/usr" "$R/usr" && mount -o remount,bind,ro "$R/usr" || exit 9
            "$C" --root "$R" install c >/dev/null; echo "install $?"
            echo "marker $(cat "$R/usr/.conary-state")"; test -f "$R/usr/bin/c" && echo "has c"
            if touch "$R/usr/probe" 2>/dev/null; then echo writable; else echo read-only; fi
            "$C" --root "$R" rollback >/dev/null; echo "rollback $?"; echo "marker $(cat "$R/usr/.conary-state")"
            "$C" --root "$R" verify >/dev/null; echo "verify $?"
            """)
        for line in ["install 0", "marker 3", "has c", "read-only", "rollback 0", "marker 2", "verify 0"] {
            XCTAssertTrue(output.contains(line + "\n"), "\(line) not in: \(output)")
        }
        XCTAssertEqual(readFile(root.root + "/usr/.conary-state")?.trimmingCharacters(in: .whitespacesAndNewlines), "2")
        XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "verify"]).status, 0)
    }

    /// A separate filesystem on /usr is not the boot's bind mount: Conary leaves it mounted
    /// and refuses to swap across filesystems.
    func testASeparateFilesystemOnUsrIsNotDetached() throws {
        let root = try rootWithStates(["a"])
        let output = try asBooted(root, """
            mount -t tmpfs conary-test "$R/usr" || exit 9
            "$C" --root "$R" install b 2>&1; echo "install $?"
            findmnt -n -o FSTYPE "$R/usr"
            """)
        XCTAssertTrue(output.contains("install 1\n") && output.contains("tmpfs\n"), output)
        XCTAssertEqual(readFile(root.root + "/usr/.conary-state")?.trimmingCharacters(in: .whitespacesAndNewlines), "1")
    }

    /// Booted into archived state 1 while 3 is live: changes are refused until 1 is made live,
    /// and a prune keeps the tree the system runs from.
    func testABootIntoAnArchivedStateMakesItLiveBeforeChanging() throws {
        let root = try rootWithStates(["a", "b", "c"])
        let output = try asBooted(root, """
            mount --bind "$R/conary/states/1/usr" "$R/usr" && mount -o remount,bind,ro "$R/usr" || exit 9
            "$C" --root "$R" install d 2>&1; echo "install $?"
            "$C" --root "$R" state prune --keep 0 >/dev/null; echo "prune $?"
            test -d "$R/conary/states/1/usr" && echo "kept 1"; test -d "$R/conary/states/2" || echo "pruned 2"
            "$C" --root "$R" state activate 1 >/dev/null; echo "activate $?"; echo "marker $(cat "$R/usr/.conary-state")"
            if touch "$R/usr/probe" 2>/dev/null; then echo writable; else echo read-only; fi
            "$C" --root "$R" install d >/dev/null; echo "then install $?"; echo "marker $(cat "$R/usr/.conary-state")"
            """)
        XCTAssertTrue(output.contains("conary: This boot runs state 1, but state 3 is the live one; make 1 live first"), output)
        for line in ["install 1", "prune 0", "kept 1", "pruned 2", "activate 0", "marker 1", "read-only", "then install 0", "marker 4"] {
            XCTAssertTrue(output.contains(line + "\n"), "\(line) not in: \(output)")
        }
        XCTAssertEqual(readFile(root.root + "/usr/.conary-state")?.trimmingCharacters(in: .whitespacesAndNewlines), "4")
        XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "verify"]).status, 0)
    }

    /// systemd-boot fell back to archived state 1 because live state 2 used up its tries:
    /// marking state 1 good makes it live, so the machine repairs itself unattended.
    func testMarkingAFallbackGoodMakesItLiveWhenTheLiveStateFailedItsTries() throws {
        let root = try rootWithStates([])
        try FileManager.default.createDirectory(atPath: root.root + "/boot/loader/entries", withIntermediateDirectories: true)
        let kernel = try scratch.tree("kernel", ["usr/lib/modules/6.1/vmlinuz": "kernel"])
        XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "commit", kernel, "--name", "kernel", "--version", "1"]).status, 0)
        for name in ["kernel", "a"] { XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "install", name]).status, 0) }
        let entries = root.root + "/boot/loader/entries/"
        let boot = """
            mount --bind "$R/conary/states/1/usr" "$R/usr" && mount -o remount,bind,ro "$R/usr" || exit 9
            "$C" --root "$R" boot mark-good --state 1 2>&1; echo "good $?"
            """

        // State 2 still has tries left (a boot of 1 chosen by hand): nothing switches.
        XCTAssertTrue(try asBooted(root, boot).contains("good 0\n"))
        XCTAssertEqual(liveMarker(root.root), 2)

        try FileManager.default.moveItem(atPath: entries + "conary-2+3.conf", toPath: entries + "conary-2+0-3.conf")
        let output = try asBooted(root, boot)
        XCTAssertTrue(output.contains("State 2 used up its boot tries; state 1 booted well and is now the live state.\n"), output)
        XCTAssertEqual(liveMarker(root.root), 1)
        XCTAssertEqual(preferredEntries(root.root), ["conary-1"], "the default follows the new live state")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: entries).sorted(), ["conary-1.conf", "conary-2+0-3.conf"])
    }

    /// The entries that sort first for systemd-boot (`sort-key conary-0`): the default state's.
    private func preferredEntries(_ root: String) -> [String] {
        let folder = root + "/boot/loader/entries/"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { readFile(folder + $0)?.contains("\nsort-key conary-0\n") == true }
            .map { String($0.prefix { $0 != "+" && $0 != "." }) }
    }

    /// `state activate N --next-boot`: N boots by default; once it has booted (its archived
    /// tree mounted on /usr) and is marked good, it is the live state. A request for a state
    /// that did not boot is dropped.
    func testActivateAtNextBootFinishesWhenThatStateBootsWell() throws {
        let root = try rootWithStates([])
        try FileManager.default.createDirectory(atPath: root.root + "/boot/loader/entries", withIntermediateDirectories: true)
        let kernel = try scratch.tree("kernel", ["usr/lib/modules/6.1/vmlinuz": "kernel"])
        XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "commit", kernel, "--name", "kernel", "--version", "1"]).status, 0)
        for name in ["kernel", "a", "b"] { XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "install", name]).status, 0) }
        XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "state", "activate", "1", "--next-boot"]).status, 0)
        XCTAssertEqual(readFile(root.root + "/usr/.conary-state")?.trimmingCharacters(in: .whitespacesAndNewlines), "3", "nothing switches live")
        XCTAssertEqual(preferredEntries(root.root), ["conary-1"])

        let output = try asBooted(root, """
            mount --bind "$R/conary/states/1/usr" "$R/usr" && mount -o remount,bind,ro "$R/usr" || exit 9
            "$C" --root "$R" boot mark-good --state 1 2>&1; echo "good $?"
            echo "marker $(cat "$R/usr/.conary-state")"
            if touch "$R/usr/probe" 2>/dev/null; then echo writable; else echo read-only; fi
            """)
        for line in ["State 1 booted well and is now the live state.", "good 0", "marker 1", "read-only"] {
            XCTAssertTrue(output.contains(line + "\n"), "\(line) not in: \(output)")
        }
        XCTAssertEqual(readFile(root.root + "/usr/.conary-state")?.trimmingCharacters(in: .whitespacesAndNewlines), "1")
        XCTAssertEqual(preferredEntries(root.root), ["conary-1"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.root + "/conary/next-boot"))
        XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "verify"]).status, 0)

        // State 3 was to become live, but state 1 (live) booted: the request is dropped.
        XCTAssertEqual(try runTool(root.conary, ["--root", root.root, "state", "activate", "3", "--next-boot"]).status, 0)
        let dropped = try asBooted(root, """
            mount --bind "$R/usr" "$R/usr" && mount -o remount,bind,ro "$R/usr" || exit 9
            "$C" --root "$R" boot mark-good --state 1 2>&1; echo "good $?"
            """)
        XCTAssertTrue(dropped.contains("State 3 was to become live at this boot, but state 1 booted; the switch is dropped."), dropped)
        XCTAssertEqual(preferredEntries(root.root), ["conary-1"], "the default follows the live state again")
        XCTAssertEqual(readFile(root.root + "/usr/.conary-state")?.trimmingCharacters(in: .whitespacesAndNewlines), "1")
    }
}
