import Crypto
import Foundation

extension Digest {
    var hex: String {
        var text = ""
        text.reserveCapacity(64)
        for byte in self { text += String(format: "%02x", byte) }
        return text
    }
}

enum Hashing {
    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).hex
    }

    /// Hashes everything readable from `fd` (from its current offset). Returns the digest and the byte count.
    static func stream(from fd: Int32, path: String, buffer: UnsafeMutableRawBufferPointer) throws -> (sha256: String, size: Int64) {
        var hasher = SHA256()
        var total: Int64 = 0
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw ConaryError.system(operation: "Reading", path: path, errno: errno)
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hasher.update(bufferPointer: chunk)
            total += Int64(count)
        }
        return (hasher.finalize().hex, total)
    }
}

/// A per-thread read buffer, so parallel hashing does not allocate per file.
final class ReadBuffer {
    let pointer: UnsafeMutableRawBufferPointer
    init(size: Int = 1 << 20) { pointer = .allocate(byteCount: size, alignment: 4096) }
    deinit { pointer.deallocate() }
}
