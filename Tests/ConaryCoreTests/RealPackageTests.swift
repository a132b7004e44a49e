import ConaryCore
import Crypto
import Foundation
import XCTest

/// Real Debian packages (downloaded with apt-get download, cached in fixtures-cache/),
/// unpacked with dpkg-deb, committed as trees and deployed: the result must match what
/// dpkg -x produced, path by path, and its programs must run in a chroot.
final class RealPackageTests: XCTestCase {
    private static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    private func shell(_ command: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [command] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private func fetch(_ packages: [String]) throws -> [String] {
        let result = try shell(Self.packageRoot + "/Scripts/fetch-debs.sh", [Self.packageRoot + "/fixtures-cache/debs"] + packages)
        guard result.status == 0 else {
            throw XCTSkip("SKIPPED: could not download \(packages) with apt-get download (no package lists or no network).")
        }
        return result.output.split(separator: "\n").map(String.init)
    }

    func testDebianPackagesDeployLikeDpkgAndRun() throws {
        try requireRoot()
        let scratch = try Scratch()
        let rootPath = try scratch.root()
        let root = try ConaryRoot(path: rootPath, create: true)
        var extracted: [String] = []
        for deb in try fetch(["busybox-static", "libc6", "hello"]) {
            let name = try shell("dpkg-deb", ["-f", deb, "Package"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            let version = try shell("dpkg-deb", ["-f", deb, "Version"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            let directory = scratch.base + "/x-" + name
            XCTAssertEqual(try shell("dpkg-deb", ["-x", deb, directory]).status, 0)
            _ = try root.commit(directory: directory, name: name, version: version)
            extracted.append(directory)
        }
        try root.install(["busybox-static", "libc6", "hello"], command: "test")

        var compared = 0
        for directory in extracted {
            for relative in try FileManager.default.subpathsOfDirectory(atPath: directory) {
                try compare(directory + "/" + relative, deployedPath(rootPath, relative))
                compared += 1
            }
        }
        XCTAssertGreaterThan(compared, 300)
        XCTAssertEqual(try root.verify(), [])

        XCTAssertEqual(try shell("chroot", [rootPath, "/bin/busybox", "echo", "busybox runs"]).output, "busybox runs\n")
        XCTAssertEqual(try shell("chroot", [rootPath, "/usr/bin/hello"]).output, "Hello, world!\n",
                       "hello finds libc through /lib64 → usr/lib64 → lib")
    }

    /// Where dpkg's path lands in a Conary root: /etc travels as /usr/etc; the merged-/usr
    /// links in the root (bin, lib, lib64 → usr/…) resolve the rest.
    private func deployedPath(_ root: String, _ relative: String) -> String {
        relative == "etc" || relative.hasPrefix("etc/") ? root + "/usr/" + relative : root + "/" + relative
    }

    private func compare(_ source: String, _ deployed: String) throws {
        let expected = try XCTUnwrap(lstatOf(source))
        guard var actual = lstatOf(deployed) else { return XCTFail("missing \(deployed)") }
        if expected.st_mode & S_IFMT == S_IFDIR {
            // A directory may have become a merged-/usr link to one (/bin → usr/bin).
            XCTAssertEqual(stat(deployed, &actual), 0, deployed)
        }
        XCTAssertEqual(expected.st_mode & S_IFMT, actual.st_mode & S_IFMT, deployed)
        switch expected.st_mode & S_IFMT {
        case S_IFREG:
            XCTAssertEqual(actual.st_mode & 0o7777, expected.st_mode & 0o7555, "\(deployed) mode")
            XCTAssertEqual(try digest(source), try digest(deployed), "\(deployed) content")
        case S_IFLNK:
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: deployed),
                           try FileManager.default.destinationOfSymbolicLink(atPath: source), deployed)
        default:
            break
        }
    }

    private func digest(_ path: String) throws -> String {
        SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path))).map { String(format: "%02x", $0) }.joined()
    }
}
