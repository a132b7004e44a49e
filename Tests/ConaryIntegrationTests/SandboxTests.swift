import ConaryTestSupport
@testable import ConaryDeploy
@testable import ConarySupport
import Foundation
import XCTest

/// The sandbox that dracut, and later maintainer scripts, run in. The tree is a static
/// busybox in usr/bin with a link per applet, so each test sees exactly what the program saw.
final class SandboxTests: XCTestCase {
    private var scratch: Scratch!
    private var usr: String!

    private static let applets = ["sh", "cat", "echo", "env", "grep", "head", "hostname", "ls", "mount", "nc", "pwd",
                                  "rm", "seq", "sleep", "wc"]

    override func setUpWithError() throws {
        try requireSandbox("the sandbox cannot run")
        scratch = try Scratch()
        let busybox = try fetchDebs(["busybox-static"])[0]
        let unpacked = scratch.base + "/busybox"
        XCTAssertEqual(try runTool("dpkg-deb", ["-x", busybox, unpacked]).status, 0)
        usr = scratch.base + "/usr"
        try FileManager.default.createDirectory(atPath: usr + "/bin", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: unpacked + "/bin/busybox", toPath: usr + "/bin/busybox")
        for applet in Self.applets {
            try FileManager.default.createSymbolicLink(atPath: usr + "/bin/" + applet, withDestinationPath: "busybox")
        }
    }

    /// XCTest keeps every test case object until the run ends; the scratch folder goes now.
    override func tearDown() {
        scratch = nil
    }

    /// The staged usr read-only, merged-/usr links, proc, sys, dev and a /tmp, then `extra`.
    private func sandbox(_ extra: [Sandbox.Entry] = [], environment: [String: String] = [:]) -> Sandbox {
        Sandbox(root: [.bind(usr, at: "/usr")] + Sandbox.mergedUsrLinks + [.proc(), .sys(), .dev(), .tmpfs(at: "/tmp", mode: 0o1777)] + extra,
                environment: environment)
    }

    private func folder(_ name: String, _ files: [String: String] = [:]) throws -> String {
        let path = scratch.base + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (file, content) in files { try Data(content.utf8).write(to: URL(fileURLWithPath: path + "/" + file)) }
        return path
    }

    func testTheProgramsOutputAndStatusComeBack() throws {
        let failing = try sandbox().run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        XCTAssertEqual(failing.termination, .exited(3), "a non-zero exit is a result, not an error")
        XCTAssertFalse(failing.succeeded)
        XCTAssertEqual(failing.output, "out\nerr\n", "stdout and stderr, interleaved as written")
        XCTAssertEqual(failing.lastLine, "err")

        let devices = try sandbox().run(["sh", "-c", "echo gone > /dev/null && head -c 16 /dev/urandom | wc -c && cat /dev/zero | head -c 3 | wc -c"])
        XCTAssertEqual(devices.termination, .exited(0))
        XCTAssertEqual(devices.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }, ["16", "3"])

        var limited = sandbox()
        limited.outputLimit = 100
        let long = try limited.run(["seq", "1", "2000"])
        XCTAssertTrue(long.outputTruncated)
        XCTAssertEqual(long.output.utf8.count, 100)
        XCTAssertTrue(long.output.hasSuffix("1999\n2000\n"), "the end of the output is kept")

        let input = try folder("input", ["text": "from the host\n"]) + "/text"
        XCTAssertEqual(try sandbox().run(["cat"], input: .file(input)).output, "from the host\n")
        XCTAssertEqual(try sandbox().run(["cat"]).output, "", "standard input is /dev/null by default")

        var inBin = sandbox()
        inBin.workingDirectory = "/usr/bin"
        XCTAssertEqual(try inBin.run(["pwd"]).output, "/usr/bin\n")
    }

    func testTheProgramIsPidOneSeesNoHostProcessAndTakesItsChildrenAlong() throws {
        let result = try sandbox().run(["sh", "-c", "echo $$; ls -d /proc/[0-9]*; [ -e /proc/\(getpid()) ] && echo host-visible"])
        let lines = result.output.split(separator: "\n")
        XCTAssertEqual(lines.first, "1", "the program is PID 1 of its own PID namespace")
        XCTAssertFalse(result.output.contains("host-visible"))
        let pids = lines.dropFirst().compactMap { Int($0.dropFirst("/proc/".count)) }
        XCTAssertFalse(pids.isEmpty)
        XCTAssertTrue(pids.allSatisfy { $0 < 10 }, "only the sandbox's processes: \(pids)")

        let start = Date()
        let background = try sandbox().run(["sh", "-c", "sleep 60 & echo started"])
        XCTAssertEqual(background.output, "started\n")
        XCTAssertLessThan(Date().timeIntervalSince(start), 20, "what the program left running ended with it")
    }

    func testThereIsNoNetworkUnlessAllowed() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(listener, 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        XCTAssertTrue(bound)
        XCTAssertEqual(listen(listener, 4), 0)
        let port = UInt16(bigEndian: address.sin_port)

        let closed = sandbox()
        let devices = try closed.run(["cat", "/proc/net/dev"]).output.split(separator: "\n").dropFirst(2)
        XCTAssertEqual(devices.compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) }, ["lo"])
        XCTAssertEqual(try closed.run(["ls", "/sys/class/net"]).output, "lo\n", "sysfs shows the sandbox's interfaces")
        let flags = try closed.run(["cat", "/sys/class/net/lo/flags"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(try XCTUnwrap(Int(flags.dropFirst(2), radix: 16)) & 1, 0, "the loopback is down (IFF_UP clear): \(flags)")
        let connect = try closed.run(["nc", "127.0.0.1", "\(port)"])
        XCTAssertNotEqual(connect.termination, .exited(0), "a listener on the host's 127.0.0.1 is out of reach")
        XCTAssertTrue(connect.output.contains("unreachable"), connect.output)

        var open = sandbox()
        open.allowsNetwork = true
        let hostInterfaces = Set(try String(contentsOfFile: "/proc/net/dev", encoding: .utf8).split(separator: "\n").dropFirst(2)
            .compactMap { $0.split(separator: ":").first?.trimmingCharacters(in: .whitespaces) })
        let seen = Set(try open.run(["ls", "/sys/class/net"]).output.split(whereSeparator: \.isWhitespace).map(String.init))
        XCTAssertEqual(seen, hostInterfaces, "allowsNetwork keeps the host's network namespace")
    }

    func testTheHostnameIsFixedAndTheEnvironmentIsExactlyWhatWasPassed() throws {
        setenv("CONARY_SANDBOX_MARKER", "leaked", 1)
        defer { unsetenv("CONARY_SANDBOX_MARKER") }
        let environment = try sandbox(environment: ["LANG": "C.UTF-8", "SOURCE_DATE_EPOCH": "0"]).run(["env"])
        XCTAssertEqual(environment.output.split(separator: "\n").sorted(),
                       ["LANG=C.UTF-8", "PATH=\(Sandbox.defaultPath)", "SOURCE_DATE_EPOCH=0"], "nothing of the host's environment")
        XCTAssertEqual(try sandbox(environment: ["PATH": "/usr/bin"]).run(["env"]).output, "PATH=/usr/bin\n")

        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count)
        XCTAssertEqual(try sandbox().run(["hostname"]).output, "conary\n")
        var named = sandbox()
        named.hostname = "builder"
        XCTAssertEqual(try named.run(["cat", "/proc/sys/kernel/hostname"]).output, "builder\n")
        var after = [CChar](repeating: 0, count: 256)
        gethostname(&after, after.count)
        XCTAssertEqual(String(cString: after), String(cString: host), "the host's hostname is untouched")
    }

    func testAReadOnlyBindRefusesWritesEvenFromRoot() throws {
        let hostFolder = try folder("ro", ["file": "host\n"])
        let result = try sandbox([.bind(hostFolder, at: "/ro")]).run(["sh", "-c", """
            echo changed > /ro/file; echo write $?
            echo new > /ro/new; echo create $?
            mount -o remount,bind,rw /ro; echo remount $?
            grep CapBnd /proc/self/status
            """])
        XCTAssertTrue(result.output.contains("Read-only file system"), result.output)
        XCTAssertTrue(result.output.contains("write 1") || result.output.contains("write 2"), result.output)
        XCTAssertFalse(result.output.contains("remount 0"), "without CAP_SYS_ADMIN the program cannot make the bind writable")
        let bounding = try XCTUnwrap(result.output.split(separator: "\n").first { $0.hasPrefix("CapBnd:") }?.split(separator: "\t").last)
        XCTAssertEqual((UInt64(bounding, radix: 16) ?? 0) >> 21 & 1, 0, "CAP_SYS_ADMIN is gone")
        XCTAssertEqual(readFile(hostFolder + "/file"), "host\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: hostFolder + "/new"))

        // The host's /dev read-only (dracut's host-only mode): device nodes still work.
        let hostDevices = Sandbox(root: [.bind(usr, at: "/usr")] + Sandbox.mergedUsrLinks + [.bind("/dev", at: "/dev")])
        let devices = try hostDevices.run(["sh", "-c", "echo x > /dev/null && echo written; echo x > /dev/conary-test; echo create $?"])
        XCTAssertTrue(devices.output.hasPrefix("written\n"), devices.output)
        XCTAssertFalse(devices.output.contains("create 0"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/dev/conary-test"))

        // With administration allowed the same remount works (on the sandbox's own mount).
        var administrative = sandbox([.bind(hostFolder, at: "/ro")])
        administrative.allowsAdministration = true
        let kept = try administrative.run(["sh", "-c", "mount -o remount,bind,rw /ro; echo remount $?"])
        XCTAssertEqual(kept.output, "remount 0\n")
    }

    func testAWritableBindsWritesLandOnTheHost() throws {
        let hostFolder = try folder("rw")
        let result = try sandbox([.bind(hostFolder, at: "/out", writable: true)]).run(["sh", "-c", "echo made inside > /out/file"])
        XCTAssertEqual(result.termination, .exited(0), result.output)
        XCTAssertEqual(readFile(hostFolder + "/file"), "made inside\n")
    }

    /// The promise the maintainer scripts rely on: a staged tree is hardlinks into the read-only
    /// store, and a write in the sandbox never reaches an object through one of them.
    func testAnOverlaysWritesLandInTheUpperLayerAndNeverThroughAHardlink() throws {
        let store = try folder("store", ["object": "store content\n"])
        chmod(store + "/object", 0o444)
        let lower = try folder("lower", ["gone": "to be deleted\n"])
        XCTAssertEqual(link(store + "/object", lower + "/file"), 0)
        let upper = scratch.base + "/layer/upper", work = scratch.base + "/layer/work"

        let result = try sandbox([.overlay(lower: [lower], writes: .captured(upper: upper, work: work), at: "/data")]).run(["sh", "-c", """
            echo changed > /data/file && rm /data/gone && echo new > /data/added && cat /data/file && ls /data
            """])
        XCTAssertEqual(result.termination, .exited(0), result.output)
        XCTAssertEqual(result.output, "changed\nadded\nfile\n")

        XCTAssertEqual(readFile(store + "/object"), "store content\n", "the store object is unchanged")
        XCTAssertEqual(lstatOf(store + "/object")?.st_nlink, 2, "and still linked from the lower tree only")
        XCTAssertEqual(lstatOf(store + "/object")?.st_ino, lstatOf(lower + "/file")?.st_ino)
        XCTAssertEqual(readFile(lower + "/gone"), "to be deleted\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: lower + "/added"))

        XCTAssertEqual(readFile(upper + "/file"), "changed\n", "the change is captured in the upper folder")
        XCTAssertEqual(readFile(upper + "/added"), "new\n")
        let whiteout = try XCTUnwrap(lstatOf(upper + "/gone"))
        XCTAssertEqual(whiteout.st_mode & S_IFMT, S_IFCHR, "a deletion is a whiteout")
        XCTAssertEqual(whiteout.st_rdev, 0)
        XCTAssertEqual(lstatOf(upper).map { $0.st_mode & 0o7777 }, lstatOf(lower).map { $0.st_mode & 0o7777 },
                       "the upper folder takes the lower one's mode")

        let discarded = try sandbox([.overlay(lower: [lower], writes: .discarded, at: "/data")])
            .run(["sh", "-c", "echo changed > /data/file && rm /data/gone && cat /data/file"])
        XCTAssertEqual(discarded.output, "changed\n")
        XCTAssertEqual(readFile(store + "/object"), "store content\n")
        XCTAssertEqual(readFile(lower + "/gone"), "to be deleted\n")
    }

    func testNothingStaysMountedOnTheHost() throws {
        let before = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
        let lower = try folder("lower2", ["file": "x"])
        let rw = try folder("rw2")
        let everything = sandbox([.bind(rw, at: "/rw", writable: true), .overlay(lower: [lower], writes: .discarded, at: "/a"),
                                  .overlay(lower: [lower], writes: .captured(upper: scratch.base + "/u", work: scratch.base + "/w"), at: "/b"),
                                  .tmpfs(at: "/var/tmp"), .directory("/run", mode: 0o700), .symlink("/etc", to: "usr/etc")])
        let result = try everything.run(["sh", "-c", "cat /proc/self/mountinfo"])
        let points = result.output.split(separator: "\n").map { String($0.split(separator: " ")[4]) }
        // proc's global knobs are read-only binds; a kernel without magic SysRq has no sysrq-trigger.
        let knobs = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"].filter { FileManager.default.fileExists(atPath: $0) }
        XCTAssertEqual(Set(points), Set(["/", "/usr", "/proc", "/sys", "/dev", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom",
                                         "/dev/tty", "/tmp", "/rw", "/a", "/b", "/var/tmp"] + knobs),
                       "the sandbox sees its own mounts, none of the host's: \(result.output)")
        let after = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        XCTAssertEqual(after, before, "every mount ended with the namespace")
        XCTAssertFalse(after.contains(scratch.base))
        XCTAssertThrowsError(try everything.run(["nosuch"]))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count, descriptors, "no descriptor leaked")
    }

    func testASetupFailureNamesTheStepAndThePath() throws {
        let missing = scratch.base + "/missing"
        XCTAssertThrowsExactly(SandboxError.setupFailed(program: "true", step: "Binding \(missing) at /x read-only", errno: ENOENT),
                              try sandbox([.bind(missing, at: "/x")]).run(["true"]))
        XCTAssertThrowsExactly(SandboxError.setupFailed(program: "sh", step: "Creating the folder /usr/new", errno: EROFS),
                              try sandbox([.directory("/usr/new")]).run(["sh"]))
        XCTAssertThrowsExactly(SandboxError.setupFailed(program: "sh", step: "Creating the mount point /usr/share/x", errno: EROFS),
                              try sandbox([.tmpfs(at: "/usr/share/x")]).run(["sh"]))
        XCTAssertThrowsExactly(SandboxError.setupFailed(program: "sh", step: "Creating the mount point /bin/x", errno: ELOOP),
                              try sandbox([.tmpfs(at: "/bin/x")]).run(["sh"]))  // a place behind a symlink is refused
        let upper = try folder("upper"), lower = try folder("lower3")
        XCTAssertThrowsError(try sandbox([.overlay(lower: [lower], writes: .captured(upper: upper, work: "/dev/shm/conary-test-work"), at: "/o")])
            .run(["sh"])) { error in
            guard case let .setupFailed(program, step, code)? = error as? SandboxError else { return XCTFail("\(error)") }
            XCTAssertEqual(program, "sh")
            XCTAssertEqual(step, "Mounting an overlay at /o", "an upper and work folder on different filesystems")
            XCTAssertNotEqual(code, 0)
            XCTAssertTrue("\(error)".hasPrefix("Mounting an overlay at /o in the sandbox for sh failed: "), "\(error)")
        }
        rmdir("/dev/shm/conary-test-work")
        XCTAssertThrowsExactly(SandboxError.invalidSpecification("Paths in the sandbox are absolute; x is not."), try sandbox([.tmpfs(at: "x")]).run(["sh"]))
    }

    func testAMissingProgramIsNamed() throws {
        XCTAssertThrowsExactly(SandboxError.programMissing(program: "nosuch", searched: Sandbox.defaultPath), try sandbox().run(["nosuch"]))
        XCTAssertThrowsExactly(SandboxError.programMissing(program: "/usr/bin/nosuch", searched: nil), try sandbox().run(["/usr/bin/nosuch"]))
        XCTAssertEqual("\(SandboxError.programMissing(program: "nosuch", searched: "/usr/bin"))", "nosuch is not in the sandbox (PATH /usr/bin).")

        let scripts = try folder("scripts", ["orphan": "#!/nonexistent/sh\n"])
        chmod(scripts + "/orphan", 0o755)
        XCTAssertThrowsError(try sandbox([.bind(scripts, at: "/scripts")]).run(["/scripts/orphan"])) { error in
            XCTAssertEqual(error as? SandboxError, .setupFailed(program: "/scripts/orphan",
                                                                step: "Running /scripts/orphan (it exists, so its interpreter or loader does not)",
                                                                errno: ENOENT))
        }
    }
}
