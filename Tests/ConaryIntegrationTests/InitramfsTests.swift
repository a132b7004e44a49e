@testable import ConaryDeploy
@testable import ConaryOperations
import Foundation
import ConaryTestSupport
import XCTest

/// A state whose kernel ships no initramfs gets one from the state's own dracut, run in the
/// sandbox against the staged tree. Here "dracut" and "depmod" are scripts run by a static
/// busybox inside the tree, so the test sees exactly what they saw.
final class InitramfsTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws {
        try requireSandbox("dracut cannot run in the sandbox")
        scratch = try Scratch()
    }

    private func systemTree(_ name: String, which: String, failing: Bool = false) throws -> String {
        try dracutSystemTree(in: scratch, name, which: which, failing: failing)
    }

    func testTheStatesOwnDracutBuildsTheMissingInitramfs() throws {
        let path = try scratch.root()
        try FileManager.default.createDirectory(atPath: path + "/boot/loader/entries", withIntermediateDirectories: true)
        let root = try ConaryRoot(path: path, create: true)
        _ = try root.commit(directory: try systemTree("one", which: "state one"), name: "system", version: "1")

        try root.install(["system=1"], command: "t")
        let entry = try XCTUnwrap(readFile(path + "/boot/loader/entries/conary-1+3.conf"))
        let initrdPath = try XCTUnwrap(entry.split(separator: "\n").first { $0.hasPrefix("initrd ") }?.dropFirst("initrd ".count))
        XCTAssertEqual(readFile(path + "/boot" + initrdPath),
                       "initramfs of state one, modules.dep yes, args --quiet --force --reproducible --tmpdir /tmp --kver 6.1 --no-hostonly /out/initramfs\n",
                       "dracut ran inside the staged tree, after depmod, for a root that is not the running system")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "/usr/lib/modules/6.1/modules.dep"), "depmod's output stays out of the tree")
        XCTAssertEqual(try root.verify().count, 0, "the tree is exactly what its troves make it")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "/conary/staging"), "no scratch folder is left")

        // The image belongs to the state: gc keeps it, and the boot directory can be rebuilt from the store.
        _ = try root.collectGarbage()
        try FileManager.default.removeItem(atPath: path + "/boot/conary")
        try root.synchronizeBootEntries(required: true)
        XCTAssertTrue(readFile(path + "/boot" + initrdPath)?.hasPrefix("initramfs of state one") == true)

        // A dracut that fails stops the deploy before anything changes, with dracut's own words.
        _ = try root.commit(directory: try systemTree("two", which: "state two", failing: true), name: "system", version: "2")
        XCTAssertThrowsError(try root.install(["system=2"], command: "t")) { error in
            XCTAssertEqual("\(error)", "dracut could not build the initramfs of kernel 6.1, so the state was not deployed: dracut: cannot install the kernel modules")
        }
        XCTAssertEqual(liveMarker(path), 1)
        XCTAssertEqual(try root.bootEntryFiles().map(\.fileName), ["conary-1+3.conf"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + "/conary/staging"), "the failed changeset is undone at once")
        _ = try root.commit(directory: try systemTree("three", which: "state three"), name: "system", version: "3")
        XCTAssertEqual(try root.install(["system=3"], command: "t").state.id, 2, "the failed state left no number behind")
    }

    /// For the running system dracut may inspect the machine (host-only mode): the builder then
    /// gives it the host's /dev, network and administrative capabilities, still only the
    /// state's /usr, and the tree stays untouched.
    func testHostOnlyModeBuildsFromTheStagedTreeToo() throws {
        let tree = try systemTree("host", which: "host state")
        let work = try scratch.root("initramfs-root"), output = scratch.base + "/image"
        try InitramfsBuilder(usr: tree + "/usr", etc: nil, arguments: []).build(kernelVersion: "6.1", scratch: work, into: output)
        XCTAssertEqual(readFile(output), "initramfs of host state, modules.dep yes, args --quiet --force --reproducible --tmpdir /tmp --kver 6.1 /out/image\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tree + "/usr/lib/modules/6.1/modules.dep"), "depmod wrote into its layer")
        XCTAssertEqual(readFile(work + "/modules/modules.dep"), "kernel/x.ko:\n")
    }
}
