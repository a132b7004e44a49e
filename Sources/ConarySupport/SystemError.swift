import Glibc

/// A system call that failed: what was being done, to which path, and errno.
public struct SystemError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String { "\(operation) \(path) failed: \(String(cString: strerror(errno)))." }
}

/// Seconds elapsed while running `body`.
public func measure<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let clock = ContinuousClock()
    var result: T?
    let elapsed = try clock.measure { result = try body() }
    return (result!, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}
