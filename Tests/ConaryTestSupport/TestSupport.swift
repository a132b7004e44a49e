import Foundation
import XCTest

/// Asserts that `body` throws exactly `expected` (of whichever layer's error type).
public func XCTAssertThrowsExactly<T, E: Error & Equatable>(_ expected: E, _ body: @autoclosure () throws -> T,
                                                            file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual(error as? E, expected, "threw \(error)", file: file, line: line)
    }
}

/// Runs a program found on PATH (in `environment`, when one is given instead of the test's)
/// and returns its exit status and standard output.
@discardableResult
public func runTool(_ command: String, _ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [command] + arguments
    if let environment { process.environment = environment }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The `conary` executable built beside the test bundle.
public func conaryBinary() throws -> String {
    let candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path, Bundle.main.bundlePath]
        + Bundle.allBundles.map { $0.bundleURL.deletingLastPathComponent().path }
    for directory in candidates where FileManager.default.isExecutableFile(atPath: directory + "/conary") {
        return directory + "/conary"
    }
    throw XCTSkip("SKIPPED: no conary executable next to the test bundle (looked in \(candidates)); build it with swift build.")
}
