@testable import ConarySupport
@testable import ConaryOperations
import ConaryStore
import ConaryTestSupport
import Crypto
import XCTest

/// Real machines keep /boot (or an ESP) and package trees on filesystems of their own:
/// copies between filesystems work, and a failed copy leaves nothing behind.
final class FilesystemLayoutTests: XCTestCase {
    private var scratch: Scratch!
    private var mounts: [TestMount] = []

    override func setUpWithError() throws {
        scratch = try Scratch()
    }

    override func tearDown() {
        for mount in mounts.reversed() { mount.unmount() }
        mounts = []
        scratch = nil
    }

    private func mount(_ path: String, megabytes: Int, tmpfs: Bool = false) throws {
        mounts.append(try TestMount(at: path, megabytes: megabytes, in: scratch, tmpfs: tmpfs))
    }

    /// Every temporary file under `path`.
    private func temporaryFiles(under path: String) -> [String] {
        (FileManager.default.enumerator(atPath: path)?.allObjects as? [String] ?? []).filter { $0.contains(".tmp") }
    }

    func testBootDirectoryOnItsOwnFilesystemGetsEntriesAndKernels() throws {
        let path = try scratch.root()
        try mount(path + "/boot", megabytes: 16)
        try FileManager.default.createDirectory(atPath: path + "/boot/loader/entries", withIntermediateDirectories: true)
        let root = try ConaryRoot(path: path, create: true)
        _ = try root.commit(directory: try scratch.tree("k", ["usr/lib/modules/6.1/vmlinuz": "kernel one"]), name: "kernel", version: "1")
        try root.install(["kernel"], command: "t")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path + "/boot/loader/entries"), ["conary-1+3.conf"])
        XCTAssertEqual(readFile(path + "/boot/conary/\(Hashing.sha256Hex("kernel one"))/linux"), "kernel one")
        XCTAssertEqual(temporaryFiles(under: path + "/boot"), [])
    }

    func testAFullBootFilesystemLeavesNoTemporaryKernel() throws {
        let path = try scratch.root()
        try mount(path + "/boot", megabytes: 2, tmpfs: true)
        try FileManager.default.createDirectory(atPath: path + "/boot/loader/entries", withIntermediateDirectories: true)
        let root = try ConaryRoot(path: path, create: true)
        let kernel = String(repeating: "k", count: 4 << 20)
        _ = try root.commit(directory: try scratch.tree("k", ["usr/lib/modules/6.1/vmlinuz": kernel]), name: "kernel", version: "1")
        try root.install(["kernel"], command: "t")
        XCTAssertEqual(liveMarker(path), 1, "the state went live; only its boot entry could not be written")
        XCTAssertEqual(temporaryFiles(under: path + "/boot"), [], "the failed kernel copy is removed")
        XCTAssertThrowsError(try root.synchronizeBootEntries(required: true))
        XCTAssertEqual(temporaryFiles(under: path + "/boot"), [])
    }

    func testCommitOfATreeOnAnotherFilesystem() throws {
        let path = try scratch.root()
        let elsewhere = scratch.base + "/elsewhere"
        try mount(elsewhere, megabytes: 8, tmpfs: true)
        try mount(elsewhere + "/ext4", megabytes: 16)
        for (folder, name) in [(elsewhere + "/t", "tmpfs"), (elsewhere + "/ext4/t", "ext4")] {
            try FileManager.default.createDirectory(atPath: folder + "/usr/bin", withIntermediateDirectories: true)
            try Data("#!/bin/sh\necho \(name)\n".utf8).write(to: URL(fileURLWithPath: folder + "/usr/bin/" + name))
            let root = try ConaryRoot(path: path, create: true)
            _ = try root.commit(directory: folder, name: name, version: "1")
            try root.install([name], command: "t")
            XCTAssertEqual(readFile(path + "/usr/bin/" + name), "#!/bin/sh\necho \(name)\n")
        }
    }

    /// A root on a filesystem with no free block left: reading, pruning and collecting
    /// garbage still work (they are how a user frees space), and an install fails cleanly.
    func testAFullDiskStillReadsPrunesAndCollectsGarbage() throws {
        let binary = try conaryBinary()
        let path = scratch.base + "/full"
        try mount(path, megabytes: 32)
        for version in ["1", "2"] {
            let tree = try scratch.tree("app" + version, ["usr/bin/app": "app " + version, "usr/share/app/data": String(repeating: version, count: 1 << 20)])
            XCTAssertEqual(try runConary(binary, ["--root", path, "commit", tree, "--name", "app", "--version", version]).status, 0)
            XCTAssertEqual(try runConary(binary, ["--root", path, "install", "app=" + version]).status, 0)
        }
        let other = try scratch.tree("other", ["usr/bin/other": "other"])
        XCTAssertEqual(try runConary(binary, ["--root", path, "commit", other, "--name", "other", "--version", "1"]).status, 0)
        XCTAssertNotEqual(try runTool("dd", ["if=/dev/zero", "of=" + path + "/fill", "bs=4k"]).status, 0, "dd fills the filesystem")
        var st = statvfs()
        XCTAssertEqual(statvfs(path, &st), 0)
        let freeWhenFull = st.f_bfree

        for command in [["state", "list"], ["query"], ["verify"]] {
            let result = try runConary(binary, ["--root", path] + command)
            XCTAssertEqual(result.status, 0, "\(command.joined(separator: " ")) on a full disk: \(result.err)")
        }
        let install = try runConary(binary, ["--root", path, "install", "other"])
        XCTAssertEqual(install.status, 1, "an install cannot succeed on a full disk")
        XCTAssertEqual(install.err.split(separator: "\n").count, 1, install.err)
        XCTAssertTrue(install.err.contains("is full, so nothing was changed"), install.err)
        XCTAssertEqual(liveMarker(path), 2, "the failed install left the live state alone")
        let prune = try runConary(binary, ["--root", path, "state", "prune", "--keep", "0"])
        XCTAssertEqual(prune.status, 0, "prune on a full disk: \(prune.err)")
        let gc = try runConary(binary, ["--root", path, "gc"])
        XCTAssertEqual(gc.status, 0, "gc on a full disk: \(gc.err)")
        XCTAssertEqual(statvfs(path, &st), 0)
        XCTAssertGreaterThan(st.f_bfree, freeWhenFull + 256, "prune and gc freed the first state's megabyte")
        try FileManager.default.removeItem(atPath: path + "/fill")
        XCTAssertEqual(try runConary(binary, ["--root", path, "verify"]).status, 0)
        XCTAssertEqual(try runConary(binary, ["--root", path, "commit", other, "--name", "other", "--version", "1"]).status, 0,
                       "gc dropped the unused trove; commit it again")
        let again = try runConary(binary, ["--root", path, "install", "other"])
        XCTAssertEqual(again.status, 0, "the root is consistent after all that: \(again.err)")
    }

    /// Linux refuses paths over PATH_MAX at deploy and verify time; commit refuses them first.
    func testCommitRefusesAPathTooLongToDeploy() throws {
        let tree = try scratch.tree("deep", ["usr/bin/ok": "ok"])
        // Twenty-one folders of 200 bytes, made relative to each other (no shell can cd that deep).
        let script = "import os, sys\nfd = os.open(sys.argv[1], os.O_RDONLY)\nfor _ in range(21):\n    os.mkdir('d' * 200, dir_fd=fd)\n    fd = os.open('d' * 200, os.O_RDONLY, dir_fd=fd)\nos.symlink('x', 'link', dir_fd=fd)\n"
        XCTAssertEqual(try runTool("python3", ["-c", script, tree + "/usr"]).status, 0)
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        XCTAssertThrowsError(try root.commit(directory: tree, name: "deep", version: "1")) { error in
            XCTAssertTrue("\(error)".hasPrefix(tree + " is refused: /usr/ddd"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("is longer than 4095 bytes."), "\(error)")
        }
        XCTAssertEqual(try root.troves().count, 0)
    }

    /// The root lock is not a path that can be swapped out from under a running command.
    func testTheLockFollowsNoSymlinkAndCannotBeDeletedAway() throws {
        let binary = try conaryBinary()
        let path = try scratch.root()
        _ = try ConaryRoot(path: path, create: true)
        let elsewhere = scratch.base + "/elsewhere-lock"
        try? FileManager.default.removeItem(atPath: path + "/conary/lock")
        try FileManager.default.createSymbolicLink(atPath: path + "/conary/lock", withDestinationPath: elsewhere)
        var holder: ConaryRoot? = try ConaryRoot(path: path, create: false)
        XCTAssertFalse(FileManager.default.fileExists(atPath: elsewhere), "the lock's symlink was followed")

        // Whatever a user does to conary/lock, a second command waits for the first.
        try? FileManager.default.removeItem(atPath: path + "/conary/lock")
        try Data().write(to: URL(fileURLWithPath: path + "/conary/lock"))
        let second = Process()
        second.executableURL = URL(fileURLWithPath: binary)
        second.arguments = ["--root", path, "state", "list"]
        second.standardOutput = FileHandle.nullDevice
        second.standardError = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        second.terminationHandler = { _ in exited.signal() }
        try second.run()
        let ranAlongside = exited.wait(timeout: .now() + 3) == .success
        XCTAssertFalse(ranAlongside, "a second command ran while the first held the lock")
        holder = nil
        XCTAssertNil(holder)
        if !ranAlongside, exited.wait(timeout: .now() + 60) == .timedOut {
            second.terminate()
            XCTFail("the second command did not get the lock once the first released it")
            exited.wait()
        }
        XCTAssertEqual(second.terminationStatus, 0)
    }

    /// A sparse file keeps its holes in the store and in the deployed tree.
    func testSparseFileKeepsItsHoles() throws {
        let tree = try scratch.tree("sparse", ["usr/share/sparse": "start"])
        let size: off_t = 1 << 30
        XCTAssertEqual(truncate(tree + "/usr/share/sparse", size - 3), 0)
        let end = try FileHandle(forWritingTo: URL(fileURLWithPath: tree + "/usr/share/sparse"))
        try end.seekToEnd()
        try end.write(contentsOf: Data("end".utf8))
        try end.close()
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        _ = try root.commit(directory: tree, name: "sparse", version: "1")
        try root.install(["sparse"], command: "t")
        let deployed = try XCTUnwrap(lstatOf(root.path + "/usr/share/sparse"))
        XCTAssertEqual(deployed.st_size, size)
        XCTAssertLessThan(deployed.st_blocks * 512, 1 << 20, "the store keeps the holes instead of a gigabyte of zeros")
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: root.path + "/usr/share/sparse"))
        XCTAssertEqual(try file.read(upToCount: 5), Data("start".utf8))
        try file.seek(toOffset: UInt64(size) - 3)
        XCTAssertEqual(try file.read(upToCount: 3), Data("end".utf8))
        try file.close()
    }

    /// Zero blocks of a stream (an archive member has no holes to ask for) become holes,
    /// whatever the chunks it arrives in; everything else is written where it belongs.
    func testSparseWriterLeavesAlignedZeroBlocksAsHoles() throws {
        var content = Data("head".utf8)
        content.append(Data(count: 1 << 20))
        content.append(Data(repeating: 0x78, count: 5000))
        content.append(Data(count: 3 << 20))
        let path = scratch.base + "/sparse"
        let file = try Descriptor.open(path, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        var writer = SparseWriter(fd: file.fd, path: path)
        // Chunks of odd sizes, so blocks straddle them and chunks start inside blocks.
        let sizes = [1, 4099, 70_000, 1 << 20]
        var offset = 0, chunk = 0
        while offset < content.count {
            let end = min(offset + sizes[chunk % sizes.count], content.count)
            try content[offset..<end].withUnsafeBytes { try writer.write($0) }
            offset = end
            chunk += 1
        }
        try writer.finish()
        XCTAssertEqual(writer.size, Int64(content.count))
        XCTAssertEqual(FileManager.default.contents(atPath: path), content)
        let st = try XCTUnwrap(lstatOf(path))
        XCTAssertLessThan(st.st_blocks * 512, 256 << 10, "4 MiB of zeros are holes, all but a few blocks straddling chunks")
    }

    /// A .deb's payload is a stream: its zeros are stored as holes, and the object (id and
    /// content) is the one the same file makes.
    func testDebPayloadKeepsItsZeroBlocksAsHoles() throws {
        let tree = try scratch.tree("zeros", [
            "DEBIAN/control": "Package: zeros\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n",
            "usr/share/zeros/image": "head",
        ])
        let image = tree + "/usr/share/zeros/image"
        let size: off_t = 16 << 20
        XCTAssertEqual(truncate(image, size - 4), 0)
        let end = try FileHandle(forWritingTo: URL(fileURLWithPath: image))
        try end.seekToEnd()
        try end.write(contentsOf: Data("tail".utf8))
        try end.close()
        let deb = scratch.base + "/zeros.deb"
        guard try runTool("dpkg-deb", ["--root-owner-group", "-Zgzip", "-b", tree, deb]).status == 0 else {
            throw XCTSkip("SKIPPED: dpkg-deb could not build a package.")
        }
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        try root.install([deb], resolving: false, command: "t")
        let deployed = try XCTUnwrap(lstatOf(root.path + "/usr/share/zeros/image"))
        XCTAssertEqual(deployed.st_size, size)
        XCTAssertLessThan(deployed.st_blocks * 512, 1 << 20, "16 MiB of zeros are stored as holes")
        XCTAssertEqual(FileManager.default.contents(atPath: root.path + "/usr/share/zeros/image"), FileManager.default.contents(atPath: image))
        let sha256 = SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: image))).hex
        let id = ObjectMetadata(packageMode: 0o644, uid: 0, gid: 0).objectID(contentSHA256: sha256)
        XCTAssertEqual(lstatOf(root.store.path + "/" + ObjectStore.relativePath(id))?.st_ino, deployed.st_ino,
                       "the deployed file is the object the same content and metadata make")
    }
}
