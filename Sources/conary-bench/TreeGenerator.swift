import Foundation

/// Writes a deterministic tree that looks like a distribution's /usr: many small files,
/// fewer large ones, a few empty files, duplicates and symlinks.
struct TreeGenerator {
    struct Shape {
        var files: Int
        var filesPerDirectory = 20
    }

    /// A small xorshift generator, so every run writes the same tree.
    private struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    /// Size classes as (percent of files, smallest, largest) in bytes.
    static let sizeMix: [(percent: Int, range: ClosedRange<Int>)] = [
        (2, 0...0), (28, 1...512), (44, 513...8192), (22, 8193...32768), (3, 32769...262144), (1, 262145...2_097_152),
    ]

    let shape: Shape

    /// Returns the number of bytes written.
    func write(to top: String) throws -> Int64 {
        var random = Random(state: 0x9E37_79B9_7F4A_7C15)
        let noise = (0..<(2_097_152 + 4096)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        var total: Int64 = 0
        let directories = max(1, shape.files / shape.filesPerDirectory)
        for index in 0..<shape.files {
            let relative = { (file: Int) in "d\(file % directories % 16)/s\(file % directories % 97)/t\(file % directories)" }
            let directory = "\(top)/\(relative(index))"
            if index < directories {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            let path = "\(directory)/f\(index)"
            if random.below(100) < 2 && index > 0 {
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "../../../\(relative(index - 1))/f\(index - 1)")
                continue
            }
            var roll = random.below(100)
            var range = TreeGenerator.sizeMix[0].range
            for entry in TreeGenerator.sizeMix {
                if roll < entry.percent { range = entry.range; break }
                roll -= entry.percent
            }
            let size = range.lowerBound + random.below(range.count)
            // One file in twenty repeats an earlier one's content (licences, icons, ...).
            let offset = random.below(100) < 5 ? 0 : random.below(4096)
            let bytes = Data(noise[offset..<(offset + size)])
            guard FileManager.default.createFile(atPath: path, contents: bytes) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
            }
            total += Int64(size)
        }
        return total
    }
}
