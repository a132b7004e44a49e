import CLinux
import Foundation

/// Runs a libc call that returns -1 on failure and turns errno into a typed error.
@discardableResult
package func sys(_ operation: @autoclosure () -> String, _ path: @autoclosure () -> String, _ result: Int32) throws -> Int32 {
    if result == -1 {
        throw SystemError(operation: operation(), path: path(), errno: errno)
    }
    return result
}

/// An open file descriptor that closes itself.
public final class Descriptor: @unchecked Sendable {
    public let fd: Int32

    public init(adopting fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Opens `path` relative to `directory` (AT_FDCWD for the working directory).
    public static func open(_ path: String, relativeTo directory: Int32 = AT_FDCWD, flags: Int32, mode: mode_t = 0) throws -> Descriptor {
        let fd = try sys("Opening", path, openat(directory, path, flags | O_CLOEXEC, mode))
        return Descriptor(adopting: fd)
    }

    public static func directory(_ path: String, relativeTo directory: Int32 = AT_FDCWD) throws -> Descriptor {
        try open(path, relativeTo: directory, flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
    }

    public func stat() throws -> stat {
        try Descriptor.stat(fd, path: "fd \(fd)")
    }

    package static func stat(_ fd: Int32, path: String) throws -> stat {
        var st = Glibc.stat()
        try sys("Reading metadata of", path, fstat(fd, &st))
        return st
    }

    public func sync() throws {
        try sys("Syncing", "fd \(fd)", fsync(fd))
    }

    /// Flushes the whole filesystem that holds this descriptor.
    public func syncFilesystem() throws {
        try sys("Syncing the filesystem of", "fd \(fd)", conary_syncfs(fd))
    }
}

package enum FileSystem {
    package static func lstat(_ path: String, relativeTo directory: Int32 = AT_FDCWD) -> stat? {
        var st = Glibc.stat()
        return fstatat(directory, path, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st : nil
    }

    /// The status of what `path` leads to (links followed), nil when nothing is there; any
    /// other failure (EACCES) is an error, so that "cannot look" is not taken for "missing".
    package static func existingStatus(_ path: String) throws -> stat? {
        var st = Glibc.stat()
        if fstatat(AT_FDCWD, path, &st, 0) == 0 { return st }
        if errno == ENOENT { return nil }
        throw SystemError(operation: "Looking up", path: path, errno: errno)
    }

    /// "a directory", "a pipe", … for sentences about a file that is not what was expected.
    package static func kindName(_ st: stat) -> String {
        switch st.st_mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a pipe (FIFO)"
        case S_IFCHR, S_IFBLK: return "a device node"
        case S_IFSOCK: return "a socket"
        default: return "a symbolic link"
        }
    }

    package static func exists(_ path: String, relativeTo directory: Int32 = AT_FDCWD) -> Bool {
        lstat(path, relativeTo: directory) != nil
    }

    package static func isDirectory(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFDIR }

    /// Whether something is mounted on `path` in this process's view, a bind mount of the
    /// same filesystem included (its device number would not tell).
    package static func isMountPoint(_ path: String) -> Bool {
        guard let resolved = realpath(path, nil) else { return false }
        defer { free(resolved) }
        let target = String(cString: resolved)
        guard let table = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        // Field 5 is the mount point, with space, tab, newline and backslash written as \ooo.
        return table.split(separator: "\n").contains { line in
            let fields = line.split(separator: " ")
            return fields.count > 4 && fields[4].replacingOccurrences(of: "\\040", with: " ")
                .replacingOccurrences(of: "\\011", with: "\t").replacingOccurrences(of: "\\012", with: "\n")
                .replacingOccurrences(of: "\\134", with: "\\") == target
        }
    }

    package static func isRegular(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFREG }
    package static func isSymlink(_ st: stat) -> Bool { st.st_mode & S_IFMT == S_IFLNK }

    /// Creates a directory unless it exists already.
    package static func makeDirectory(_ path: String, relativeTo directory: Int32 = AT_FDCWD, mode: mode_t = 0o755) throws {
        if mkdirat(directory, path, mode) == -1 && errno != EEXIST {
            throw SystemError(operation: "Creating directory", path: path, errno: errno)
        }
    }

    package static func readLink(_ path: String, relativeTo directory: Int32 = AT_FDCWD) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = try sys("Reading symlink", path, Int32(readlinkat(directory, path, &buffer, buffer.count - 1)))
        return String(decoding: buffer[0..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads a small text file, or nil if it does not exist (or a parent is not a folder).
    package static func readSmallFile(_ path: String, relativeTo directory: Int32 = AT_FDCWD) throws -> String? {
        let fd = openat(directory, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd == -1 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError(operation: "Opening", path: path, errno: errno)
        }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = try sys("Reading", path, Int32(read(fd, &buffer, buffer.count)))
        return String(decoding: buffer[0..<Int(count)], as: UTF8.self)
    }

    /// Reads a whole file of at most `limit` bytes; nil if it does not exist.
    package static func readFile(_ path: String, relativeTo directory: Int32 = AT_FDCWD, limit: Int) throws -> [UInt8]? {
        let fd = openat(directory, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd == -1 {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw SystemError(operation: "Opening", path: path, errno: errno)
        }
        defer { close(fd) }
        var st = Glibc.stat()
        try sys("Reading the status of", path, fstat(fd, &st))
        guard st.st_size <= limit else { throw SystemError(operation: "Reading", path: path, errno: EFBIG) }
        var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < bytes.count {
            let count = try bytes.withUnsafeMutableBytes { buffer in
                try sys("Reading", path, Int32(truncatingIfNeeded: read(fd, buffer.baseAddress! + done, buffer.count - done)))
            }
            if count == 0 { break }
            done += Int(count)
        }
        return Array(bytes[0..<done])
    }

    /// Writes a small file durably: temp file, fsync, rename over `path`.
    package static func writeAtomically(_ text: String, to path: String, relativeTo directory: Int32, mode: mode_t = 0o644) throws {
        try writeAtomically(Array(text.utf8), to: path, relativeTo: directory, mode: mode)
    }

    package static func writeAtomically(_ bytes: [UInt8], to path: String, relativeTo directory: Int32, mode: mode_t = 0o644) throws {
        try replaceAtomically(path, relativeTo: directory, mode: mode) { file, temp in
            try bytes.withUnsafeBytes { try FileCopy.write(file, $0, path: temp) }
        }
    }

    /// Writes `path` through `write(fd, tempName)` into a temp file, fsyncs it and renames it
    /// over `path`, so a crash leaves the old file or the new one; a failure (a full
    /// filesystem) removes the temp file.
    package static func replaceAtomically(_ path: String, relativeTo directory: Int32, mode: mode_t = 0o644,
                                          write: (Int32, String) throws -> Void) throws {
        let temp = ".\(path).tmp-\(getpid())"
        do {
            let file = try Descriptor.open(temp, relativeTo: directory, flags: O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: mode)
            try write(file.fd, temp)
            try sys("Setting mode of", temp, fchmod(file.fd, mode))
            try file.sync()
            try sys("Renaming", temp, renameat(directory, temp, directory, path))
        } catch {
            unlinkat(directory, temp, 0)
            throw error
        }
    }

    /// Swaps the files `a` and `b` of one directory in one step (renameat2 RENAME_EXCHANGE).
    package static func exchange(_ a: String, _ b: String, in directory: Int32) throws {
        try sys("Exchanging", "\(a) and \(b)", conary_renameat2(directory, a, directory, b, CONARY_RENAME_EXCHANGE))
    }

    /// Removes a file or a whole directory tree without following symlinks. Missing paths are fine.
    package static func removeTree(_ path: String, relativeTo directory: Int32 = AT_FDCWD) throws {
        guard let st = lstat(path, relativeTo: directory) else { return }
        if isDirectory(st) {
            let dir = try Descriptor.directory(path, relativeTo: directory)
            // Read-only directories (0555 in /usr) must become writable for non-root callers.
            fchmod(dir.fd, 0o700)
            for name in try listDirectory(dir.fd) {
                try removeTree(name, relativeTo: dir.fd)
            }
            try sys("Removing directory", path, unlinkat(directory, path, AT_REMOVEDIR))
        } else {
            try sys("Removing", path, unlinkat(directory, path, 0))
        }
    }

    /// The names in a directory, without "." and "..".
    package static func listDirectory(_ fd: Int32) throws -> [String] {
        let dupFD = try sys("Duplicating", "fd \(fd)", dup(fd))
        guard let stream = fdopendir(dupFD) else {
            close(dupFD)
            throw SystemError(operation: "Listing", path: "fd \(fd)", errno: errno)
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            // Read in place: copying the 256-byte name field for every entry is most of the cost.
            let start = UnsafeRawPointer(entry).advanced(by: nameOffset).assumingMemoryBound(to: CChar.self)
            let bytes = UnsafeRawBufferPointer(start: start, count: strlen(start))
            if bytes.elementsEqual(".".utf8) || bytes.elementsEqual("..".utf8) { continue }
            // A repaired name (U+FFFD for bad bytes) would name another file, so such a name is
            // an error naming its bytes (errno EILSEQ, the path the escaped name).
            guard let name = String(validating: bytes, as: UTF8.self) else {
                throw SystemError(operation: "Reading the name", path: escapedName(Array(bytes)), errno: EILSEQ)
            }
            names.append(name)
        }
        return names
    }

    private static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name)!

    /// A file name's bytes as text: printable ASCII as it is, every other byte as \xNN.
    private static func escapedName(_ bytes: [UInt8]) -> String {
        bytes.map { (0x20..<0x7f).contains($0) && $0 != 0x5c ? String(UnicodeScalar($0)) : "\\x" + ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
