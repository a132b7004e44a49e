import ConaryStore
import ConarySupport
import ConaryModel
import Crypto

/// Turns the file entries of a package payload into FileEntries whose contents are in the
/// object intake: paths normalized and checked, hardlinks resolved, sizes and expansion
/// bounded. Format readers add their own checksum checks on top.
struct PayloadReader {
    let display: String
    let intake: ObjectIntake
    let limits: ImportLimits
    let packageSize: Int64
    private(set) var ledger = PayloadLedger()
    private var unpacked: Int64 = 0
    private let buffer = ReadBuffer()

    init(display: String, intake: ObjectIntake, limits: ImportLimits, packageSize: Int64) {
        self.display = display
        self.intake = intake
        self.limits = limits
        self.packageSize = packageSize
    }

    /// Records a file the package owns but does not ship (RPM %ghost).
    mutating func addGhost(_ file: FileEntry) throws {
        try ledger.add(file, package: display)
    }

    /// Adds the archive's current entry at `path` (already normalized). Returns the MD5 of a
    /// regular file's content when `md5` is asked for (Debian's md5sums need it).
    @discardableResult
    mutating func add(_ entry: ArchiveReader.Entry, at path: String, from archive: ArchiveReader,
                      flags: FileFlags, md5 wanted: Bool = false) throws -> String? {
        var file = FileEntry(path: path, kind: entry.kind, size: 0, mode: entry.mode, uid: entry.uid, gid: entry.gid,
                             target: entry.symlinkTarget, flags: flags)
        var digest: String?
        if let link = entry.hardlinkTarget {
            guard let linkPath = try PayloadPath.normalize(link, package: display),
                  let original = ledger.file(at: linkPath), original.kind == .regular else {
                throw PackageError.malformed(display, "\(path) is a hardlink to \(link), which is not an earlier file")
            }
            // A hardlink is the same inode: whatever mode and owner its own header claims, it
            // deploys (and is recorded) with its target's, so no setuid bit hides behind a link.
            file.kind = .regular
            file.objectID = original.objectID
            file.sha256 = original.sha256
            file.size = original.size
            file.mode = original.mode
            file.uid = original.uid
            file.gid = original.gid
        } else if entry.kind == .regular {
            var md5 = Insecure.MD5()
            let stored = try intake.ingest(path: "\(display):\(path)", metadata: ObjectMetadata(packageMode: entry.mode, uid: entry.uid, gid: entry.gid),
                                           buffer: buffer, read: { try archive.read(into: $0) },
                                           observe: { if wanted { md5.update(bufferPointer: $0) } })
            if stored.size != entry.size {
                throw PackageError.malformed(display, "\(path) holds \(stored.size) bytes but its header says \(entry.size)")
            }
            unpacked += stored.size
            try limits.checkExpansion(unpacked: unpacked, packageSize: packageSize, package: display)
            file.objectID = stored.objectID
            file.sha256 = stored.sha256
            file.size = stored.size
            if wanted { digest = md5.finalize().hex }
        }
        try ledger.add(file, package: display)
        return digest
    }
}
