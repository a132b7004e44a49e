import CLinux
import Glibc

/// Writing and copying file contents, retrying short writes and EINTR.
public enum FileCopy {
    package static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 && errno == EINTR { continue }
            if written < 0 { throw SystemError(operation: "Writing", path: path, errno: errno) }
            offset += written
        }
    }

    /// Copies `length` bytes from the current offsets, inside the kernel where it can:
    /// copy_file_range refuses other filesystems (EXDEV) and some file systems (EOPNOTSUPP,
    /// EINVAL, ENOSYS), and then the rest is copied through a buffer.
    package static func copy(from source: Int32, to output: Int32, length: Int64, path: String) throws {
        var remaining = length
        while remaining > 0 {
            let copied = conary_copy_file_range(source, output, Int(min(remaining, 1 << 30)))
            if copied < 0 && errno == EINTR { continue }
            if copied < 0 && [EXDEV, EOPNOTSUPP, EINVAL, ENOSYS].contains(errno) {
                return try copyThroughBuffer(from: source, to: output, length: remaining, path: path)
            }
            if copied <= 0 {
                throw SystemError(operation: "Copying", path: path, errno: copied < 0 ? errno : EIO)
            }
            remaining -= Int64(copied)
        }
    }

    private static func copyThroughBuffer(from source: Int32, to output: Int32, length: Int64, path: String) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var remaining = length
        while remaining > 0 {
            let count = Glibc.read(source, buffer.baseAddress!, Int(min(remaining, Int64(buffer.count))))
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { throw SystemError(operation: "Copying", path: path, errno: count < 0 ? errno : EIO) }
            try write(output, UnsafeRawBufferPointer(rebasing: buffer[0..<count]), path: path)
            remaining -= Int64(count)
        }
    }
}
