import Crypto
import Foundation

extension ContiguousBytes {
    /// Lowercase hex. Every object id and every verified file needs two of these, and
    /// String(format:) per byte made them most of verify's time.
    package var hex: String {
        withUnsafeBytes { bytes in
            String(unsafeUninitializedCapacity: bytes.count * 2) { text in
                let digits = ("0123456789abcdef" as StaticString).utf8Start
                for index in 0..<bytes.count {
                    text[2 * index] = digits[Int(bytes[index] >> 4)]
                    text[2 * index + 1] = digits[Int(bytes[index] & 0x0f)]
                }
                return bytes.count * 2
            }
        }
    }
}

package enum Hashing {
    package static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).hex
    }

    package static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).hex
    }

    /// Hashes everything `read` delivers until it returns 0.
    package static func stream(reading read: (UnsafeMutableRawBufferPointer) throws -> Int, buffer: UnsafeMutableRawBufferPointer) throws -> (sha256: String, size: Int64) {
        var hasher = SHA256()
        var total: Int64 = 0
        while case let count = try read(buffer), count > 0 {
            hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            total += Int64(count)
        }
        return (hasher.finalize().hex, total)
    }

    /// Hashes everything readable from `fd` (from its current offset). Returns the digest and the byte count.
    package static func stream(from fd: Int32, path: String, buffer: UnsafeMutableRawBufferPointer) throws -> (sha256: String, size: Int64) {
        try stream(reading: { chunk in
            while true {
                let count = read(fd, chunk.baseAddress, chunk.count)
                if count >= 0 { return count }
                if errno != EINTR { throw SystemError(operation: "Reading", path: path, errno: errno) }
            }
        }, buffer: buffer)
    }
}

/// A per-thread read buffer, so parallel hashing does not allocate per file.
package final class ReadBuffer {
    package let pointer: UnsafeMutableRawBufferPointer
    package init(size: Int = 1 << 20) { pointer = .allocate(byteCount: size, alignment: 4096) }
    deinit { pointer.deallocate() }
}
