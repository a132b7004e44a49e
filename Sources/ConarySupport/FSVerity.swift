import CLinux
import Foundation

/// fs-verity: a sealed file's content can no longer be changed, not even by root (opening it
/// for writing fails with EPERM), and every read is checked against a Merkle tree whose root
/// the kernel reports as the file's verity digest (Documentation/filesystems/fsverity.rst).
public enum FSVerity {
    /// What enabling fs-verity on a file came to.
    public enum Outcome: Equatable, Sendable {
        /// The file is sealed (now, or it was already).
        case sealed
        /// The kernel or the filesystem cannot seal it: `errno` is the refusal.
        case unsupported(errno: Int32)
    }

    /// Whether a filesystem can seal files.
    public enum Support: Equatable, Sendable, CustomStringConvertible {
        case supported
        /// The kernel or the filesystem has no fs-verity: `errno` is its refusal.
        case unsupported(errno: Int32)

        public var description: String {
            switch self {
            case .supported: return "fs-verity seals files here"
            case let .unsupported(errno): return "fs-verity cannot seal files here (\(String(cString: strerror(errno))))"
            }
        }
    }

    /// The errnos by which the kernel says it cannot seal rather than that something failed:
    /// ENOTTY, a filesystem without fs-verity; EOPNOTSUPP, a kernel built without it or an
    /// ext4 without the verity feature; EINVAL, for our fixed arguments on a regular file, a
    /// Merkle block size the filesystem cannot use (one larger than its own blocks); ENOPKG, a
    /// kernel without SHA-256 for fs-verity.
    static let unsupportedErrnos: Set<Int32> = [ENOTTY, EOPNOTSUPP, EINVAL, ENOPKG]

    /// Seals the file open at `fd`, which must be read-only with no writable descriptor left
    /// anywhere (else ETXTBSY). Building the Merkle tree reads the whole file.
    public static func enable(_ fd: Int32, path: String) throws -> Outcome {
        guard conary_enable_verity(fd) != 0 else { return .sealed }
        switch errno {
        case EEXIST: return .sealed
        case let refusal where unsupportedErrnos.contains(refusal): return .unsupported(errno: refusal)
        case let failure: throw SystemError(operation: "Sealing (fs-verity)", path: path, errno: failure)
        }
    }

    /// Whether the filesystem holding `fd` (a folder will do) has fs-verity, found by measuring
    /// `fd`, which writes nothing: ENODATA (not sealed) comes only from a filesystem that can seal.
    public static func support(_ fd: Int32, path: String) throws -> Support {
        var bytes = [UInt8](repeating: 0, count: 64)
        if conary_measure_verity(fd, &bytes, bytes.count) >= 0 || errno == ENODATA { return .supported }
        if unsupportedErrnos.contains(errno) { return .unsupported(errno: errno) }
        throw SystemError(operation: "Measuring (fs-verity)", path: path, errno: errno)
    }

    /// The file's verity digest in hex (SHA-256 for the files `enable` sealed); nil when it is
    /// not sealed, which includes every file of a filesystem that cannot seal.
    public static func digest(_ fd: Int32, path: String) throws -> String? {
        var bytes = [UInt8](repeating: 0, count: 64)
        let length = conary_measure_verity(fd, &bytes, bytes.count)
        if length < 0 {
            if errno == ENODATA || unsupportedErrnos.contains(errno) { return nil }
            throw SystemError(operation: "Measuring (fs-verity)", path: path, errno: errno)
        }
        return bytes[0..<Int(length)].hex
    }
}
