import ConaryModel
import ConarySupport
import Foundation
import Glibc

extension ConaryRoot {
    /// Under conary/: where package files are fetched to before they are checked and imported.
    static let downloadFolder = "downloads"

    /// Copies the package files into a private folder (conary/downloads, 0700), checks each
    /// against the size and SHA-256 its index gives before anything reads it as a package,
    /// and imports them all or none. The folder is gone afterwards, whatever happens.
    func fetch(_ downloads: [PackageDownload]) throws -> [Trove] {
        guard !downloads.isEmpty else { return [] }
        let directory = conaryPath + "/" + Self.downloadFolder
        try? FileSystem.removeTree(directory)
        try FileSystem.makeDirectory(directory, mode: 0o700)
        defer { try? FileSystem.removeTree(directory) }
        let buffer = ReadBuffer()
        let copies = try downloads.enumerated().map { index, download -> String in
            let copy = "\(directory)/\(index)-\((download.filename as NSString).lastPathComponent)"
            try self.copy(download, to: copy, buffer: buffer)
            return copy
        }
        let troves = try importPackages(copies)
        for (download, trove) in zip(downloads, troves) where download.spec != trove.spec {
            throw ConaryError.downloadHoldsOther(file: download.filename, repository: download.repository, holds: trove.spec,
                                                 listed: download.spec)
        }
        return troves
    }

    private func copy(_ download: PackageDownload, to target: String, buffer: ReadBuffer) throws {
        let source = try folder(of: download.url) + "/" + download.filename
        let mismatch = { (what: String) in ConaryError.downloadMismatch(file: download.filename, repository: download.repository, what: what) }
        let input = try Descriptor.open(source, flags: O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard try input.stat().st_size == download.size else { throw mismatch("size") }
        let output = try Descriptor.open(target, flags: O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode: 0o600)
        // Hashed as it is copied, so the copy that gets imported is the one that was checked.
        let copied = try Hashing.stream(reading: { chunk in
            let count = Int(try sys("Reading", source, Int32(truncatingIfNeeded: read(input.fd, chunk.baseAddress, chunk.count))))
            try FileCopy.write(output.fd, UnsafeRawBufferPointer(rebasing: chunk[0..<count]), path: target)
            return count
        }, buffer: buffer.pointer)
        guard copied.size == download.size else { throw mismatch("size") }
        guard copied.sha256 == download.sha256 else { throw mismatch("SHA-256") }
    }
}
