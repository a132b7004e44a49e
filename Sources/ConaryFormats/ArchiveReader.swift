import ConarySupport
import ConaryModel
import CArchive
import Foundation
import Glibc

/// A libarchive reader over a file or over the current entry of another archive (a
/// data.tar.xz inside a .deb), streaming: nothing is unpacked to disk.
final class ArchiveReader {
    enum Container {
        case ar
        case tar
        case cpio
        /// A single compressed stream, such as an Arch package's gzipped .MTREE.
        case raw
    }

    struct Entry {
        var path: String
        var kind: FileKind
        /// Permission bits, setuid/setgid/sticky included.
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: Int64
        var symlinkTarget: String?
        /// Set when this entry is a hardlink to an earlier entry of the archive.
        var hardlinkTarget: String?
    }

    /// Where the bytes come from when reading a nested archive.
    private final class Upstream {
        let parent: ArchiveReader
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        init(parent: ArchiveReader) { self.parent = parent }
        deinit { buffer.deallocate() }
    }

    /// Bytes read from a file descriptor, each chunk shown to an observer (a digest) first.
    private final class FileSource {
        let fd: Int32
        let observe: (UnsafeRawBufferPointer) -> Void
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        init(fd: Int32, observe: @escaping (UnsafeRawBufferPointer) -> Void) {
            self.fd = fd
            self.observe = observe
        }
        deinit { buffer.deallocate() }

        func next() -> Int {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 { observe(UnsafeRawBufferPointer(rebasing: buffer[0..<count])) }
            return count
        }
    }

    private let handle: OpaquePointer
    private var source: FileSource?
    /// The package and member named in errors, e.g. "hello.deb (data.tar.xz)".
    let name: String
    private let container: Container
    private var upstream: Upstream?

    init(file path: String, container: Container, name: String) throws {
        self.name = name
        self.container = container
        handle = archive_read_new()
        try configure(container)
        try check(archive_read_open_filename(handle, path, 1 << 16))
    }

    /// Reads the archive stored in `parent`'s current entry.
    init(nestedIn parent: ArchiveReader, container: Container, name: String) throws {
        self.name = name
        self.container = container
        handle = archive_read_new()
        let upstream = Upstream(parent: parent)
        self.upstream = upstream
        try configure(container)
        try check(archive_read_open(handle, Unmanaged.passUnretained(upstream).toOpaque(), nil, { _, context, buffer in
            let upstream = Unmanaged<Upstream>.fromOpaque(context!).takeUnretainedValue()
            let count = archive_read_data(upstream.parent.handle, upstream.buffer.baseAddress, upstream.buffer.count)
            buffer?.pointee = UnsafeRawPointer(upstream.buffer.baseAddress)
            return count
        }, nil))
    }

    /// Reads an archive from `fd`'s current offset to its end (an RPM's payload), showing
    /// every byte to `observe`.
    init(descriptor fd: Int32, container: Container, name: String, observe: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        self.name = name
        self.container = container
        handle = archive_read_new()
        let source = FileSource(fd: fd, observe: observe)
        self.source = source
        try configure(container)
        try check(archive_read_open(handle, Unmanaged.passUnretained(source).toOpaque(), nil, { _, context, buffer in
            let source = Unmanaged<FileSource>.fromOpaque(context!).takeUnretainedValue()
            let count = source.next()
            buffer?.pointee = UnsafeRawPointer(source.buffer.baseAddress)
            return count
        }, nil))
    }

    /// Feeds whatever libarchive left unread of the file to the observer.
    func drainSource() {
        guard let source else { return }
        while source.next() > 0 {}
    }

    deinit { archive_read_free(handle) }

    private func configure(_ container: Container) throws {
        switch container {
        case .ar: archive_read_support_format_ar(handle)
        case .tar: archive_read_support_format_tar(handle); archive_read_support_format_gnutar(handle)
        case .cpio: archive_read_support_format_cpio(handle)
        case .raw:
            archive_read_support_format_raw(handle)
            // apt keeps its package lists lz4-compressed; no package format uses lz4.
            archive_read_support_filter_lz4(handle)
        }
        // Decompressors built into libarchive only: no external helper programs.
        archive_read_support_filter_gzip(handle)
        archive_read_support_filter_xz(handle)
        archive_read_support_filter_lzma(handle)
        archive_read_support_filter_zstd(handle)
        archive_read_support_filter_bzip2(handle)
    }

    private func check(_ status: Int32) throws {
        if status < ARCHIVE_WARN { throw PackageError.malformed(name, lastError) }
    }

    private var lastError: String {
        archive_error_string(handle).map { String(cString: $0) } ?? "the archive ends early or is corrupt"
    }

    /// The next entry, or nil at the end of the archive.
    func next() throws -> Entry? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        try check(status)
        guard let entry, let rawPath = archive_entry_pathname(entry) else { throw PackageError.malformed(name, "an entry has no name") }
        guard let path = String(validatingCString: rawPath) else {
            throw PackageError.malformed(name, "an entry's name is not valid UTF-8")
        }
        let kind: FileKind
        var symlinkTarget: String?
        let hardlinkTarget = archive_entry_hardlink(entry).map { String(cString: $0) }
        switch archive_entry_filetype(entry) {
        // An ar archive holds only files; `ar rcD` writes modes without a file type ("644").
        case _ where container == .ar: kind = .regular
        case UInt32(Glibc.S_IFREG): kind = .regular
        case UInt32(Glibc.S_IFDIR): kind = .directory
        case UInt32(Glibc.S_IFLNK):
            kind = .symlink
            symlinkTarget = archive_entry_symlink(entry).map { String(cString: $0) } ?? ""
        case 0 where hardlinkTarget != nil: kind = .regular
        default:
            throw PackageError.unsafeEntry(name, path, "is a device node, socket or pipe")
        }
        return Entry(path: path, kind: kind, mode: UInt32(archive_entry_perm(entry)) & 0o7777,
                     uid: UInt32(truncatingIfNeeded: archive_entry_uid(entry)),
                     gid: UInt32(truncatingIfNeeded: archive_entry_gid(entry)),
                     size: archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0,
                     symlinkTarget: symlinkTarget, hardlinkTarget: hardlinkTarget)
    }

    /// Reads the current entry's data; 0 at its end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = archive_read_data(handle, buffer.baseAddress, buffer.count)
        if count < 0 { throw PackageError.malformed(name, lastError) }
        return count
    }

    /// The whole current entry, refusing more than `limit` bytes (control files are small).
    func readAll(limit: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if count == 0 { return result }
            result += chunk[0..<count]
            if result.count > limit { throw PackageError.tooLarge(name, "a member is larger than \(limit) bytes") }
        }
    }
}
