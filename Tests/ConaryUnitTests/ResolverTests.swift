@testable import ConaryModel
@testable import ConaryResolve
@testable import ConaryVersions
import ConaryTestSupport
import Foundation
import XCTest

/// The resolver over an in-memory catalog: no database, no package files, no root.
/// The same questions the install, update, autoremove and remove commands ask, on catalogs
/// written out here as troves and relations.
final class ResolverTests: XCTestCase {
    /// A catalog under construction: troves get ids in the order they are added.
    private struct Catalog {
        var troves: [Trove] = []
        var memberships: [(package: Int64, component: Int64)] = []
        var relations: [Int64: [Dependency]] = [:]
        var indexed: [ResolverCatalog.IndexedPackage] = []
        var fileOwners: [String: [Int64]] = [:]

        /// Adds a package with one :runtime component; `relations` are written as the package
        /// declares them ("requires libc6 >= 2.36", "requires a | b", "provides mta", "conflicts x << 2").
        @discardableResult
        mutating func add(_ name: String, _ version: String, format: PackageFormat = .deb, flavor: String = "", _ relations: [String] = []) -> Trove {
            let package = Trove(id: Int64(troves.count + 1), name: name, version: version, kind: .package, format: format,
                                source: "test", created: Date(timeIntervalSince1970: 0), flavor: flavor)
            troves.append(package)
            let component = Trove(id: Int64(troves.count + 1), name: name + ":runtime", version: version, kind: .component, format: format,
                                  source: "test", created: Date(timeIntervalSince1970: 0), flavor: flavor)
            troves.append(component)
            memberships.append((package.id!, component.id!))
            self.relations[package.id!] = relations.flatMap(ResolverTests.parse)
            return package
        }

        func resolverCatalog() -> ResolverCatalog {
            var catalog = ResolverCatalog(TroveCatalog(troves: troves, memberships: memberships, relations: relations), indexed: indexed)
            catalog.fileOwners = fileOwners
            return catalog
        }

        /// Adds an entry of a synced index (not in the store), with Debian's ranking fields.
        mutating func index(_ name: String, _ version: String, priority: String = "optional", essential: Bool = false, _ relations: [String] = []) {
            let entry = IndexEntry(name: name, version: version, architecture: "amd64", filename: "pool/\(name).deb", size: 100,
                                   sha256: String(repeating: "a", count: 64), summary: nil, relationFields: "", priority: priority,
                                   essential: essential)
            indexed.append(.init(entry: entry, relations: relations.flatMap(ResolverTests.parse),
                                 download: PackageDownload(repository: "main", url: "file:///repo", filename: entry.filename, size: 100,
                                                           sha256: entry.sha256, spec: "\(name)=\(version)")))
        }

        func members(_ packages: [Trove]) -> [Trove] {
            packages.flatMap { package in [package] + troves.filter { $0.name == package.name + ":runtime" && $0.version == package.version } }
        }
    }

    /// "requires a (>= 1) | b" → two alternatives of one requirement; numbers group alternatives per line.
    private static var nextGroup = 0
    private static func parse(_ line: String) -> [Dependency] {
        let words = line.split(separator: " ", maxSplits: 1).map(String.init)
        let relation = Dependency.Relation(rawValue: words[0])!
        nextGroup += 1
        return words[1].components(separatedBy: " | ").map { alternative in
            let parts = alternative.split(separator: " ").map(String.init)
            return Dependency(relation: relation, capability: parts[0], comparison: parts.count == 3 ? parts[1] : nil,
                              version: parts.count == 3 ? parts[2] : nil, alternative: nextGroup)
        }
    }

    private let system = try! Flavor("is: x86_64")

    private func resolver(_ catalog: Catalog, installed: [Trove] = []) throws -> Resolver {
        Resolver(try ResolverUniverse.load(active: catalog.members(installed), store: system, catalog: catalog.resolverCatalog(),
                                           layout: .standard))
    }

    private func specs(_ resolver: Resolver, _ units: [Int]) -> [String] {
        units.map { resolver.units[$0].spec }.sorted()
    }

    private func unit(_ resolver: Resolver, _ spec: String) throws -> Int {
        try XCTUnwrap(resolver.units.indices.first { resolver.units[$0].spec == spec }, "no unit \(spec)")
    }

    func testInstallPullsTheNewestVersionThatFitsInDpkgOrderAndSaysWhy() throws {
        var catalog = Catalog()
        catalog.add("libcore", "1.0-1")
        catalog.add("libcore", "1.5-1")
        catalog.add("liba", "2.0-1", ["requires libcore"])
        catalog.add("liba", "3.0~beta1-1", ["requires libcore >= 1.5"])
        catalog.add("app", "1.0-1", ["requires liba >= 2.0"])
        let resolver = try resolver(catalog)
        let app = try unit(resolver, "app=1.0-1")
        let outcome = try resolver.install([app], locked: [])
        // 3.0~beta1 sorts after 2.0 in dpkg's order, and it needs libcore >= 1.5.
        XCTAssertEqual(specs(resolver, outcome.installed), ["app=1.0-1", "liba=3.0~beta1-1", "libcore=1.5-1"])
        let liba = try unit(resolver, "liba=3.0~beta1-1")
        XCTAssertEqual(outcome.requiredBy[liba].map { resolver.units[$0].name }, "app")
        XCTAssertEqual(resolver.units[app].troves.map(\.name), ["app", "app:runtime"], "a package unit deploys its components")
    }

    func testUnsatisfiableRequestsExplainThemselves() throws {
        var catalog = Catalog()
        catalog.add("libcore", "1.0-1")
        catalog.add("broken-app", "1.0-1", ["requires libmissing >= 1"])
        catalog.add("needs-new-core", "1.0-1", ["requires libcore >= 2.0"])
        catalog.add("rival", "1.0-1", ["conflicts libcore"])
        let resolver = try resolver(catalog, installed: [catalog.troves[0]])
        XCTAssertThrowsExactly(ResolutionError.unresolvable(action: "install", reasons: [
            "broken-app=1.0-1 needs libmissing (>= 1), which nothing available provides.",
        ]), try resolver.install([try unit(resolver, "broken-app=1.0-1")], locked: []))
        XCTAssertThrowsError(try resolver.install([try unit(resolver, "needs-new-core=1.0-1")], locked: [])) { error in
            XCTAssertTrue("\(error)".contains("needs-new-core=1.0-1 needs libcore (>= 2.0), which nothing available provides "
                                              + "at a version that fits (there is 1.0-1)."), "\(error)")
        }
        XCTAssertThrowsError(try resolver.install([try unit(resolver, "rival=1.0-1")], locked: [try unit(resolver, "libcore=1.0-1")])) { error in
            XCTAssertTrue("\(error)".contains("rival=1.0-1 conflicts with libcore=1.0-1 (libcore)"), "\(error)")
        }
    }

    func testUpdateMovesToTheNewestVersionButAPinHoldsItsDependants() throws {
        var catalog = Catalog()
        let liba1 = catalog.add("liba", "1.0-1")
        catalog.add("liba", "2.0-1")
        let app1 = catalog.add("app", "1.0-1", ["requires liba >= 1.0"])
        catalog.add("app", "2.0-1", ["requires liba >= 2.0"])
        let resolver = try resolver(catalog, installed: [app1, liba1])
        XCTAssertEqual(specs(resolver, try resolver.update([], locked: []).installed), ["app=2.0-1", "liba=2.0-1"])
        // Pinned liba stays at 1.0-1, so app cannot reach 2.0-1.
        let pinned = try unit(resolver, "liba=1.0-1")
        XCTAssertEqual(specs(resolver, try resolver.update([], locked: [pinned]).installed), ["app=1.0-1", "liba=1.0-1"])
    }

    func testAutoremoveFindsWhatNothingExplicitNeeds() throws {
        var catalog = Catalog()
        let core = catalog.add("libcore", "1.0-1")
        let liba = catalog.add("liba", "1.0-1", ["requires libcore"])
        let orphan = catalog.add("orphan", "1.0-1")
        let app = catalog.add("app", "1.0-1", ["requires liba"])
        let resolver = try resolver(catalog, installed: [core, liba, orphan, app])
        let explicit = [try unit(resolver, "app=1.0-1")]
        XCTAssertEqual(specs(resolver, resolver.unneeded(explicit: explicit)), ["orphan=1.0-1"])
    }

    func testFirstAlternativeWinsAndAVirtualPackageIsMetByItsProvider() throws {
        var catalog = Catalog()
        catalog.add("exim4", "4.96-1", ["provides mail-transport-agent", "conflicts mail-transport-agent"])
        catalog.add("postfix", "3.7-1", ["provides mail-transport-agent", "conflicts mail-transport-agent"])
        catalog.add("mailer", "1.0-1", ["requires postfix | exim4"])
        catalog.add("mutt", "2.2-1", ["requires mail-transport-agent"])
        let resolver = try resolver(catalog)
        let outcome = try resolver.install([try unit(resolver, "mailer=1.0-1"), try unit(resolver, "mutt=2.2-1")], locked: [])
        XCTAssertEqual(specs(resolver, outcome.installed), ["mailer=1.0-1", "mutt=2.2-1", "postfix=3.7-1"],
                       "the first alternative is taken, and it also meets the virtual requirement")
        XCTAssertThrowsError(try resolver.install([try unit(resolver, "exim4=4.96-1"), try unit(resolver, "postfix=3.7-1")], locked: []),
                             "two providers that conflict with the virtual package cannot both be installed")
    }

    /// apt decides each requirement on its own: its first alternative wins even where another
    /// package (not installed) lists the alternatives the other way round.
    func testEachRequirementTakesItsOwnFirstAlternative() throws {
        var catalog = Catalog()
        catalog.index("zlib-a", "1.0-1")
        catalog.index("alib", "1.0-1")
        catalog.index("app", "1.0-1", ["requires zlib-a | alib"])
        catalog.index("other", "1.0-1", ["requires alib | zlib-a"])
        let resolver = try resolver(catalog)
        XCTAssertEqual(specs(resolver, try resolver.install([try unit(resolver, "app=1.0-1")], locked: []).installed),
                       ["app=1.0-1", "zlib-a=1.0-1"])
    }

    /// A requirement is met by the package it names, not by a virtual provider of that name
    /// (libelogind0 provides libsystemd0), even one installed for another requirement
    /// (sysvinit-utils provides lsb-base, and apt still installs lsb-base where it is named first).
    func testTheNamedPackageBeatsProvidersOfItsName() throws {
        var catalog = Catalog()
        catalog.index("libsystemd0", "252-1", priority: "optional")
        catalog.index("libelogind0", "252-1", priority: "optional", ["provides libsystemd0 = 252-1", "conflicts libsystemd0"])
        catalog.index("sshd", "9.2-1", ["requires libsystemd0"])
        catalog.index("sysvinit-utils", "3.06-4", priority: "required", essential: true, ["provides lsb-base = 11.1.0"])
        catalog.index("lsb-base", "11.6", ["requires sysvinit-utils >= 3.05-4~"])
        catalog.index("daemon", "1.0-1", ["requires lsb-base >= 3.0-6", "requires sysvinit-utils"])
        let resolver = try resolver(catalog)
        XCTAssertEqual(specs(resolver, try resolver.install([try unit(resolver, "sshd=9.2-1")], locked: []).installed),
                       ["libsystemd0=252-1", "sshd=9.2-1"])
        XCTAssertEqual(specs(resolver, try resolver.install([try unit(resolver, "daemon=1.0-1")], locked: []).installed),
                       ["daemon=1.0-1", "lsb-base=11.6", "sysvinit-utils=3.06-4"])
    }

    /// Providers of a virtual package are ranked as apt's CompareProviders ranks them:
    /// Essential first, then the lower Priority, then the name apt met last.
    func testProvidersOfAVirtualPackageAreRankedLikeApt() throws {
        var catalog = Catalog()
        catalog.index("elogind", "252-1", priority: "optional", ["provides default-logind"])
        catalog.index("systemd", "252-1", priority: "important", ["provides default-logind"])
        // Met last, so apt's tie-break takes it (not the alphabetical order libsolv would use).
        catalog.index("zterm", "1.0-1", priority: "optional", ["provides x-terminal-emulator"])
        catalog.index("aterm", "1.0-1", priority: "optional", ["provides x-terminal-emulator"])
        catalog.index("session", "1.0-1", ["requires default-logind", "requires x-terminal-emulator"])
        catalog.index("busybox-shell", "1.0-1", priority: "optional", ["provides shell"])
        catalog.index("dash", "0.5-1", priority: "required", essential: true, ["provides shell"])
        catalog.index("zsh", "5.9-1", priority: "important", ["provides shell"])
        catalog.index("script", "1.0-1", ["requires shell"])
        let resolver = try resolver(catalog)
        XCTAssertEqual(specs(resolver, try resolver.install([try unit(resolver, "session=1.0-1")], locked: []).installed),
                       ["aterm=1.0-1", "session=1.0-1", "systemd=252-1"])
        XCTAssertEqual(specs(resolver, try resolver.install([try unit(resolver, "script=1.0-1")], locked: []).installed),
                       ["dash=0.5-1", "script=1.0-1"])
    }

    /// Recommendations come by default and say who recommends them; one that cannot be
    /// installed is skipped; `recommends: false` leaves them all out; autoremove keeps them.
    func testRecommendationsComeUnlessLeftOutAndSayWhy() throws {
        var catalog = Catalog()
        catalog.index("docs", "1.0-1")
        catalog.index("helper", "1.0-1", ["requires libmissing"])
        catalog.index("viewer", "1.0-1", ["recommends docs"])
        catalog.index("app", "1.0-1", ["recommends helper | viewer", "recommends absent-thing"])
        let resolver = try resolver(catalog)
        let app = try unit(resolver, "app=1.0-1")
        let outcome = try resolver.install([app], locked: [], recommends: true)
        XCTAssertEqual(specs(resolver, outcome.installed), ["app=1.0-1", "docs=1.0-1", "viewer=1.0-1"],
                       "helper cannot be installed, so viewer meets the recommendation, and viewer's own recommendation comes too")
        XCTAssertEqual(outcome.recommendedBy[try unit(resolver, "viewer=1.0-1")], app)
        XCTAssertEqual(outcome.recommendedBy[try unit(resolver, "docs=1.0-1")], try unit(resolver, "viewer=1.0-1"))
        XCTAssertEqual(specs(resolver, try resolver.install([app], locked: [], recommends: false).installed), ["app=1.0-1"])

        var stored = Catalog()
        let docs = stored.add("docs", "1.0-1")
        let tool = stored.add("tool", "1.0-1", ["recommends docs"])
        let installed = try self.resolver(stored, installed: [docs, tool])
        XCTAssertEqual(installed.unneeded(explicit: [try unit(installed, "tool=1.0-1")]), [],
                       "what an explicit trove recommends is not removed as unneeded (apt keeps it too)")
    }

    /// An installed name is moved to its newest version when a requirement needs it, as apt
    /// would, rather than the walk taking another alternative; and a requested package's
    /// later requirements are still decided apt's way after one that needs the newer version.
    func testAnInstalledNameMovesOnWhenARequirementNeedsItsNewerVersion() throws {
        var catalog = Catalog()
        let oldSSL = catalog.add("libssl", "1.0-1")
        catalog.add("libssl", "1.1-1")
        catalog.index("fast", "1.0-1", ["requires libssl >= 1.1-1"])
        catalog.index("slow", "1.0-1")
        catalog.index("libsystemd0", "252-1")
        catalog.index("libelogind0", "252-1", ["provides libsystemd0 = 252-1"])
        catalog.index("app", "1.0-1", ["requires fast | slow", "requires libssl >= 1.1-1", "requires libsystemd0"])
        let resolver = try resolver(catalog, installed: [oldSSL])
        XCTAssertEqual(specs(resolver, try resolver.install([try unit(resolver, "app=1.0-1")], locked: []).installed),
                       ["app=1.0-1", "fast=1.0-1", "libssl=1.1-1", "libsystemd0=252-1"])
    }

    /// An update brings what a new version newly recommends, not what the installed version
    /// recommended already and the user left out.
    func testUpdateBringsOnlyNewRecommendations() throws {
        var catalog = Catalog()
        catalog.add("docs", "1.0-1")
        catalog.add("manual", "1.0-1")
        let tool1 = catalog.add("tool", "1.0-1", ["recommends docs"])
        catalog.add("tool", "2.0-1", ["recommends docs", "recommends manual"])
        let resolver = try resolver(catalog, installed: [tool1])
        let outcome = try resolver.update([], locked: [], recommends: true)
        XCTAssertEqual(specs(resolver, outcome.installed), ["manual=1.0-1", "tool=2.0-1"])
        XCTAssertEqual(outcome.recommendedBy[try unit(resolver, "manual=1.0-1")], try unit(resolver, "tool=2.0-1"))
    }

    func testDebianReplacesTakesThePlaceOnlyOfTheVersionsItConflictsWith() throws {
        var catalog = Catalog()
        let lsbOld = catalog.add("lsb-base", "11.1-1")
        catalog.add("lsb-base", "11.6-1")
        catalog.add("sysvinit-utils", "3.06-4", ["replaces lsb-base", "breaks lsb-base << 11.3~"])
        let old = try resolver(catalog, installed: [lsbOld])
        XCTAssertEqual(specs(old, try old.install([try unit(old, "sysvinit-utils=3.06-4")], locked: []).installed),
                       ["sysvinit-utils=3.06-4"], "lsb-base 11.1 clashes, so sysvinit-utils replaces it")
        let new = try resolver(catalog, installed: [catalog.troves.first { $0.spec == "lsb-base=11.6-1" }!])
        XCTAssertEqual(specs(new, try new.install([try unit(new, "sysvinit-utils=3.06-4")], locked: []).installed),
                       ["lsb-base=11.6-1", "sysvinit-utils=3.06-4"], "lsb-base 11.6 does not clash, so it stays")
    }

    func testRpmFileRequirementIsMetThroughMergedUsrAliases() throws {
        var catalog = Catalog()
        let bash = catalog.add("bash", "5.2-1", format: .rpm)
        catalog.add("script", "1.0-1", format: .rpm, ["requires /bin/sh"])
        // bash's :runtime ships /usr/bin/sh; the requirement names /bin/sh.
        catalog.fileOwners["/usr/bin/sh"] = [bash.id! + 1]
        XCTAssertTrue(catalog.resolverCatalog().pathsToLookUp(layout: .standard).isSuperset(of: ["/bin/sh", "/usr/bin/sh"]))
        let resolver = try resolver(catalog)
        XCTAssertEqual(specs(resolver, try resolver.install([try unit(resolver, "script=1.0-1")], locked: []).installed),
                       ["bash=5.2-1", "script=1.0-1"])
    }

    func testIndexEntriesAreUnitsToDownloadAndForeignArchitecturesAreLeftOut() throws {
        var catalog = Catalog()
        catalog.add("libc6", "2.36-9")
        for (name, architecture, fields) in [("hello", "amd64", "Depends: libc6 (>= 2.34)"), ("hello", "arm64", ""), ("tool", "all", "")] {
            let version = architecture == "arm64" ? "9.9-1" : "2.10-3"
            let entry = IndexEntry(name: name, version: version, architecture: architecture, filename: "pool/\(name)_\(architecture).deb",
                                   size: 100, sha256: String(repeating: "a", count: 64), summary: nil, relationFields: fields)
            let relations = fields.isEmpty ? [] : [Dependency(relation: .requires, capability: "libc6", comparison: ">=", version: "2.34", alternative: 0)]
            catalog.indexed.append(.init(entry: entry, relations: relations,
                                         download: PackageDownload(repository: "main", url: "file:///repo", filename: entry.filename,
                                                                   size: 100, sha256: entry.sha256, spec: "\(name)=\(version)")))
        }
        let resolver = try resolver(catalog)
        XCTAssertNil(resolver.units.firstIndex { $0.spec == "hello=9.9-1" }, "an arm64 entry does not run on x86_64")
        let hello = try unit(resolver, "hello=2.10-3")
        XCTAssertEqual(resolver.units[hello].download?.filename, "pool/hello_amd64.deb")
        XCTAssertTrue(resolver.units[hello].troves.isEmpty, "nothing of an index entry is in the store yet")
        XCTAssertEqual(specs(resolver, try resolver.install([hello], locked: []).installed), ["hello=2.10-3", "libc6=2.36-9"])
    }

    func testBreakageQuestionsCountEveryDerivedRequirement() throws {
        var catalog = Catalog()
        let libc = catalog.add("libc6", "2.36-9", ["provides soname(libc.so.6)(64bit)"])
        let hello = catalog.add("hello", "2.10-3")
        // hello's files need libc.so.6 (derived from its ELF header), which its metadata forgot.
        catalog.relations[hello.id!, default: []].append(
            Dependency(relation: .requires, capability: "soname(libc.so.6)(64bit)", alternative: Dependency.firstDerivedAlternative))
        let resolverCatalog = catalog.resolverCatalog()
        let resolvers = ResolverUniverse.installedOnly([catalog.members([libc, hello]), catalog.members([hello])],
                                                       catalog: resolverCatalog, layout: .standard).map(Resolver.init)
        let (before, after) = (resolvers[0], resolvers[1])
        XCTAssertTrue(before.unmet(among: Set(before.units.indices)).isEmpty)
        let unmet = after.unmet(among: Set(after.units.indices))
        XCTAssertEqual(unmet.map { after.units[$0.unit].spec }, ["hello=2.10-3"])
        XCTAssertEqual(unmet.map(\.relation), ["soname(libc.so.6)(64bit)"])
        let helloUnit = try unit(before, "hello=2.10-3"), libcUnit = try unit(before, "libc6=2.36-9")
        XCTAssertEqual(before.dependants(of: libcUnit, among: Set(before.units.indices)), [helloUnit])
        // For installs, a deb's declared dependencies govern: the derived requirement is not counted.
        let install = try resolver(catalog)
        XCTAssertEqual(specs(install, try install.install([try unit(install, "hello=2.10-3")], locked: []).installed), ["hello=2.10-3"])
    }

    func testTroveSelectionPrefersTheBestFlavorThenTheNewestVersion() throws {
        func trove(_ version: String, _ flavor: String, format: PackageFormat = .ccs) -> Trove {
            Trove(id: nil, name: "tool", version: version, kind: .package, format: format, source: "t", created: Date(), flavor: flavor)
        }
        let candidates = [trove("1", "ssl is: x86_64"), trove("2", "!ssl is: x86_64"), trove("3", "is: aarch64")]
        func best(_ spec: String, on system: String) throws -> String? {
            try TroveSelection.best(of: candidates, for: TroveSelection.Request(spec), spec: spec, system: Flavor(system))?.spec
        }
        XCTAssertEqual(try best("tool", on: "is: x86_64"), "tool=2", "a system without ssl can only run the !ssl build")
        XCTAssertEqual(try best("tool[ssl]", on: "is: x86_64"), "tool=1")
        XCTAssertEqual(try best("tool", on: "ssl is: x86_64"), "tool=1", "the better flavor wins over the newer version")
        XCTAssertThrowsExactly(VersionError.noFittingFlavor("tool", flavors: ["ssl is: x86_64", "!ssl is: x86_64", "is: aarch64"], system: "is: ppc64le"),
                               try best("tool", on: "is: ppc64le"))
        XCTAssertThrowsExactly(VersionError.ambiguousTrove("tool", versions: ["1", "1.0-1"]),
                               try TroveSelection.best(of: [trove("1", ""), trove("1.0-1", "", format: .deb)], for: .init("tool"), spec: "tool",
                                                       system: .empty))
        XCTAssertEqual(try TroveSelection.Request("tool=2.0[ssl]"), try TroveSelection.Request("tool=2.0[ssl]"))
        XCTAssertEqual(try TroveSelection.Request("tool=2.0[ssl]").version, "2.0")
        XCTAssertEqual(try TroveSelection.Request("tool=2.0[ssl]").flavor, try Flavor("ssl"))
    }
}
