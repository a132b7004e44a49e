import Glibc

/// A file of allocated blocks (<root>/conary/reserve) that the commands which free space give
/// back first: on a full disk, prune and gc must still record what they delete before they
/// delete it, and the database needs a few blocks for that.
package struct SpaceReserve {
    package let path: String
    package static let size: off_t = 8 << 20

    package init(path: String) { self.path = path }

    /// Allocates the reserve unless it is there. Best effort by design: a disk too full for it
    /// simply has none until space is freed, and no command should fail for its sake.
    package func ensure() {
        if FileSystem.exists(path) { return }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        if posix_fallocate(fd, 0, Self.size) == 0, fsync(fd) == 0, rename(temporary, path) == 0 { return }
        unlink(temporary)
    }

    /// Frees the reserve's blocks for the work that follows.
    package func release() throws {
        if unlink(path) != 0 && errno != ENOENT { throw SystemError(operation: "Removing", path: path, errno: errno) }
    }
}
