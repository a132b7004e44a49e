import ConaryStore
import ConarySupport
import ConaryModel
import CArchive
import Foundation
import Glibc

/// Writes a zstd-compressed pax tar with libarchive, into a temp file renamed over the
/// destination on `finish()`, so a half-written package never appears under its name.
final class ArchiveWriter {
    private let handle: OpaquePointer
    private let destination: String
    private let temp: String
    private var finished = false

    init(path: String) throws {
        destination = path
        temp = path + ".tmp-\(getpid())"
        handle = archive_write_new()
        archive_write_add_filter_zstd(handle)
        archive_write_set_format_pax_restricted(handle)
        try check(archive_write_open_filename(handle, temp))
    }

    deinit {
        archive_write_free(handle)
        if !finished { unlink(temp) }
    }

    private func check(_ status: Int32) throws {
        if status < ARCHIVE_WARN {
            let detail = archive_error_string(handle).map { String(cString: $0) } ?? "unknown error"
            throw PackageError.writeFailed(path: destination, detail: detail)
        }
    }

    /// Adds a regular file whose `size` bytes come from `fill`, called with a writer.
    func addFile(_ name: String, size: Int64, fill: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let entry = archive_entry_new()
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_size(entry, size)
        archive_entry_set_filetype(entry, UInt32(Glibc.S_IFREG))
        archive_entry_set_perm(entry, 0o644)
        try check(archive_write_header(handle, entry))
        var written: Int64 = 0
        try fill { chunk in
            if archive_write_data(handle, chunk.baseAddress, chunk.count) < 0 { try check(ARCHIVE_FATAL) }
            written += Int64(chunk.count)
        }
        guard written == size else { throw StoreError.changedDuringImport(name) }
        try check(archive_write_finish_entry(handle))
    }

    func addFile(_ name: String, bytes: [UInt8]) throws {
        try addFile(name, size: Int64(bytes.count)) { write in try bytes.withUnsafeBytes { try write($0) } }
    }

    func finish() throws {
        try check(archive_write_close(handle))
        let file = try Descriptor.open(temp, flags: O_RDONLY)
        try file.sync()
        try sys("Renaming", temp, rename(temp, destination))
        finished = true
    }
}
