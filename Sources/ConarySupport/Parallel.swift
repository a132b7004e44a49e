import Foundation

package enum Parallel {
    /// Runs `body` for 0..<count on every core; each worker claims the next index, and the
    /// first error stops the others from claiming more and is rethrown.
    /// `makeContext` builds one per-worker value (a read buffer, say).
    package static func forEach<Context>(_ count: Int, makeContext: () -> Context, _ body: (Int, Context) throws -> Void) throws {
        let lock = NSLock()
        var next = 0
        var firstError: Error?
        DispatchQueue.concurrentPerform(iterations: min(count, ProcessInfo.processInfo.activeProcessorCount)) { _ in
            let context = makeContext()
            while true {
                lock.lock()
                let claimed = firstError == nil && next < count ? next : nil
                next += 1
                lock.unlock()
                guard let index = claimed else { return }
                do {
                    try body(index, context)
                } catch {
                    lock.lock()
                    if firstError == nil { firstError = error }
                    lock.unlock()
                }
            }
        }
        if let firstError { throw firstError }
    }

    /// `transform` of 0..<count, computed as `forEach` does (with a per-worker context), in
    /// index order.
    package static func map<Result, Context>(_ count: Int, makeContext: () -> Context,
                                             _ transform: (Int, Context) throws -> Result) throws -> [Result] {
        var results = [Result?](repeating: nil, count: count)
        try results.withUnsafeMutableBufferPointer { slots in
            try forEach(count, makeContext: makeContext) { index, context in slots[index] = try transform(index, context) }
        }
        return results.map { $0! }
    }

    package static func map<Result>(_ count: Int, _ transform: (Int) throws -> Result) throws -> [Result] {
        try map(count, makeContext: {}) { index, _ in try transform(index) }
    }
}
