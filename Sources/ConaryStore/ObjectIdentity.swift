import ConaryModel
import ConarySupport
import Foundation

/// The metadata that is part of a stored object. Hardlinked inodes share it with every state
/// that links them, so two files differing only in mode or owner are two objects.
public struct ObjectMetadata: Equatable, Sendable {
    /// Permission bits as deployed: write bits are always stripped, so a deployed file
    /// is never opened for writing by accident.
    public let mode: UInt32
    public let uid: UInt32
    public let gid: UInt32
    public let xattrs: ExtendedAttributes

    public init(packageMode: UInt32, uid: UInt32, gid: UInt32, xattrs: ExtendedAttributes = .none) {
        self.mode = FileEntry.deployedMode(packageMode)
        self.uid = uid
        self.gid = gid
        self.xattrs = xattrs
    }

    /// Gives an open file this metadata and the canonical mtime. Owner first: chown clears
    /// setuid bits and file capabilities, so mode and xattrs follow it.
    package func apply(to fd: Int32, path: String) throws {
        try sys("Changing owner of", path, fchown(fd, uid, gid))
        try sys("Changing mode of", path, fchmod(fd, mode_t(mode)))
        try xattrs.apply(fd: fd, path: path)
        var times = [ObjectStore.canonicalMTime, ObjectStore.canonicalMTime]
        try sys("Setting times of", path, futimens(fd, &times))
    }

    /// The object id: SHA-256 over the content digest and this metadata.
    public func objectID(contentSHA256: String) -> String {
        let header = "conary-object-v1\n\(contentSHA256)\n\(String(mode, radix: 8)) \(uid) \(gid)\n\(xattrs.canonical)\n"
        return Hashing.sha256Hex(header)
    }
}
