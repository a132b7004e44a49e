@testable import ConarySupport
@testable import ConaryBoot
@testable import ConaryOperations
import XCTest

/// Boot Loader Specification entries per state: content, kernels copied once per hash,
/// atomic rewrites that keep the boot loader's try counters, pruning, the default entry.
final class BootEntryTests: XCTestCase {
    func testFileNamesCarryBootCounters() {
        var entry = BootEntry(state: 7, title: "t", version: "6.1", linux: "/l", initrd: nil, options: "ro")
        XCTAssertEqual(entry.fileName, "conary-7.conf")
        entry.triesLeft = 3
        XCTAssertEqual(entry.fileName, "conary-7+3.conf")
        entry.triesLeft = 2
        entry.triesDone = 1
        XCTAssertEqual(entry.fileName, "conary-7+2-1.conf")
        XCTAssertEqual(entry.id, "conary-7")
        XCTAssert(BootEntry.parse(fileName: "conary-7.conf")! == (7, nil, 0))
        XCTAssert(BootEntry.parse(fileName: "conary-12+0-3.conf")! == (12, 0, 3))
        for other in ["debian.conf", "conary-.conf", "conary-x.conf", "conary-7+.conf", "conary-7+1-2-3.conf", "conary-0.conf", "conary-7.conf.tmp"] {
            XCTAssertNil(BootEntry.parse(fileName: other), other)
        }
    }

    private var scratch: Scratch!
    private var root: ConaryRoot!

    override func setUpWithError() throws {
        scratch = try Scratch()
    }

    /// A root whose boot directory is managed, with a kernel-options file.
    private func managedRoot() throws -> ConaryRoot {
        try requireRoot()
        let path = try scratch.root()
        try FileManager.default.createDirectory(atPath: path + "/boot/loader/entries", withIntermediateDirectories: true)
        try Data("timeout 3\ndefault debian.conf\n".utf8).write(to: URL(fileURLWithPath: path + "/boot/loader/loader.conf"))
        try Data("other os\n".utf8).write(to: URL(fileURLWithPath: path + "/boot/loader/entries/debian.conf"))
        let root = try ConaryRoot(path: path, create: true)
        try Data("root=/dev/vda ro console=ttyS0\n".utf8).write(to: URL(fileURLWithPath: path + "/conary/kernel-options"))
        return root
    }

    private func entries(_ root: ConaryRoot) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: root.path + "/boot/loader/entries").sorted()
    }

    func testEntriesFollowStatesWithKernelsCopiedOncePerHash() throws {
        let root = try managedRoot()
        // A kernel as Arch and Fedora ship it, and one as a Debian package ships it in /boot.
        _ = try root.commit(directory: try scratch.tree("k1", [
            "usr/lib/modules/6.1.0-1/vmlinuz": "kernel one", "usr/lib/modules/6.1.0-1/initrd": "initrd one",
            "usr/lib/os-release": "NAME=\"Demo\"\nPRETTY_NAME=\"Demo OS 1\"\n",
        ]), name: "kernel", version: "1")
        _ = try root.commit(directory: try scratch.tree("k2", ["boot/vmlinuz-6.2.0-2": "kernel two", "usr/lib/os-release": "NAME=Demo\n"]),
                            name: "kernel", version: "2")
        _ = try root.commit(directory: try scratch.tree("tool", ["usr/bin/tool": "tool"]), name: "tool", version: "1")

        try root.install(["kernel=1"], command: "t")
        XCTAssertEqual(try entries(root), ["conary-1+3.conf", "debian.conf"], "a new state gets three tries")
        let first = try String(contentsOfFile: root.path + "/boot/loader/entries/conary-1+3.conf", encoding: .utf8)
        let kernelHash = Hashing.sha256Hex("kernel one"), initrdHash = Hashing.sha256Hex("initrd one")
        XCTAssertTrue(first.hasPrefix("title Demo OS 1 (state 1, "), first)
        XCTAssertTrue(first.contains("\nversion 6.1.0-1\n"), first)
        XCTAssertTrue(first.contains("\nlinux /conary/\(kernelHash)/linux\ninitrd /conary/\(initrdHash)/initrd\n"), first)
        XCTAssertTrue(first.hasSuffix("\noptions root=/dev/vda ro console=ttyS0 conary.state=1\n"), first)
        XCTAssertEqual(readFile(root.path + "/boot/conary/\(kernelHash)/linux"), "kernel one")
        XCTAssertTrue(first.contains("\nsort-key conary-0\n"), "the default state sorts first: \(first)")
        XCTAssertEqual(readFile(root.path + "/boot/loader/loader.conf"), "default conary-*\ntimeout 3\n",
                       "the first Conary entry in systemd-boot's order, so a state that used up its tries is passed over")

        // The boot loader counts a try down; a tool install (same kernel) keeps that counter,
        // adds state 2, and copies nothing new.
        try FileManager.default.moveItem(atPath: root.path + "/boot/loader/entries/conary-1+3.conf",
                                         toPath: root.path + "/boot/loader/entries/conary-1+2-1.conf")
        try root.install(["tool"], command: "t")
        XCTAssertEqual(try entries(root), ["conary-1+2-1.conf", "conary-2+3.conf", "debian.conf"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path + "/boot/conary").count, 2, "kernel and initrd, once each")
        XCTAssertEqual(try root.bootEntryFiles().filter(\.isDefault).map(\.state), [2])
        XCTAssertTrue(readFile(root.path + "/boot/loader/entries/conary-1+2-1.conf")!.contains("\nsort-key conary-2\n"),
                      "a state still counting tries sorts after the default and after states that booted well")

        // The Debian-style kernel lands in /usr/lib/modules/<version>/ and boots state 3.
        try root.install(["kernel=2"], command: "t")
        XCTAssertEqual(readFile(root.path + "/usr/lib/modules/6.2.0-2/vmlinuz"), "kernel two")
        let third = try String(contentsOfFile: root.path + "/boot/loader/entries/conary-3+3.conf", encoding: .utf8)
        XCTAssertTrue(third.hasPrefix("title Demo (state 3, ") && third.contains("\nversion 6.2.0-2\n") && !third.contains("initrd"), third)

        // A rollback moves the default; a prune removes entries and the kernels only they used.
        try root.rollback(command: "t")
        XCTAssertEqual(try root.bootEntryFiles().filter(\.isDefault).map(\.state), [2])
        _ = try root.prune(keep: 0)
        XCTAssertEqual(try entries(root), ["conary-2+3.conf", "debian.conf"], "other systems' entries stay")
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: root.path + "/boot/conary")), [kernelHash, initrdHash])

        // Changing the options rewrites the entry in place, atomically, under its counted name.
        try Data("root=LABEL=os rw\n".utf8).write(to: URL(fileURLWithPath: root.path + "/conary/kernel-options"))
        XCTAssertEqual(try root.synchronizeBootEntries(required: true).map(\.state), [2])
        XCTAssertEqual(try entries(root), ["conary-2+3.conf", "debian.conf"], "no temporary files are left")
        XCTAssertTrue(readFile(root.path + "/boot/loader/entries/conary-2+3.conf")!.hasSuffix("options root=LABEL=os rw conary.state=2\n"))
    }

    func testChosenDefaultAndMarkingTheBootedStateGood() throws {
        let root = try managedRoot()
        _ = try root.commit(directory: try scratch.tree("k", ["usr/lib/modules/6.1/vmlinuz": "k"]), name: "kernel", version: "1")
        _ = try root.commit(directory: try scratch.tree("t", ["usr/bin/t": "t"]), name: "tool", version: "1")
        try root.install(["kernel"], command: "t")
        try root.install(["tool"], command: "t")
        try root.setDefaultBootState(1)
        XCTAssertEqual(try root.bootEntryFiles().filter(\.isDefault).map(\.state), [1])
        try root.rollback(command: "t")
        try root.activate(2, command: "t")
        XCTAssertEqual(try root.bootEntryFiles().filter(\.isDefault).map(\.state), [1], "a chosen default outlives state changes")
        XCTAssertThrowsError(try root.setDefaultBootState(9))
        try root.setDefaultBootState(nil)
        XCTAssertEqual(try root.bootEntryFiles().filter(\.isDefault).map(\.state), [2])

        // The boot loader has used one try of state 2; the booted system marks it good.
        let folder = root.path + "/boot/loader/entries/"
        try FileManager.default.moveItem(atPath: folder + "conary-2+3.conf", toPath: folder + "conary-2+2-1.conf")
        let cmdline = scratch.base + "/cmdline"
        try Data("BOOT_IMAGE=/conary/x/linux root=/dev/vda ro conary.state=2 quiet\n".utf8).write(to: URL(fileURLWithPath: cmdline))
        XCTAssertEqual(try root.markBootGood(commandLine: cmdline), "conary-2.conf")
        XCTAssertEqual(try entries(root), ["conary-1+3.conf", "conary-2.conf", "debian.conf"])
        try root.synchronizeBootEntries()
        XCTAssertEqual(try entries(root), ["conary-1+3.conf", "conary-2.conf", "debian.conf"], "a good entry stays uncounted")
        // With state 1 preferred, state 2, which booted well, is the fallback systemd-boot takes
        // once state 1 has used up its tries.
        try root.setDefaultBootState(1)
        XCTAssertTrue(readFile(folder + "conary-1+3.conf")!.contains("\nsort-key conary-0\n"))
        XCTAssertTrue(readFile(folder + "conary-2.conf")!.contains("\nsort-key conary-1\n"))
        try root.setDefaultBootState(nil)
        try Data("root=/dev/vda ro\n".utf8).write(to: URL(fileURLWithPath: cmdline))
        XCTAssertThrowsError(try root.markBootGood(commandLine: cmdline)) { error in
            XCTAssertTrue("\(error)".contains("names no conary.state=N"), "\(error)")
        }
    }

    /// `boot next N` through systemd-boot's EFI variable, through GRUB's grubenv, or a clear refusal.
    func testBootingAStateOnceThroughEitherBootLoader() throws {
        let root = try managedRoot()
        _ = try root.commit(directory: try scratch.tree("k", ["usr/lib/modules/6.1/vmlinuz": "k"]), name: "kernel", version: "1")
        _ = try root.commit(directory: try scratch.tree("t", ["usr/bin/t": "t"]), name: "tool", version: "1")
        try root.install(["kernel"], command: "t")
        try root.install(["tool"], command: "t")
        let efivars = scratch.base + "/efivars"
        try FileManager.default.createDirectory(atPath: efivars, withIntermediateDirectories: true)

        // Neither boot loader: nothing is written and the user hears why.
        XCTAssertThrowsError(try root.bootNextOnce(1, efiVariables: efivars)) { error in
            XCTAssertTrue("\(error)".contains("Neither systemd-boot"), "\(error)")
        }
        XCTAssertThrowsError(try root.bootNextOnce(7, efiVariables: efivars)) { error in
            XCTAssertTrue("\(error)".contains("State 7 has no boot entry"), "\(error)")
        }

        // GRUB: next_entry is the entry's blscfg id; the other variables and the 1024-byte block stay.
        let grubenv = root.path + "/boot/grub/grubenv"
        try FileManager.default.createDirectory(atPath: root.path + "/boot/grub", withIntermediateDirectories: true)
        let block = GrubEnvironment.header + "boot_success=1\n"
        try Data((block + String(repeating: "#", count: 1024 - block.utf8.count)).utf8).write(to: URL(fileURLWithPath: grubenv))
        try root.bootNextOnce(1, efiVariables: efivars)
        let env = try GrubEnvironment(path: grubenv).variables()
        XCTAssertEqual(env.map { "\($0.name)=\($0.value)" }, ["boot_success=1", "next_entry=conary-1+3"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: grubenv)).count, 1024)
        XCTAssertEqual(try root.oneShotBootState(efiVariables: efivars), 1)
        // saved_entry follows the default entry at the next synchronization.
        try root.synchronizeBootEntries()
        XCTAssertEqual(try GrubEnvironment(path: grubenv).variables().first { $0.name == "saved_entry" }?.value, "conary-2+3")

        // systemd-boot started this boot (LoaderInfo): the one-shot EFI variable wins over GRUB,
        // as attributes plus NUL-terminated UTF-16LE, and replaces an earlier value.
        try Data([7, 0, 0, 0] + Array("s\0d\0\0\0".utf8)).write(to: URL(fileURLWithPath: efivars + "/LoaderInfo-\(LoaderVariables.vendor)"))
        try root.bootNextOnce(2, efiVariables: efivars)
        try root.bootNextOnce(1, efiVariables: efivars)
        let oneShot = try Data(contentsOf: URL(fileURLWithPath: efivars + "/LoaderEntryOneShot-\(LoaderVariables.vendor)"))
        XCTAssertEqual(Array(oneShot), [7, 0, 0, 0] + "conary-1.conf\0".utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] })
        XCTAssertEqual(try root.oneShotBootState(efiVariables: efivars), 1)
    }

    /// conary/boot-tries sets the tries of new entries; 0 turns counting off; nonsense is refused.
    func testBootTriesSetting() throws {
        let root = try managedRoot()
        _ = try root.commit(directory: try scratch.tree("k", ["usr/lib/kernel/6.5.0/vmlinuz": "k", "usr/lib/kernel/6.5.0/initrd": "i",
                                                               "usr/lib/kernel/install.d/50-depmod.install": "#!/bin/sh\n"]),
                            name: "kernel", version: "1")
        _ = try root.commit(directory: try scratch.tree("t", ["usr/bin/t": "t"]), name: "tool", version: "1")
        try Data("2\n".utf8).write(to: URL(fileURLWithPath: root.path + "/conary/boot-tries"))
        try root.install(["kernel"], command: "t")
        XCTAssertEqual(try entries(root), ["conary-1+2.conf", "debian.conf"])
        let text = readFile(root.path + "/boot/loader/entries/conary-1+2.conf")!
        XCTAssertTrue(text.contains("\nversion 6.5.0\n") && text.contains("/initrd\n"), "AerynOS's /usr/lib/kernel/<version>/ layout: \(text)")
        try Data("0\n".utf8).write(to: URL(fileURLWithPath: root.path + "/conary/boot-tries"))
        try root.install(["tool"], command: "t")
        XCTAssertEqual(try entries(root), ["conary-1+2.conf", "conary-2.conf", "debian.conf"])
        try Data("many\n".utf8).write(to: URL(fileURLWithPath: root.path + "/conary/boot-tries"))
        XCTAssertThrowsError(try root.synchronizeBootEntries()) { error in
            XCTAssertTrue("\(error)".contains("boot-tries must hold a number of tries from 0 to 99"), "\(error)")
        }
    }

    func testAnUnmanagedBootDirectoryIsLeftAlone() throws {
        try requireRoot()
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        _ = try root.commit(directory: try scratch.tree("k", ["usr/lib/modules/6.1/vmlinuz": "k"]), name: "kernel", version: "1")
        try root.install(["kernel"], command: "t")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.path + "/boot"))
        XCTAssertThrowsError(try root.synchronizeBootEntries(required: true)) { error in
            XCTAssertTrue("\(error)".contains("has no loader/entries folder"), "\(error)")
        }
    }
}
