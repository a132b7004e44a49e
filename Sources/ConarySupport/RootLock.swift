import Foundation

/// An exclusive flock on <root>/conary/lock, held for the life of the object.
package final class RootLock {
    private let descriptor: Descriptor

    package init(path: String, onWait: () -> Void) throws {
        descriptor = try Descriptor.open(path, flags: O_RDWR | O_CREAT, mode: 0o600)
        if flock(descriptor.fd, LOCK_EX | LOCK_NB) == 0 { return }
        guard errno == EWOULDBLOCK else {
            throw SystemError(operation: "Locking", path: path, errno: errno)
        }
        onWait()
        while flock(descriptor.fd, LOCK_EX) == -1 {
            if errno != EINTR { throw SystemError(operation: "Locking", path: path, errno: errno) }
        }
    }
}
