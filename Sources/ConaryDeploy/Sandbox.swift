import CLinux
import ConarySupport
import Foundation
import Glibc

/// Runs one program against a staged tree, apart from the host (Docs/sandbox.md): in new
/// mount, PID, UTS and IPC namespaces and, unless `allowsNetwork`, a new network namespace
/// whose only interface is a loopback that is down. Its root is a fresh tmpfs that `root`
/// fills in order (folders, symlinks, binds, overlays, proc, sys, a minimal /dev); every mount
/// lives in the namespace and ends with the program. The program is PID 1 there, so whatever
/// it starts ends with it too. It sees only `environment` (plus a default PATH), the
/// hostname `hostname`, standard input from `/dev/null` or a file, and writes stdout and
/// stderr into one captured log. Unless `allowsAdministration`, it also loses the
/// capabilities that could undo the sandbox (CAP_SYS_ADMIN: remount, unmount) or reach past
/// it (modules, reboot, clock, the host's network, raw I/O).
///
/// A program that runs and fails is a `Result`, so each caller phrases its own error; a
/// sandbox that could not be set up throws `SandboxError.setupFailed` naming the step (which
/// mount of which path), or `programMissing`.
public struct Sandbox {
    /// One step in building the root, in order. Places (`at`) are absolute paths in the
    /// sandbox without "." or ".."; folders missing on the way are created, and a symlink on
    /// the way is refused (so nothing resolves outside the root). Host paths are resolved
    /// (realpath) before the namespace is entered.
    public enum Entry: Equatable {
        /// A folder, with `mode` if it is new.
        case directory(String, mode: mode_t = 0o755)
        /// A symlink at the first path whose text is `to`.
        case symlink(String, to: String)
        /// A fresh tmpfs.
        case tmpfs(at: String, mode: mode_t = 0o755)
        /// A host folder or file, with whatever is mounted under it; read-only all the way
        /// down unless `writable`, in which case writes land on the host.
        case bind(String, at: String, writable: Bool = false)
        /// An overlay of host folders, the first on top. Reads see them; every write goes to
        /// the upper layer, a changed file is copied up first: no file of a lower folder is
        /// ever written, even a hardlink of a store object.
        case overlay(lower: [String], writes: OverlayWrites, at: String)
        /// A proc of the new PID namespace; its global knobs (sys, sysrq-trigger, irq, bus) read-only.
        case proc(at: String = "/proc")
        /// A sysfs of the sandbox's network namespace, read-only.
        case sys(at: String = "/sys")
        /// A tmpfs with the host's null, zero, full, random, urandom and tty, the fd and
        /// std* links into /proc/self, and shm.
        case dev(at: String = "/dev")
    }

    /// Where an overlay's writes go.
    public enum OverlayWrites: Equatable {
        /// A tmpfs that ends with the program.
        case discarded
        /// `upper`, a host folder the caller reads afterwards: new and changed files, and a
        /// whiteout (a character device 0:0) for each deleted one. When missing it is created
        /// with the mode and owner of the top lower folder (the overlay's top folder shows
        /// them). `work` is overlayfs's scratch folder, empty, on the same filesystem.
        case captured(upper: String, work: String)
    }

    /// The program's standard input.
    public enum Input: Equatable {
        case null
        /// A host file, opened before the sandbox is entered.
        case file(String)
    }

    public struct Result: Equatable {
        public enum Termination: Equatable, CustomStringConvertible {
            case exited(Int32)
            case killed(signal: Int32)

            public var description: String {
                switch self {
                case let .exited(status): return "exited with status \(status)"
                case let .killed(signal): return "was killed by signal \(signal)"
                }
            }
        }

        public var termination: Termination
        /// Standard output and error as written, interleaved; the last `outputLimit` bytes.
        public var output: String
        /// The program wrote more than `outputLimit` bytes; `output` is the end.
        public var outputTruncated: Bool

        public var succeeded: Bool { termination == .exited(0) }

        /// The last line of output with something on it: usually what went wrong.
        public var lastLine: String? {
            output.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
    }

    /// PATH when `environment` names none.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    /// The top-level links of a merged-/usr root.
    public static let mergedUsrLinks: [Entry] = ["bin", "sbin", "lib", "lib64"].map { .symlink("/" + $0, to: "usr/" + $0) }

    /// The root, built in this order on an empty tmpfs.
    public var root: [Entry]
    /// The program's whole environment; PATH is `defaultPath` unless given.
    public var environment: [String: String]
    public var hostname = "conary"
    public var workingDirectory = "/"
    /// Stay in the host's network namespace.
    public var allowsNetwork = false
    /// Keep CAP_SYS_ADMIN and the other capabilities the sandbox otherwise drops.
    public var allowsAdministration = false
    /// How much of the output `Result.output` keeps (its end).
    public var outputLimit = 64 * 1024

    public init(root: [Entry], environment: [String: String] = [:]) {
        self.root = root
        self.environment = environment
    }

    /// Runs `arguments` (the program first: a path in the sandbox, or a name looked up in
    /// PATH there) and waits until it, and everything it started, has ended.
    public func run(_ arguments: [String], input: Input = .null) throws -> Result {
        guard let program = arguments.first, !program.isEmpty else {
            throw SandboxError.invalidSpecification("The sandbox was given no program to run.")
        }
        let strings = CStrings()
        var entries: [conary_sandbox_entry] = []
        for (index, entry) in root.enumerated() {
            entries.append(try prepare(entry, index: index, program: program, strings: strings))
        }
        var environment = self.environment
        if environment["PATH"] == nil { environment["PATH"] = Self.defaultPath }
        if let bad = environment.keys.first(where: { $0.isEmpty || $0.contains("=") }) {
            throw SandboxError.invalidSpecification("\"\(bad)\" cannot be the name of an environment variable.")
        }
        let searchPath = environment["PATH"] ?? Self.defaultPath
        let variables = environment.sorted { $0.key < $1.key }.map { $0.key + "=" + $0.value }
        let directory = "/" + (try Self.relative(workingDirectory))
        let stdin: Descriptor
        switch input {
        case .null: stdin = try Descriptor.open("/dev/null", flags: O_RDONLY)
        case let .file(path): stdin = try Descriptor.open(path, flags: O_RDONLY)
        }

        var output = [CChar](repeating: 0, count: max(outputLimit, 0))
        var outcome = conary_sandbox_outcome()
        let (status, error): (Int32, Int32) = withExtendedLifetime((strings, stdin)) {
            entries.withUnsafeBufferPointer { entryBuffer in
                output.withUnsafeMutableBufferPointer { outputBuffer in
                    var sandbox = conary_sandbox(
                        entries: entryBuffer.baseAddress, entry_count: Int32(entryBuffer.count),
                        argv: strings.array(arguments), envp: strings.array(variables), search_path: strings.make(searchPath),
                        hostname: strings.make(hostname), directory: strings.make(directory),
                        network: allowsNetwork ? 1 : 0, administration: allowsAdministration ? 1 : 0, input_fd: stdin.fd,
                        output: outputBuffer.baseAddress, output_capacity: outputBuffer.count)
                    let status = conary_sandbox_run(&sandbox, &outcome)
                    return (status, errno)
                }
            }
        }
        if status != 0 {
            throw SandboxError.setupFailed(program: program, step: "Starting the program or waiting for it", errno: error)
        }
        if outcome.failed_step != CONARY_SANDBOX_OK {
            throw failure(outcome, program: program, searchPath: searchPath)
        }
        let text = String(decoding: output[0..<outcome.output_length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let wait = outcome.wait_status
        let termination: Result.Termination = wait & 0x7f == 0 ? .exited((wait >> 8) & 0xff) : .killed(signal: wait & 0x7f)
        return Result(termination: termination, output: text, outputTruncated: outcome.output_total > UInt64(outcome.output_length))
    }

    // MARK: Preparing the entries

    private func prepare(_ entry: Entry, index: Int, program: String, strings: CStrings) throws -> conary_sandbox_entry {
        var prepared = conary_sandbox_entry()
        prepared.target = strings.make(try Self.relative(entry.place))
        switch entry {
        case let .directory(_, mode):
            prepared.kind = CONARY_SANDBOX_DIRECTORY
            prepared.mode = UInt32(mode)
        case let .symlink(_, target):
            prepared.kind = CONARY_SANDBOX_SYMLINK
            prepared.source = strings.make(target)
        case let .tmpfs(_, mode):
            prepared.kind = CONARY_SANDBOX_TMPFS
            prepared.source = strings.make("mode=0" + String(mode & 0o7777, radix: 8))
        case let .bind(source, _, writable):
            let (host, st) = try Self.resolve(source, failing: program, step: Self.phrase(entry))
            prepared.kind = CONARY_SANDBOX_BIND
            prepared.source = strings.make(CONARY_SANDBOX_HOST + host)
            prepared.writable = writable ? 1 : 0
            prepared.file = FileSystem.isDirectory(st) ? 0 : 1
        case let .overlay(lower, writes, place):
            guard !lower.isEmpty else { throw SandboxError.invalidSpecification("The overlay at \(place) has no lower folder.") }
            let lowers = try lower.map { try Self.resolve($0, failing: program, step: "Finding the lower folder \($0) of the overlay at \(place)") }
            var options = "lowerdir=" + lowers.map { Self.escape(CONARY_SANDBOX_HOST + $0.path) }.joined(separator: ":")
            let top = lowers[0].stat
            switch writes {
            case .discarded:
                let layer = CONARY_SANDBOX_LAYERS + "/\(index)"
                prepared.layer = strings.make(layer)
                prepared.mode = UInt32(top.st_mode & 0o7777)
                prepared.uid = top.st_uid
                prepared.gid = top.st_gid
                options += ",upperdir=\(layer)/upper,workdir=\(layer)/work"
            case let .captured(upper, work):
                let layerStep = "Creating the upper folder \(upper) of the overlay at \(place)"
                if !FileSystem.exists(upper) {
                    try Self.createFolder(upper, program: program, step: layerStep)
                    if chown(upper, top.st_uid, top.st_gid) != 0 || chmod(upper, top.st_mode & 0o7777) != 0 {
                        throw SandboxError.setupFailed(program: program, step: layerStep, errno: errno)
                    }
                }
                let workStep = "Creating the work folder \(work) of the overlay at \(place)"
                if !FileSystem.exists(work) { try Self.createFolder(work, program: program, step: workStep) }
                let upperPath = try Self.resolve(upper, failing: program, step: layerStep).path
                let workPath = try Self.resolve(work, failing: program, step: workStep).path
                options += ",upperdir=" + Self.escape(CONARY_SANDBOX_HOST + upperPath) + ",workdir=" + Self.escape(CONARY_SANDBOX_HOST + workPath)
            }
            // mount(2) copies one page of options.
            guard options.utf8.count < 4096 else {
                throw SandboxError.setupFailed(program: program, step: Self.phrase(entry), errno: ENAMETOOLONG)
            }
            prepared.kind = CONARY_SANDBOX_OVERLAY
            prepared.source = strings.make(options)
        case .proc:
            prepared.kind = CONARY_SANDBOX_PROC
        case .sys:
            prepared.kind = CONARY_SANDBOX_SYS
        case .dev:
            prepared.kind = CONARY_SANDBOX_DEV
        }
        return prepared
    }

    /// `path` in the sandbox, relative to its root ("" for the root itself).
    static func relative(_ path: String) throws -> String {
        guard path.hasPrefix("/") else { throw SandboxError.invalidSpecification("Paths in the sandbox are absolute; \(path) is not.") }
        let parts = path.split(separator: "/")
        if parts.contains(where: { $0 == "." || $0 == ".." }) {
            throw SandboxError.invalidSpecification("The sandbox path \(path) has a . or .. in it.")
        }
        return parts.joined(separator: "/")
    }

    /// A host path with every symlink resolved (the namespace sees the host's root elsewhere
    /// while the sandbox is built, so an absolute symlink would point wrong), and its metadata.
    private static func resolve(_ path: String, failing program: String, step: String) throws -> (path: String, stat: stat) {
        guard let resolved = realpath(path, nil) else {
            throw SandboxError.setupFailed(program: program, step: step, errno: errno)
        }
        defer { free(resolved) }
        var st = stat()
        guard stat(resolved, &st) == 0 else { throw SandboxError.setupFailed(program: program, step: step, errno: errno) }
        return (String(cString: resolved), st)
    }

    private static func createFolder(_ path: String, program: String, step: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SandboxError.setupFailed(program: program, step: step, errno: ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError).map { Int32($0.code) } ?? EIO)
        }
    }

    /// overlayfs splits its options at commas and lowerdir at colons; a backslash escapes both.
    private static func escape(_ path: String) -> String {
        var escaped = ""
        for character in path {
            if character == "\\" || character == "," || character == ":" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    // MARK: Failures

    private static func phrase(_ entry: Entry) -> String {
        switch entry {
        case let .directory(path, _): return "Creating the folder \(path)"
        case let .symlink(path, _): return "Creating the symlink \(path)"
        case let .tmpfs(path, _): return "Mounting a tmpfs at \(path)"
        case let .bind(source, path, writable): return "Binding \(source) at \(path)" + (writable ? "" : " read-only")
        case let .overlay(_, _, path): return "Mounting an overlay at \(path)"
        case let .proc(path): return "Mounting proc at \(path)"
        case let .sys(path): return "Mounting sysfs at \(path)"
        case let .dev(path): return "Mounting a tmpfs for the devices at \(path)"
        }
    }

    private func failure(_ outcome: conary_sandbox_outcome, program: String, searchPath: String) -> SandboxError {
        let index = Int(outcome.failed_entry)
        let entry = root.indices.contains(index) ? root[index] : nil
        let place = entry?.place ?? "?"
        let detail = outcome.failed_detail
        let step: String
        switch outcome.failed_step {
        case CONARY_SANDBOX_CLONE: step = "Creating the namespaces"
        case CONARY_SANDBOX_PRIVATE: step = "Making the mounts private"
        case CONARY_SANDBOX_STAGING: step = "Mounting the tmpfs the root is built in"
        case CONARY_SANDBOX_HOST_ASIDE: step = "Moving the host's root aside"
        case CONARY_SANDBOX_ROOT: step = "Mounting the root tmpfs"
        case CONARY_SANDBOX_TARGET:
            switch entry {
            case .directory?, .symlink?: step = Self.phrase(entry!)
            default: step = "Creating the mount point \(place)"
            }
        case CONARY_SANDBOX_MOUNT: step = entry.map(Self.phrase) ?? "Mounting"
        case CONARY_SANDBOX_READ_ONLY:
            step = detail >= 0 ? "Making \(place)/\(String(cString: conary_sandbox_proc_read_only(detail))) read-only" : "Making \(place) read-only"
        case CONARY_SANDBOX_LAYER: step = "Creating the discarded layer of the overlay at \(place)"
        case CONARY_SANDBOX_DEVICE:
            let name = String(cString: conary_sandbox_device(detail))
            step = "Binding /dev/\(name) at \(place == "/" ? "" : place)/\(name)"
        case CONARY_SANDBOX_ENTER: step = "Entering the new root"
        case CONARY_SANDBOX_HOSTNAME: step = "Setting the hostname to \(hostname)"
        case CONARY_SANDBOX_CAPABILITIES: step = "Dropping administrative capabilities"
        case CONARY_SANDBOX_CHDIR: step = "Changing to the working directory \(workingDirectory)"
        case CONARY_SANDBOX_STDIO: step = "Connecting standard input and output"
        case CONARY_SANDBOX_EXEC:
            var failed = outcome.failed_path
            let path = withUnsafeBytes(of: &failed) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if outcome.failed_errno == ENOENT && detail == 0 {
                return .programMissing(program: program, searched: program.contains("/") ? nil : searchPath)
            }
            step = "Running \(path.isEmpty ? program : path)" + (detail == 1 ? " (it exists, so its interpreter or loader does not)" : "")
        default: step = "Setting up (step \(outcome.failed_step))"
        }
        return .setupFailed(program: program, step: step, errno: outcome.failed_errno)
    }
}

extension Sandbox.Entry {
    /// Where the entry goes in the sandbox.
    var place: String {
        switch self {
        case let .directory(path, _), let .symlink(path, _), let .tmpfs(path, _), let .bind(_, path, _), let .overlay(_, _, path),
             let .proc(path), let .sys(path), let .dev(path):
            return path
        }
    }
}

/// C strings and NULL-terminated arrays of them that live as long as this object.
private final class CStrings {
    private var strings: [UnsafeMutablePointer<CChar>] = []
    private var arrays: [UnsafeMutablePointer<UnsafePointer<CChar>?>] = []

    func make(_ string: String) -> UnsafePointer<CChar> {
        let copy = strdup(string)!
        strings.append(copy)
        return UnsafePointer(copy)
    }

    func array(_ items: [String]) -> UnsafePointer<UnsafePointer<CChar>?> {
        let array = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: items.count + 1)
        for (index, item) in items.enumerated() { array[index] = make(item) }
        array[items.count] = nil
        arrays.append(array)
        return UnsafePointer(array)
    }

    deinit {
        strings.forEach { free($0) }
        arrays.forEach { $0.deallocate() }
    }
}

/// Why the sandbox could not run a program. A program that ran and failed is a `Result`, not an error.
public enum SandboxError: Error, CustomStringConvertible, Equatable {
    /// Setting up the sandbox for `program` failed at `step` (e.g. "Mounting an overlay at /usr/lib/modules/6.1").
    case setupFailed(program: String, step: String, errno: Int32)
    /// `searched` is the PATH looked through, nil when the program was given as a path.
    case programMissing(program: String, searched: String?)
    /// The caller described an impossible sandbox: the sentence says what.
    case invalidSpecification(String)

    public var description: String {
        switch self {
        case let .setupFailed(program, step, code):
            return "\(step) in the sandbox for \(program) failed: \(String(cString: strerror(code)))."
        case let .programMissing(program, searched):
            return searched.map { "\(program) is not in the sandbox (PATH \($0))." } ?? "\(program) does not exist in the sandbox."
        case let .invalidSpecification(sentence):
            return sentence
        }
    }
}
