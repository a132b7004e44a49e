import Foundation
import ConaryTestSupport
import XCTest

/// Temporary roots and source trees on the real filesystem, removed after each test.
final class Scratch {
    let base: String

    init() throws {
        base = NSTemporaryDirectory() + "conary-test-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: base) }

    /// An empty directory to use as a system root.
    func root(_ name: String = "root") throws -> String {
        let path = base + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A source tree: "path": "content" makes a file (mode 0644), a trailing "/" makes a
    /// directory, "->target" makes a symlink.
    @discardableResult
    func tree(_ name: String, _ entries: [String: String]) throws -> String {
        let top = base + "/src-" + name
        try FileManager.default.createDirectory(atPath: top, withIntermediateDirectories: true)
        for (path, content) in entries.sorted(by: { $0.key < $1.key }) {
            let full = top + "/" + path
            if path.hasSuffix("/") {
                try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
                continue
            }
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            if content.hasPrefix("->") {
                try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: String(content.dropFirst(2)))
            } else {
                try Data(content.utf8).write(to: URL(fileURLWithPath: full))
                chmod(full, 0o644)
            }
        }
        return top
    }
}

func readFile(_ path: String) -> String? {
    guard let data = FileManager.default.contents(atPath: path) else { return nil }
    return String(decoding: data, as: UTF8.self)
}

func lstatOf(_ path: String) -> stat? {
    var st = stat()
    return lstat(path, &st) == 0 ? st : nil
}

func liveMarker(_ root: String) -> Int64? {
    readFile(root + "/usr/.conary-state").flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
}

/// Deploying sets owners and reads every file, so these tests run as root (CI does).
func requireRoot() throws {
    if geteuid() != 0 { throw XCTSkip("SKIPPED: this test deploys real states and needs root.") }
}

/// Root, and mount namespaces of its own (unshare --mount); `missing` says what the test
/// cannot do without them.
func requirePrivateMounts(_ missing: String) throws {
    try requireRoot()
    guard try runTool("unshare", ["--mount", "true"]).status == 0 else {
        throw XCTSkip("SKIPPED: unshare --mount does not work here, so \(missing).")
    }
}

/// The sandbox (Sources/ConaryDeploy/Sandbox.swift) needs new mount, PID, network, UTS and
/// IPC namespaces; tests that build an initramfs or run the sandbox skip loudly without them.
func requireSandbox(_ missing: String) throws {
    try requirePrivateMounts(missing)
    guard try runTool("unshare", ["--mount", "--pid", "--fork", "--net", "--uts", "--ipc", "true"]).status == 0 else {
        throw XCTSkip("SKIPPED: this kernel or container refuses new PID, network, UTS or IPC namespaces, so \(missing).")
    }
}

/// A system tree with a kernel that ships no initramfs, busybox as /usr/bin/sh, and stand-ins
/// for dracut and depmod: "dracut" writes a one-line image naming `which`, whether
/// modules.dep was there and its arguments (or fails when `failing`); "depmod" writes modules.dep.
func dracutSystemTree(in scratch: Scratch, _ name: String, which: String, failing: Bool = false) throws -> String {
    let dracut = """
        #!/bin/sh
        for output; do :; done
        read which < /usr/share/which
        if [ -e /usr/lib/modules/6.1/modules.dep ]; then dep=yes; else dep=no; fi
        if [ -e /usr/share/fail ]; then echo "dracut: cannot install the kernel modules" >&2; exit 1; fi
        echo "initramfs of $which, modules.dep $dep, args $*" > "$output"
        """
    let busybox = try fetchDebs(["busybox-static"])[0]
    var entries = ["usr/lib/modules/6.1/vmlinuz": "kernel", "usr/share/which": which + "\n", "usr/bin/sh": "->busybox",
                   "usr/bin/dracut": dracut,
                   "usr/sbin/depmod": "#!/bin/sh\necho \"kernel/x.ko:\" > /usr/lib/modules/$2/modules.dep\n"]
    if failing { entries["usr/share/fail"] = "" }
    let tree = try scratch.tree(name, entries)
    chmod(tree + "/usr/bin/dracut", 0o755)
    chmod(tree + "/usr/sbin/depmod", 0o755)
    let unpacked = scratch.base + "/busybox-" + name
    XCTAssertEqual(try runTool("dpkg-deb", ["-x", busybox, unpacked]).status, 0)
    try FileManager.default.copyItem(atPath: unpacked + "/bin/busybox", toPath: tree + "/usr/bin/busybox")
    return tree
}

/// The package's top folder, for its scripts and fixtures.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

/// Real .deb files, downloaded once with apt-get download into fixtures-cache/NAME.
func fetchDebs(_ packages: [String], cache: String = "debs") throws -> [String] {
    let result = try runTool(packageRoot + "/Scripts/fetch-debs.sh", [packageRoot + "/fixtures-cache/" + cache] + packages)
    guard result.status == 0 else {
        throw XCTSkip("SKIPPED: could not download \(packages.count) Debian packages with apt-get download (no package lists or no network).")
    }
    return result.output.split(separator: "\n").map(String.init)
}

/// A flat Debian repository: `debs` linked into `folder` with a Packages index written by
/// apt-ftparchive, as a mirror would publish it.
func publishRepository(_ debs: [String], in folder: String) throws -> String {
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    for deb in debs { try FileManager.default.linkItem(atPath: deb, toPath: folder + "/" + (deb as NSString).lastPathComponent) }
    let index = try runTool("sh", ["-c", "cd '\(folder)' && apt-ftparchive packages . > Packages"])
    guard index.status == 0 else { throw XCTSkip("SKIPPED: apt-ftparchive (apt-utils) could not index the packages.") }
    return folder
}

/// What apt-get -s install picks for `packages` from an empty system that knows only the
/// repository in `folder` (Scripts/private-apt.sh keeps apt's state beside it).
func aptSimulation(_ packages: [String], repository folder: String) throws -> Set<String> {
    Set(try PrivateApt(state: folder + "-apt", repositories: [folder]).install(packages, recommends: false).keys)
}

/// apt with a private state that knows only the given flat repositories and nothing
/// installed (Scripts/private-apt.sh): what `apt-get -s install` picks, to compare with.
struct PrivateApt {
    let options: [String]

    init(state: String, repositories: [String]) throws {
        let setup = try runTool(packageRoot + "/Scripts/private-apt.sh", [state] + repositories)
        guard setup.status == 0 else { throw XCTSkip("SKIPPED: apt-get update failed on a local repository.") }
        options = setup.output.split(separator: "\n").map(String.init)
    }

    /// What apt installs for `packages` from an empty system: each name with its version
    /// (from "Inst NAME (VERSION …)" lines).
    func install(_ packages: [String], recommends: Bool) throws -> [String: String] {
        let plan = try runTool("apt-get", options + ["-o", "APT::Install-Recommends=\(recommends)", "-s", "install"] + packages)
        XCTAssertEqual(plan.status, 0, "apt-get -s could not resolve the request")
        let lines = plan.output.split(separator: "\n").filter { $0.hasPrefix("Inst ") }.map { $0.split(separator: " ") }
        return Dictionary(lines.map { (String($0[1]), $0.count > 2 ? String($0[2].dropFirst()) : "") }, uniquingKeysWith: { first, _ in first })
    }
}

/// A fresh ext4 filesystem of `megabytes` MiB (an image file in `scratch`) loop-mounted on
/// `path`, or a tmpfs when `tmpfs`; `unmount()` in tearDown. Skips loudly where loop or
/// tmpfs mounts are refused.
final class TestMount {
    let path: String

    init(at path: String, megabytes: Int, in scratch: Scratch, tmpfs: Bool = false) throws {
        try requireRoot()
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if tmpfs {
            guard try runTool("mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", path]).status == 0 else {
                throw XCTSkip("SKIPPED: mount -t tmpfs is refused here, so a tree on another filesystem cannot be tested.")
            }
            return
        }
        let image = scratch.base + "/" + UUID().uuidString.prefix(8) + ".ext4"
        guard try runTool("truncate", ["-s", "\(megabytes)M", image]).status == 0,
              try runTool("mkfs.ext4", ["-q", image]).status == 0 else {
            throw XCTSkip("SKIPPED: mkfs.ext4 (e2fsprogs) could not make a test filesystem.")
        }
        guard try runTool("mount", ["-o", "loop", image, path]).status == 0 else {
            throw XCTSkip("SKIPPED: mount -o loop is refused here (no loop devices), so a second filesystem cannot be tested.")
        }
    }

    func unmount() {
        _ = try? runTool("umount", ["-l", path])
    }
}

/// Runs the conary executable; its exit status and both outputs.
func runConary(_ binary: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// A root's database files (the database, its write-ahead log and shared memory), copied away,
/// put back or deleted as a backup, a restore from it or a loss would.
struct DatabaseFiles {
    let root: String

    var paths: [String] { ["conary.db", "conary.db-wal", "conary.db-shm"].map { root + "/conary/" + $0 } }

    func copy(to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for file in paths where FileManager.default.fileExists(atPath: file) {
            try FileManager.default.copyItem(atPath: file, toPath: folder + "/" + (file as NSString).lastPathComponent)
        }
    }

    func restore(from folder: String) throws {
        delete()
        for file in paths {
            let saved = folder + "/" + (file as NSString).lastPathComponent
            if FileManager.default.fileExists(atPath: saved) { try FileManager.default.copyItem(atPath: saved, toPath: file) }
        }
    }

    func delete() {
        for file in paths { try? FileManager.default.removeItem(atPath: file) }
    }
}
