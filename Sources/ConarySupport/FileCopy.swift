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

    /// Copies `length` bytes from the current offsets, inside the kernel.
    package static func copy(from source: Int32, to output: Int32, length: Int64, path: String) throws {
        var remaining = length
        while remaining > 0 {
            let copied = conary_copy_file_range(source, output, Int(min(remaining, 1 << 30)))
            if copied < 0 && errno == EINTR { continue }
            if copied <= 0 {
                throw SystemError(operation: "Copying", path: path, errno: copied < 0 ? errno : EIO)
            }
            remaining -= Int64(copied)
        }
    }
}
