import Foundation

/// An exclusive flock on the <root>/conary directory itself, held for the life of the object.
/// A lock file could be deleted or swapped for a symlink while a command holds it, letting a
/// second writer in; the directory is opened without following symlinks, and after locking
/// it must still be the directory the path names (else the lock is taken again).
package final class RootLock {
    private let descriptor: Descriptor

    package init(directory path: String, onWait: () -> Void) throws {
        var waited = false
        while true {
            let candidate = try Descriptor.directory(path)
            if flock(candidate.fd, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK else { throw SystemError(operation: "Locking", path: path, errno: errno) }
                if !waited { onWait() }
                waited = true
                while flock(candidate.fd, LOCK_EX) == -1 {
                    if errno != EINTR { throw SystemError(operation: "Locking", path: path, errno: errno) }
                }
            }
            let locked = try candidate.stat()
            if let current = FileSystem.lstat(path), current.st_dev == locked.st_dev, current.st_ino == locked.st_ino {
                descriptor = candidate
                return
            }
        }
    }
}
