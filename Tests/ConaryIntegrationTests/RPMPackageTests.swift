@testable import ConaryFormats
@testable import ConaryOperations
import ConaryTestSupport
import XCTest

/// RPMs built by Debian's rpmbuild from Tests/Fixtures/rpm/conary-hello.spec.
final class RPMPackageTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
    }

    private func build(_ compressor: String) throws -> String {
        let result = try runTool(packageRoot + "/Scripts/build-rpm-fixture.sh", [scratch.base + "/rpm", compressor])
        guard result.status == 0, let path = result.output.split(separator: "\n").last else {
            throw XCTSkip("SKIPPED: rpmbuild (Debian's rpm package) could not build the test RPM.")
        }
        return String(path)
    }

    func testGzipXzAndZstdPayloadsInstallWithMetadata() throws {
        for compressor in ["gzip", "xz", "zstd"] {
            let root = try ConaryRoot(path: try scratch.root(compressor), create: true)
            try root.install([try build(compressor)], resolving: false, command: "t")
            XCTAssertEqual(readFile(root.path + "/usr/bin/conary-hello"), "#!/bin/sh\necho hello from rpm\n", compressor)
            XCTAssertEqual(lstatOf(root.path + "/usr/bin/empty-tool").map { $0.st_mode & 0o7777 }, 0o4555, "setuid kept from %attr")
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: root.path + "/usr/bin/chello"), "conary-hello")
            XCTAssertFalse(FileManager.default.fileExists(atPath: root.path + "/var/log/conary-hello.log"), "%ghost files are not shipped")
            let trove = try root.installedTrove("conary-hello")
            XCTAssertEqual(trove.version, "2:1.0-3")
            XCTAssertEqual(trove.format, .rpm)
            let info = try root.info(trove)
            XCTAssertEqual(info.components, ["conary-hello:config", "conary-hello:runtime", "conary-hello:supdoc"])
            XCTAssertEqual(info.scriptlets, ["postin"])
            let relations = Set(info.dependencies.map { "\($0.relation) \($0.capability) \($0.comparison ?? "") \($0.version ?? "")" })
            XCTAssertTrue(relations.isSuperset(of: ["requires glibc >= 2.34", "provides hello-greeting = 1.0",
                                                    "conflicts other-hello < 2", "obsoletes old-hello < 1.0"]), "\(relations)")
            XCTAssertFalse(relations.contains { $0.contains("rpmlib(") })
            XCTAssertEqual(try root.owner(ofPath: "/etc/conary-hello.conf").flags, ["config", "noreplace"])
            XCTAssertEqual(try root.owner(ofPath: "/usr/share/doc/conary-hello/README").flags, ["doc"])
            XCTAssertEqual(trove.license, "MIT")
            let ghost = try root.files(of: trove).first { $0.path == "/var/log/conary-hello.log" }
            XCTAssertEqual(ghost?.flags, ["ghost"], "%ghost files are recorded, flagged, not deployed")
            XCTAssertEqual(try root.verify(), [])
        }
    }

    func testTamperedHeaderAndPayloadAreRefused() throws {
        let original = try Array(Data(contentsOf: URL(fileURLWithPath: try build("gzip"))))
        let lead = 96
        // A byte inside the main header's data (its name string), then the payload's last byte.
        let nameOffset = original.indices.dropFirst(lead + 200).first { original[$0...].starts(with: Array("conary-hello".utf8)) }!
        for (label, offset, expected) in [("header", nameOffset, "the main header"), ("payload", original.count - 1, "damaged")] {
            var bytes = original
            bytes[offset] ^= 0x20
            let path = scratch.base + "/\(label).rpm"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let root = try ConaryRoot(path: try scratch.root(label), create: true)
            XCTAssertThrowsError(try root.install([path], command: "t"), label) { error in
                XCTAssertTrue("\(error)".hasPrefix("\(label).rpm "), "\(error)")
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
            XCTAssertEqual(try root.troves().count, 0, label)
        }
    }
}

final class RPMHeaderTests: XCTestCase {
    private func header(entries: [(tag: UInt32, type: UInt32, offset: UInt32, count: UInt32)], data: [UInt8]) -> [UInt8] {
        func be(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }
        var bytes = RPMHeader.magic + [0, 0, 0, 0] + be(UInt32(entries.count)) + be(UInt32(data.count))
        for entry in entries { bytes += be(entry.tag) + be(entry.type) + be(entry.offset) + be(entry.count) }
        return bytes + data
    }

    func testValuesDecode() throws {
        let data = Array("conary\0a\0b\0".utf8) + [0, 0, 0, 7]
        let parsed = try RPMHeader(header(entries: [(1000, 6, 0, 1), (1117, 8, 7, 2), (1003, 4, 11, 1)], data: data)[...], package: "p")
        XCTAssertEqual(parsed.string(1000), "conary")
        XCTAssertEqual(parsed.strings(1117), ["a", "b"])
        XCTAssertEqual(parsed.integers(1003), [7])
    }

    /// Found by `make fuzz`: an empty string entry pointing past the data used to trap.
    func testEntriesOutsideTheDataAreErrorsNotCrashes() {
        XCTAssertThrowsError(try RPMHeader(header(entries: [(1000, 6, 5, 0)], data: [])[...], package: "p"))
        XCTAssertThrowsError(try RPMHeader(header(entries: [(1000, 6, 0, 1)], data: Array("no end".utf8))[...], package: "p"))
        XCTAssertThrowsError(try RPMHeader(header(entries: [(1003, 4, 2, 1)], data: [0, 0, 0])[...], package: "p"))
        XCTAssertThrowsError(try RPMHeader(header(entries: [(1117, 8, 0, 1_000_000)], data: [0])[...], package: "p"))
        XCTAssertThrowsError(try RPMHeader(Array(header(entries: [(1000, 6, 0, 1)], data: [0]).dropLast(2))[...], package: "p"))
    }
}

/// Thousands of corrupted copies of real packages of every format: each import must end in a
/// package error (or succeed), never crash, and never leave half an import behind.
final class PackageMutationTests: XCTestCase {
    private struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    func testMutatedPackagesFailCleanly() throws {
        try requireRoot()
        let scratch = try Scratch()
        var seeds: [String] = []
        if let rpm = try? runTool(packageRoot + "/Scripts/build-rpm-fixture.sh", [scratch.base + "/seeds", "xz"]).output
            .split(separator: "\n").last { seeds.append(String(rpm)) }
        if let arch = try? runTool(packageRoot + "/Scripts/build-arch-fixture.sh", [scratch.base + "/seeds", ".pkg.tar.zst"]).output
            .split(separator: "\n").last(where: { $0.hasSuffix(".zst") }) { seeds.append(String(arch)) }
        seeds += (try? fetchDebs(["hello"])) ?? []
        let ccsTree = try scratch.tree("ccs", ["usr/bin/a": "alpha", "usr/share/b": "beta", "usr/bin/c": "->a"])
        _ = try CCSPackage.generateKeys(prefix: scratch.base + "/key")
        let ccs = scratch.base + "/seeds/a.ccs"
        _ = try CCSPackage.build(directory: ccsTree, output: ccs, metadata: .init(name: "a", version: "1"),
                                 secretKey: try CCSPackage.readKey(scratch.base + "/key.secret", bytes: 64))
        seeds.append(ccs)
        guard !seeds.isEmpty else { throw XCTSkip("SKIPPED: no seed packages could be built or downloaded.") }

        let root = try ConaryRoot(path: try scratch.root(), create: true)
        try root.trust(publicKey: CCSSigning.hex(try CCSPackage.readKey(scratch.base + "/key.pub", bytes: 32)))
        var random = Random(state: 42)
        var refused = 0
        for seed in seeds {
            let original = try Array(Data(contentsOf: URL(fileURLWithPath: seed)))
            for round in 0..<300 {
                var bytes = original
                if round % 5 == 0 {
                    bytes.removeLast(random.next(bytes.count))
                } else {
                    for _ in 0...random.next(8) { bytes[random.next(bytes.count)] ^= UInt8(1 + random.next(255)) }
                }
                let path = scratch.base + "/mutant-\(round)-" + (seed as NSString).lastPathComponent
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                do {
                    _ = try root.importPackages([path])
                } catch is PackageError {
                    refused += 1
                } catch let error as ConaryError {
                    XCTFail("\(path): expected a package error, got \(error)")
                }
                unlink(path)
                XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: root.store.path).contains { $0.hasPrefix(".incoming") })
            }
        }
        XCTAssertGreaterThan(refused, seeds.count * 150, "most mutations must be caught")
    }
}
