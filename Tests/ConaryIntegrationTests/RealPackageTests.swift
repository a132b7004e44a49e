@testable import ConaryDatabase
@testable import ConaryOperations
import Crypto
import Foundation
import ConaryTestSupport
import XCTest

/// Real Debian packages (apt-get download, cached in fixtures-cache/) imported straight from
/// the .deb and deployed: the result must match what dpkg -x produces, path by path.
final class RealPackageTests: XCTestCase {
    private var scratch: Scratch!
    private var rootPath: String!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
        rootPath = try scratch.root()
    }

    /// hello and busybox-static from the store; the resolver brings libc6 and what libc6 needs.
    static let closure = ["busybox-static", "libc6", "libgcc-s1", "gcc-12-base", "hello"]

    func testDebsInstallDirectlyAndTheirProgramsRun() throws {
        let debs = try fetchDebs(Self.closure)
        let root = try ConaryRoot(path: rootPath, create: true)
        _ = try root.importPackages(debs)
        let result = try root.install(["busybox-static", "hello"], command: "test")
        let state = try root.state(result.state.id)
        let reasons = Dictionary(state.troves.filter { $0.kind == .package }.map { ($0.name, state.reasons[$0.id!]!.description) }, uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(reasons["hello"], "explicit")
        XCTAssertEqual(reasons["busybox-static"], "explicit")
        XCTAssertEqual(reasons["libc6"], "required by hello")
        XCTAssertEqual(Set(reasons.keys), Set(Self.closure))
        XCTAssertGreaterThan(try compareWithDpkg(debs), 300)
        XCTAssertEqual(try root.verify(), [])
        XCTAssertEqual(try runTool("chroot", [rootPath, "/bin/busybox", "echo", "busybox runs"]).output, "busybox runs\n")
        XCTAssertEqual(try runTool("chroot", [rootPath, "/usr/bin/hello"]).output, "Hello, world!\n",
                       "hello finds libc through /lib64 → usr/lib64 → lib")

        let hello = try root.trove(matching: "hello")
        XCTAssertEqual(hello.format, .deb)
        XCTAssertEqual(hello.sha256?.count, 64)
        let components = try root.database.read { try $0.withComponents(hello) }.map(\.name)
        XCTAssertEqual(components, ["hello", "hello:doc", "hello:locale", "hello:runtime", "hello:supdoc"])
        let requires = try root.database.queue.read {
            try String.fetchAll($0, sql: "SELECT capability || ' ' || coalesce(comparison, '') || ' ' || coalesce(version, '') FROM dependencies WHERE troveId = ? AND relation = 'requires'",
                                arguments: [hello.id])
        }
        XCTAssertTrue(requires.contains { $0.hasPrefix("libc6 >= ") }, "\(requires)")
        let conffiles = try root.database.queue.read {
            try String.fetchAll($0, sql: "SELECT path FROM files WHERE flags & 1 != 0")
        }
        XCTAssertTrue(conffiles.contains("/etc/ld.so.conf.d/x86_64-linux-gnu.conf"), "\(conffiles)")
        let scripts = try root.database.queue.read { try String.fetchAll($0, sql: "SELECT name FROM scriptlets ORDER BY name") }
        XCTAssertTrue(scripts.contains("postinst"), "\(scripts)")
    }

    func testQueriesAnswerOwnershipAndDependencies() throws {
        let debs = try fetchDebs(Self.closure)
        let root = try ConaryRoot(path: rootPath, create: true)
        try root.install(debs, command: "test")
        XCTAssertEqual(try root.owner(ofPath: "/bin/busybox").trove, "busybox-static:runtime=\(try root.installedTrove("busybox-static").version)")
        XCTAssertEqual(try root.owner(ofPath: "/usr/bin/busybox").path, "/bin/busybox", "reparented paths still find their owner")
        XCTAssertTrue(try root.owner(ofPath: "/lib64/ld-linux-x86-64.so.2").trove.hasPrefix("libc6:lib="))
        XCTAssertTrue(try root.owner(ofPath: "/etc/ld.so.conf.d/x86_64-linux-gnu.conf").flags.contains("config"))
        XCTAssertThrowsError(try root.owner(ofPath: "/usr/bin/nothing-here"))
        // libc6 and libgcc-s1 need each other: a real dependency cycle.
        XCTAssertEqual(try root.reverseDependencies("libc6").map(\.name).sorted(), ["hello", "libgcc-s1"])
        XCTAssertEqual(try root.reverseDependencies("libgcc-s1").map(\.name), ["libc6"])
        XCTAssertEqual(try root.whatBreaks("libc6").map(\.name).sorted(), ["hello", "libgcc-s1"])
        XCTAssertEqual(try root.whatBreaks("hello").map(\.name), [])
        XCTAssertThrowsError(try root.remove(["libc6"], command: "t")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("hello=2.10-3 (needs libc6 (>= 2.34)"), text)
            XCTAssertTrue(text.contains("libgcc-s1="), text)
        }
        // Only libc6:lib ships libc.so.6, so removing that component alone breaks hello's binary.
        XCTAssertThrowsError(try root.remove(["libc6:lib"], command: "t")) { error in
            XCTAssertTrue("\(error)".contains("hello=2.10-3 (needs soname(libc.so.6)(64bit))"), "\(error)")
        }
        XCTAssertEqual(try root.remove(["libc6:supdoc", "hello:supdoc"], command: "t").summary, "remove libc6:supdoc, hello:supdoc")
        XCTAssertEqual(try root.whatProvides("libc6").map(\.name), ["libc6"])
        XCTAssertEqual(try root.whatProvides("/usr/bin/hello").map(\.name), ["hello:runtime"])
        XCTAssertEqual(try root.whatProvides("file(/usr/bin/hello)").map(\.name), ["hello:runtime"])
        XCTAssertEqual(try root.whatProvides("soname(libc.so.6)(64bit)").map(\.name), ["libc6:lib"])
        XCTAssertTrue(try root.info(try root.installedTrove("hello:runtime")).dependencies
            .contains { $0.relation == "requires" && $0.capability == "soname(libc.so.6)(64bit)" })
        let info = try root.info(try root.installedTrove("hello"))
        XCTAssertEqual(info.components, ["hello:doc", "hello:locale", "hello:runtime", "hello:supdoc"])
        XCTAssertTrue(info.installed)
        XCTAssertTrue(try root.files(of: root.installedTrove("hello")).contains { $0.path == "/usr/bin/hello" && $0.trove.hasPrefix("hello:runtime=") })
    }

    func testInstallingOneComponentLeavesTheRestOut() throws {
        let debs = try fetchDebs(Self.closure)
        let root = try ConaryRoot(path: rootPath, create: true)
        _ = try root.importPackages(debs)
        try root.install(["hello:runtime"], command: "test")
        XCTAssertEqual(Set(try root.installedTroves().map(\.packageName)), ["hello", "libc6", "libgcc-s1", "gcc-12-base"],
                       "the component brings its package's requirements, not busybox")
        XCTAssertEqual(try runTool("chroot", [rootPath, "/usr/bin/hello"]).output, "Hello, world!\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/usr/share/doc/hello"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/usr/share/man/man1/hello.1.gz"))
        try root.install(["hello"], command: "test")
        XCTAssertTrue(FileManager.default.fileExists(atPath: rootPath + "/usr/share/man/man1/hello.1.gz"))
        try root.remove(["hello:doc"], command: "test")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/usr/share/man/man1/hello.1.gz"))
        try root.remove(["hello"], command: "test")
        XCTAssertFalse(FileManager.default.fileExists(atPath: rootPath + "/usr/bin/hello"))
        XCTAssertEqual(try root.state(try root.activeState()!.id).troves.map(\.packageName).filter { $0 == "hello" }, [])
    }

    /// The corpus: Debian 12's required and important packages and their dependencies as apt
    /// resolves them (159 packages), deployed as one state.
    func testCorpusDeploysAsOneStateLikeDpkg() throws {
        let names = try String(contentsOfFile: packageRoot + "/Tests/Fixtures/debian-corpus.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let debs = try fetchDebs(names, cache: "corpus")
        XCTAssertGreaterThanOrEqual(debs.count, 100)
        let root = try ConaryRoot(path: rootPath, create: true)
        let result = try root.install(debs, resolving: false, command: "test")
        XCTAssertEqual(try root.state(result.state.id).troves.filter { $0.kind == .package }.count, debs.count)
        XCTAssertGreaterThan(try compareWithDpkg(debs), 10_000)
        XCTAssertEqual(try root.verify(), [])
    }

    /// Resolution over real Debian metadata: the corpus published as a repository with a
    /// Packages index. Debian's required and important packages from an empty system must
    /// come out as apt-get -s picks them; then one program is installed from the index, which
    /// downloads only the package files it needs, and runs.
    func testCorpusIndexResolvesLikeAptAndInstallsFromIt() throws {
        let names = try String(contentsOfFile: packageRoot + "/Tests/Fixtures/debian-corpus.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let debs = try fetchDebs(names, cache: "corpus")
        let repository = try publishRepository(debs, in: scratch.base + "/mirror")
        let root = try ConaryRoot(path: rootPath, create: true)
        try root.addRepository(name: "corpus", url: "file://" + repository)
        XCTAssertEqual(try root.sync().first?.indexed, debs.count)
        let seeds = try debs.filter { ["required", "important"].contains(try runTool("dpkg-deb", ["-f", $0, "Priority"]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)) }
            .map { try runTool("dpkg-deb", ["-f", $0, "Package"]).output.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertGreaterThan(seeds.count, 50)
        let plan = try root.planInstall(seeds, recommends: false)
        let ours = Set(plan.added.map { String($0.prefix { $0 != "=" }) })
        XCTAssertEqual(ours, try aptSimulation(seeds, repository: repository))
        XCTAssertEqual(plan.downloads.count, ours.count)
        XCTAssertEqual(try root.troves().count, 0, "planning downloads nothing")

        // The dry run a user reads: the headline (and the state's summary) names what was
        // asked for, each download its repository, and the tree grows by what the packages
        // unpack to (Installed-Size), not by their file sizes.
        let gzipPlan = try root.planInstall(["gzip"], recommends: false)
        XCTAssertTrue(gzipPlan.summary.hasPrefix("install gzip=") && gzipPlan.summary.hasSuffix("dependencies"), gzipPlan.summary)
        XCTAssertEqual(gzipPlan.added.filter { !$0.contains(" [corpus]") }, [])
        let unpacked = try gzipPlan.downloads.reduce(Int64(0)) { total, download in
            total + 1024 * (Int64(try runTool("dpkg-deb", ["-f", repository + "/" + download.filename, "Installed-Size"]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
        }
        XCTAssertEqual(gzipPlan.treeGrowth, unpacked)
        XCTAssertGreaterThan(gzipPlan.treeGrowth, gzipPlan.downloadBytes)
        let result = try root.install(["gzip"], recommends: false, command: "t")
        XCTAssertEqual(result.summary, gzipPlan.summary)
        let installed = Set(try root.state(result.state.id).troves.filter { $0.kind == .package }.map(\.name))
        XCTAssertEqual(installed, try aptSimulation(["gzip"], repository: repository))
        XCTAssertEqual(Set(try root.troves().filter { $0.kind == .package }.map(\.name)), installed, "only the picked files were downloaded")
        XCTAssertTrue(try runTool("chroot", [rootPath, "/bin/gzip", "--version"]).output.hasPrefix("gzip "))
    }

    /// Unpacks each package with dpkg -x and checks every path against the deployed root.
    private func compareWithDpkg(_ debs: [String]) throws -> Int {
        var compared = 0
        for (index, deb) in debs.enumerated() {
            let directory = scratch.base + "/dpkg-\(index)"
            XCTAssertEqual(try runTool("dpkg-deb", ["-x", deb, directory]).status, 0, deb)
            for relative in try FileManager.default.subpathsOfDirectory(atPath: directory) {
                // Directories outside /usr (/var/cache/apt, /tmp, …) belong to the machine, not to a state.
                let top = String(relative.split(separator: "/")[0])
                if !Self.stateTops.contains(top) {
                    XCTAssertEqual(lstatOf(directory + "/" + relative).map { $0.st_mode & S_IFMT }, S_IFDIR,
                                   "\(relative) outside /usr must be a directory, or the import would have failed")
                    continue
                }
                try compare(directory + "/" + relative, deployedPath(relative))
                compared += 1
            }
            try FileManager.default.removeItem(atPath: directory)
        }
        return compared
    }

    private static let stateTops: Set<String> = ["usr", "etc", "bin", "sbin", "lib", "lib64"]

    /// Where dpkg's path lands in a Conary root: /etc travels as /usr/etc; the merged-/usr
    /// links in the root (bin, lib, lib64 → usr/…) resolve the rest.
    private func deployedPath(_ relative: String) -> String {
        relative == "etc" || relative.hasPrefix("etc/") ? rootPath + "/usr/" + relative : rootPath + "/" + relative
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
