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

    /// Copies `length` bytes from the current offsets and leaves both offsets after them. The
    /// source's holes (SEEK_DATA/SEEK_HOLE, where its filesystem reports them) stay holes, so
    /// a sparse file is not stored as gigabytes of zeros.
    package static func copy(from source: Int32, to output: Int32, length: Int64, path: String) throws {
        let start = try seek(source, 0, SEEK_CUR, path: path), outputStart = try seek(output, 0, SEEK_CUR, path: path)
        let end = start + length
        var position = start
        while position < end {
            let (data, hole) = dataRange(source, from: position, end: end)
            if data >= end { break }
            _ = try seek(source, data, SEEK_SET, path: path)
            _ = try seek(output, outputStart + data - start, SEEK_SET, path: path)
            try copyData(from: source, to: output, length: hole - data, path: path)
            position = hole
        }
        // A trailing hole has no data to write; the file still has its length.
        if try Descriptor.stat(output, path: path).st_size < outputStart + length {
            try sys("Extending", path, ftruncate(output, off_t(outputStart + length)))
        }
        _ = try seek(source, end, SEEK_SET, path: path)
        _ = try seek(output, outputStart + length, SEEK_SET, path: path)
    }

    /// The next run of data at or after `offset` and where it ends, both capped at `end`; a
    /// filesystem without SEEK_DATA reports all of it as data.
    private static func dataRange(_ fd: Int32, from offset: Int64, end: Int64) -> (data: Int64, hole: Int64) {
        let data = lseek(fd, off_t(offset), seekData)
        if data < 0 { return errno == ENXIO ? (end, end) : (offset, end) }
        let hole = lseek(fd, data, seekHole)
        return (min(Int64(data), end), hole < 0 ? end : min(Int64(hole), end))
    }

    /// Linux's SEEK_DATA and SEEK_HOLE, which Glibc's module exports only under _GNU_SOURCE.
    private static let seekData: Int32 = 3, seekHole: Int32 = 4

    private static func seek(_ fd: Int32, _ offset: Int64, _ whence: Int32, path: String) throws -> Int64 {
        let result = lseek(fd, off_t(offset), whence)
        if result < 0 { throw SystemError(operation: "Seeking in", path: path, errno: errno) }
        return Int64(result)
    }

    /// Copies inside the kernel where it can: copy_file_range refuses other filesystems
    /// (EXDEV) and some file systems (EOPNOTSUPP, EINVAL, ENOSYS), and then the rest is
    /// copied through a buffer.
    private static func copyData(from source: Int32, to output: Int32, length: Int64, path: String) throws {
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
        let buffer = ReadBuffer()
        var remaining = length
        try withExtendedLifetime(buffer) {
            let chunk = buffer.pointer
            while remaining > 0 {
                let count = Glibc.read(source, chunk.baseAddress!, Int(min(remaining, Int64(chunk.count))))
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { throw SystemError(operation: "Copying", path: path, errno: count < 0 ? errno : EIO) }
                try write(output, UnsafeRawBufferPointer(rebasing: chunk[0..<count]), path: path)
                remaining -= Int64(count)
            }
        }
    }
}

/// Writes a stream into a new file and leaves every all-zero block (4096 bytes, aligned in
/// the file) a hole, so content that arrives through a pipe (an archive member) keeps the
/// holes a copy between files keeps. Zeros that straddle two chunks of the stream are written.
package struct SparseWriter {
    private static let blockSize = 4096
    private let fd: Int32
    private let path: String
    /// Bytes written or left as holes so far: the offset of the next byte.
    package private(set) var size: Int64 = 0

    package init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    package mutating func write(_ bytes: UnsafeRawBufferPointer) throws {
        let block = SparseWriter.blockSize
        // Bytes before the first block boundary in the file are written whatever they hold.
        let intoBlock = Int(size % Int64(block))
        var position = intoBlock == 0 ? 0 : min(bytes.count, block - intoBlock)
        var dataStart = 0
        while position + block <= bytes.count {
            if SparseWriter.isZero(UnsafeRawBufferPointer(rebasing: bytes[position..<position + block])) {
                try writeData(UnsafeRawBufferPointer(rebasing: bytes[dataStart..<position]), at: size + Int64(dataStart))
                dataStart = position + block
            }
            position += block
        }
        try writeData(UnsafeRawBufferPointer(rebasing: bytes[dataStart...]), at: size + Int64(dataStart))
        size += Int64(bytes.count)
    }

    /// Gives the file its full length: a hole at the end has nothing written after it.
    package func finish() throws {
        try sys("Extending", path, ftruncate(fd, off_t(size)))
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let written = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset + Int64(done)))
            if written < 0 && errno == EINTR { continue }
            if written < 0 { throw SystemError(operation: "Writing", path: path, errno: errno) }
            done += written
        }
    }

    /// Whether every byte is zero: the first is, and each equals the next.
    private static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes[0] == 0 && memcmp(bytes.baseAddress!, bytes.baseAddress! + 1, bytes.count - 1) == 0
    }
}
