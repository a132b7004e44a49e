@testable import ConaryOperations
import ConaryTestSupport
import ConaryVersions
import XCTest

/// install, update, remove and autoremove over real packages built by dpkg-deb
/// (Tests/Fixtures/make-dependency-set.sh) and rpmbuild (make-rpm-dependency-set.sh).
///
/// The Debian set: libcore 1.0-1/1.5-1; liba 1.0-1/2.0-1/3.0~beta1-1 (needs libcore);
/// libb (needs libcore: a diamond under app); app 1.0-1 (liba >= 1.0, libb) and 2.0-1
/// (liba >= 2.0, libb, mail-transport-agent); postfix-lite and exim-lite both provide and
/// conflict with mail-transport-agent; newtool conflicts with and replaces oldtool; rival
/// conflicts with app (>= 2.0); cyc-a and cyc-b need each other; broken-app needs a package
/// nobody ships; needs-new-core needs libcore (>= 2.0); needs-core15 needs libcore (>= 1.5);
/// lib32-like conflicts with libx32-like:i386 and libx32-like with lib32-like:x32;
/// any-user needs libcore:any (>= 1.5); archlib is built for amd64 and provides archlib-api,
/// i386lib is built for i386; arch-user needs archlib:amd64 (>= 1.0), archlib-api:amd64 and
/// i386lib:i386, wrong-arch-user needs archlib:i386.
final class DependencyResolutionTests: XCTestCase {
    private var scratch: Scratch!
    private var root: ConaryRoot!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
        let built = try runTool(packageRoot + "/Tests/Fixtures/make-dependency-set.sh", [scratch.base + "/debs"])
        guard built.status == 0 else { throw XCTSkip("SKIPPED: dpkg-deb could not build the dependency test set.") }
        root = try ConaryRoot(path: try scratch.root(), create: true)
        _ = try root.importPackages(built.output.split(separator: "\n").map(String.init))
    }

    private func installed() throws -> [String: String] {
        Dictionary(uniqueKeysWithValues: try root.installedTroves().filter { $0.kind == .package }.map { ($0.name, $0.version) })
    }

    private func reasons() throws -> [String: String] {
        let state = try root.state(try root.activeState()!.id)
        return Dictionary(uniqueKeysWithValues: state.troves.filter { $0.kind == .package }.map { ($0.name, state.reasons[$0.id!]!.description) })
    }

    private func assertRefused(_ body: @autoclosure () throws -> Any, mentions fragments: [String], line: UInt = #line) {
        XCTAssertThrowsError(try body(), line: line) { error in
            for fragment in fragments { XCTAssertTrue("\(error)".contains(fragment), "\(fragment) not in: \(error)", line: line) }
        }
    }

    func testInstallPullsTheNewestSatisfyingVersionsThroughTheDiamond() throws {
        let result = try root.install(["app"], command: "t")
        var versions = try installed()
        // 3.0~beta1 sorts after 2.0 in dpkg's order, and it needs libcore >= 1.5.
        XCTAssertEqual(versions.removeValue(forKey: "app"), "2.0-1")
        XCTAssertEqual(versions.removeValue(forKey: "liba"), "3.0~beta1-1")
        XCTAssertEqual(versions.removeValue(forKey: "libb"), "1.0-1")
        XCTAssertEqual(versions.removeValue(forKey: "libcore"), "1.5-1")
        // Exactly one provider of the virtual package: the two conflict.
        XCTAssertEqual(versions.count, 1)
        XCTAssertTrue(["postfix-lite", "exim-lite"].contains(versions.keys.first!), "\(versions)")
        let why = try reasons()
        XCTAssertEqual(why["app"], "explicit")
        XCTAssertEqual(why["liba"], "required by app")
        XCTAssertEqual(why["libb"], "required by app")
        XCTAssertTrue(["required by liba", "required by libb"].contains(why["libcore"]!), why["libcore"]!)
        XCTAssertEqual(result.summary, "install app=2.0-1 and 4 dependencies", "the summary names what was asked for")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.path + "/usr/share/libcore/VERSION"))
    }

    func testAnOlderVersionAsksOnlyForWhatItNeeds() throws {
        try root.install(["app=1.0-1"], command: "t")
        let versions = try installed()
        XCTAssertEqual(versions, ["app": "1.0-1", "liba": "3.0~beta1-1", "libb": "1.0-1", "libcore": "1.5-1"])
    }

    func testUpdateMovesToNewestVersionsThatFitAndRespectsPins() throws {
        try root.install(["app=1.0-1", "liba=1.0-1", "libcore=1.0-1"], command: "t")
        XCTAssertEqual(try installed()["libcore"], "1.0-1")
        // Pinned liba stays at 1.0-1, so app cannot reach 2.0-1 (it needs liba >= 2.0):
        // update takes what fits instead of failing.
        try root.pinTrove("liba", true)
        let plan = try root.planUpdate([])
        XCTAssertEqual(plan.updated, ["libcore 1.0-1 → 1.5-1"])
        try root.apply(plan, command: "t")
        try root.pinTrove("liba", false)
        let update = try root.update([], command: "t")
        XCTAssertEqual(Set(update.summary.components(separatedBy: "; ")).count, 2, update.summary)
        let versions = try installed()
        XCTAssertEqual(versions["app"], "2.0-1")
        XCTAssertEqual(versions["liba"], "3.0~beta1-1")
        XCTAssertEqual(versions.count, 5, "the new app pulled in a mail transport agent: \(versions)")
        let why = try reasons()
        XCTAssertEqual(why["app"], "explicit", "an update keeps the reason of what it replaces")
        XCTAssertEqual(why["liba"], "explicit")
        XCTAssertThrowsExactly(ConaryError.nothingToDo("Nothing to update: every trove is at its newest version."), try root.update([], command: "t"))
    }

    /// apt's qualifiers on a request: `:any`, `:native` and the native architecture name the
    /// package itself; another architecture's build is refused in one sentence, changing nothing.
    func testArchitectureQualifiersNameTheNativeBuildAndForeignOnesAreRefused() throws {
        assertRefused(try root.install(["libb:i386"], command: "t"),
                      mentions: ["libb:i386 asks for the i386 build", "foreign architectures (dpkg --add-architecture) are not supported yet"])
        XCTAssertNil(try root.activeState(), "a refused request changes nothing")
        try root.install(["libcore:any=1.0-1", "libb:native", "liba:\(Flavor.hostDebianArchitecture)=1.0-1"], recommends: false, command: "t")
        XCTAssertEqual(try installed(), ["libcore": "1.0-1", "libb": "1.0-1", "liba": "1.0-1"])
    }

    func testUnsatisfiableRequestsExplainWhatIsMissingAndWhoNeedsIt() throws {
        assertRefused(try root.install(["broken-app"], command: "t"),
                      mentions: ["broken-app=1.0-1 needs libmissing (>= 1), which nothing available provides."])
        assertRefused(try root.install(["needs-new-core"], command: "t"),
                      mentions: ["needs-new-core=1.0-1 needs libcore (>= 2.0)"])
        XCTAssertNil(try root.activeState(), "a refused request changes nothing")
    }

    func testVersionedRequirementsGuardDowngradesAndConflicts() throws {
        try root.install(["needs-core15"], command: "t")
        assertRefused(try root.install(["libcore=1.0-1"], command: "t"), mentions: ["needs-core15=1.0-1 needs libcore (>= 1.5)"])
        try root.install(["app=1.0-1"], command: "t")
        // rival conflicts with app >= 2.0 only: app 1.0-1 may stay beside it.
        try root.install(["rival"], command: "t")
        assertRefused(try root.install(["app=2.0-1"], command: "t"), mentions: ["rival=1.0-1 conflicts with app=2.0-1 (app (>= 2.0))"])
        XCTAssertEqual(try installed()["app"], "1.0-1")
    }

    func testConflictsAndReplacesTakesThePackagesPlace() throws {
        try root.install(["oldtool"], command: "t")
        let plan = try root.planInstall(["newtool"])
        XCTAssertEqual(plan.added, ["newtool=1.0-1"])
        XCTAssertEqual(plan.removed, ["oldtool=1.0-1"])
        try root.apply(plan, command: "t")
        XCTAssertEqual(try installed(), ["newtool": "1.0-1"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.path + "/usr/share/oldtool"))
    }

    /// An architecture-qualified conflict names another architecture's package, not the
    /// native one; :any is met by the package of that name.
    func testArchitectureQualifiersNeitherConflictFalselyNorGoUnmet() throws {
        try root.install(["lib32-like", "libx32-like"], command: "t")
        XCTAssertEqual(try installed(), ["lib32-like": "1.0-1", "libx32-like": "1.0-1"])
        try root.install(["any-user"], command: "t")
        XCTAssertEqual(try installed()["libcore"], "1.5-1")
    }

    /// foo:amd64 is met by foo built for amd64 (by its name or a provide) and foo:i386 by foo
    /// built for i386, never by another architecture's build: in the store and in a synced index.
    func testArchitectureQualifiedRequirementsAreMetByThatArchitecturesBuildAlone() throws {
        // A machine that runs both architectures, whatever this one is.
        let multilib = "is: x86_64 x86"
        try Data(multilib.utf8).write(to: URL(fileURLWithPath: root.conaryPath + "/system-flavor"))
        try root.install(["arch-user"], command: "t")
        XCTAssertEqual(try installed(), ["arch-user": "1.0-1", "archlib": "1.0-1", "i386lib": "1.0-1"])
        XCTAssertEqual(try reasons()["archlib"], "required by arch-user")
        assertRefused(try root.install(["wrong-arch-user"], command: "t"),
                      mentions: ["wrong-arch-user=1.0-1 needs archlib:i386, which nothing available provides."])

        let debs = try FileManager.default.contentsOfDirectory(atPath: scratch.base + "/debs").map { scratch.base + "/debs/" + $0 }
        let repository = try publishRepository(debs, in: scratch.base + "/mirror")
        let fresh = try ConaryRoot(path: try scratch.root("indexed"), create: true)
        try Data(multilib.utf8).write(to: URL(fileURLWithPath: fresh.conaryPath + "/system-flavor"))
        try fresh.addRepository(name: "mirror", url: "file://" + repository)
        _ = try fresh.sync()
        XCTAssertEqual(try fresh.planInstall(["arch-user"]).downloads.map(\.spec).sorted(), ["arch-user=1.0-1", "archlib=1.0-1", "i386lib=1.0-1"])
        assertRefused(try fresh.planInstall(["wrong-arch-user"]),
                      mentions: ["wrong-arch-user=1.0-1 needs archlib:i386, which nothing available provides."])
    }

    func testACycleInstallsTogetherAndLeavesTogether() throws {
        try root.install(["cyc-a"], command: "t")
        XCTAssertEqual(try installed(), ["cyc-a": "1.0-1", "cyc-b": "1.0-1"])
        assertRefused(try root.remove(["cyc-b"], command: "t"), mentions: ["cyc-a=1.0-1 (needs cyc-b)"])
        try root.remove(["cyc-a", "cyc-b"], command: "t")
        XCTAssertEqual(try installed(), [:])
    }

    func testRemoveListsDependantsAndAutoremoveDropsWhatIsNoLongerNeeded() throws {
        try root.install(["app=1.0-1"], command: "t")
        try root.install(["oldtool"], command: "t")
        assertRefused(try root.remove(["libcore"], command: "t"),
                      mentions: ["liba=3.0~beta1-1 (needs libcore (>= 1.5))", "libb=1.0-1 (needs libcore)"])
        XCTAssertEqual(try root.whatBreaks("libcore").map(\.name).sorted(), ["liba", "libb"])
        XCTAssertThrowsExactly(ConaryError.nothingToDo("Nothing to remove: every installed trove is explicit or needed by one that is."),
                              try root.autoremove(command: "t"))
        try root.remove(["app"], command: "t")
        let plan = try root.planAutoremove()
        XCTAssertEqual(plan.removed.sorted(), ["liba=3.0~beta1-1", "libb=1.0-1", "libcore=1.5-1"])
        try root.apply(plan, command: "t")
        XCTAssertEqual(try installed(), ["oldtool": "1.0-1"], "explicitly installed troves stay")
    }

    func testDryRunPlansWithoutTouchingAnything() throws {
        let plan = try root.planInstall(["app"])
        XCTAssertEqual(plan.kind, .install)
        XCTAssertEqual(plan.added.count, 5)
        XCTAssertTrue(plan.added.contains("app=2.0-1"))
        XCTAssertGreaterThan(plan.incomingBytes, 0)
        XCTAssertEqual(plan.treeGrowth, plan.incomingBytes)
        XCTAssertNil(try root.activeState())
    }

    func testIndexRepositoryResolvesFirstAndDownloadsOnlyWhatItPicks() throws {
        let debs = try FileManager.default.contentsOfDirectory(atPath: scratch.base + "/debs").map { scratch.base + "/debs/" + $0 }
        let repository = try publishRepository(debs, in: scratch.base + "/mirror")
        let fresh = try ConaryRoot(path: try scratch.root("indexed"), create: true)
        try fresh.addRepository(name: "mirror", url: "file://" + repository)
        XCTAssertEqual(try fresh.sync().first?.indexed, debs.count)
        XCTAssertEqual(try fresh.troves(), [], "a sync of an index downloads nothing")
        XCTAssertEqual(try fresh.search("libcore").map(\.version), ["1.0-1", "1.5-1"])

        let plan = try fresh.planInstall(["app=1.0-1"])
        XCTAssertEqual(plan.downloads.map(\.spec).sorted(), ["app=1.0-1", "liba=3.0~beta1-1", "libb=1.0-1", "libcore=1.5-1"])
        let picked = debs.filter { deb in ["app_1.0", "liba_3.0", "libb_", "libcore_1.5"].contains { deb.contains("/" + $0) } }
        XCTAssertEqual(plan.downloadBytes, try picked.reduce(Int64(0)) { $0 + Int64(try FileManager.default.attributesOfItem(atPath: $1)[.size] as! Int) })
        try fresh.apply(plan, command: "t")
        XCTAssertEqual(Set(try fresh.troves().filter { $0.kind == .package }.map(\.spec)), Set(plan.downloads.map(\.spec)))
        let state = try fresh.state(try fresh.activeState()!.id)
        XCTAssertEqual(state.troves.filter { $0.name == "liba" }.map { state.reasons[$0.id!]?.description }, ["required by app"])
        XCTAssertEqual(try fresh.verify(), [])

        // A package file that changed after the sync (same size, one byte different) is
        // refused before it is read as a package.
        let oldtool = repository + "/oldtool_1.0-1_all.deb"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: oldtool))
        bytes[bytes.count - 1] ^= 0xff
        try FileManager.default.removeItem(atPath: oldtool)
        try bytes.write(to: URL(fileURLWithPath: oldtool))
        XCTAssertThrowsError(try fresh.install(["oldtool"], command: "t")) { error in
            XCTAssertTrue("\(error)".contains("oldtool_1.0-1_all.deb in repository mirror does not match its index (SHA-256)"), "\(error)")
        }
        XCTAssertEqual(try fresh.troves().filter { $0.name == "oldtool" }, [], "nothing of it was imported")
        XCTAssertEqual(try fresh.activeState()?.id, state.state.id)
        XCTAssertFalse(FileManager.default.fileExists(atPath: fresh.path + "/conary/downloads"))
    }

    func testRPMVersionRangesObsoletesAndFileRequirementsThroughMergedUsr() throws {
        let built = try runTool(packageRoot + "/Tests/Fixtures/make-rpm-dependency-set.sh", [scratch.base + "/rpms"])
        guard built.status == 0 else { throw XCTSkip("SKIPPED: rpmbuild could not build the rpm dependency set.") }
        _ = try root.importPackages(built.output.split(separator: "\n").map(String.init))
        // rpmbuild made rpm-helper's script require /bin/sh; a tree ships it as /usr/bin/sh.
        _ = try root.commit(directory: try scratch.tree("sh", ["usr/bin/sh": "#!shell"]), name: "shell", version: "1")
        try root.install(["rpm-app-legacy", "rpm-lib=1.0-1", "shell"], command: "t")
        let plan = try root.planInstall(["rpm-app"])
        // rpm-lib >= 1.1 (no release named: 1.1-1 fits), /bin/rpm-helper (shipped as
        // /usr/bin/rpm-helper), and rpm-app-legacy < 3 is obsoleted.
        XCTAssertEqual(plan.added.sorted(), ["rpm-app=2.0-1", "rpm-helper=2.0-1 (required by rpm-app)"])
        XCTAssertEqual(plan.updated, ["rpm-lib 1.0-1 → 1.1-1"])
        XCTAssertEqual(plan.removed, ["rpm-app-legacy=2.0-1"])
        try root.apply(plan, command: "t")
        XCTAssertEqual(try installed(), ["rpm-app": "2.0-1", "rpm-helper": "2.0-1", "rpm-lib": "1.1-1", "shell": "1"])
        XCTAssertEqual(try runTool("cat", [root.path + "/bin/rpm-helper"]).status, 0)
    }
}
