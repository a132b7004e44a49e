@testable import ConaryOperations
import ConaryTestSupport
import ConaryVersions
import Foundation
import XCTest

/// Resolution at the scale of a distribution: Debian's main archive as this machine's apt
/// lists hold it (bookworm, bookworm-updates, bookworm-security: some 66,000 entries),
/// synced into a root as three repositories and given to apt as the same three flat
/// repositories with an empty private state. For each target, with and without Recommends,
/// Conary must pick exactly apt's set, versions included. No difference remains; where one
/// appears, the assertion names the packages on each side.
final class ArchiveResolutionTests: XCTestCase {
    private var scratch: Scratch!

    override func setUpWithError() throws {
        try requireRoot()
        scratch = try Scratch()
    }

    override func tearDown() { scratch = nil }

    static let targets = [["python3"], ["openssh-server"], ["postgresql-15"], ["texlive-base"], ["gnome-core"], ["kde-plasma-desktop"]]

    func testChoicesAgreeWithAptOverTheWholeArchive() throws {
        let repositories = try archiveRepositories()
        let root = try ConaryRoot(path: try scratch.root(), create: true)
        for (index, folder) in repositories.enumerated() {
            // Conary reads repositories in name order, apt in sources.list order: the same here.
            try root.addRepository(name: "archive-\(index)", url: "file://" + folder)
        }
        let indexed = try root.sync().reduce(0) { $0 + $1.indexed }
        XCTAssertGreaterThan(indexed, 50_000, "an archive-sized index")
        let required = try root.database.read { try $0.indexEntries() }.filter { $0.entry.priority == "required" }.map(\.entry.name)
        XCTAssertGreaterThan(Set(required).count, 20, "Debian's required set is known from the index")
        let apt = try PrivateApt(state: scratch.base + "/apt", repositories: repositories)

        // The universe is loaded once; each target is solved as `install` solves it.
        let context = try ResolutionContext(root: root)
        for recommends in [false, true] {
            for target in Self.targets + [Array(Set(required)).sorted() + ["python3"]] {
                let label = (target.count > 3 ? "the required set + python3" : target.joined(separator: " ")) + (recommends ? " with" : " without")
                    + " Recommends"
                let wanted = try target.map { name in
                    // Another release's lists (trixie, Ubuntu) need not hold these targets.
                    guard let unit = context.indexUnit(matching: try TroveSelection.Request(name)) else {
                        throw XCTSkip("SKIPPED: this machine's apt lists have no \(name); the targets are Debian 12's.")
                    }
                    return unit
                }
                let outcome = try context.resolver.install(wanted, locked: [], recommends: recommends)
                let ours = Set(outcome.installed.map { context.resolver.units[$0].spec })
                let theirs = Set(try apt.install(target, recommends: recommends).map { "\($0.key)=\($0.value)" })
                XCTAssertEqual(ours.count, theirs.count, label)
                XCTAssertEqual(ours.subtracting(theirs).sorted(), [], "\(label): only Conary picks these (name=version)")
                XCTAssertEqual(theirs.subtracting(ours).sorted(), [], "\(label): only apt picks these (name=version)")
            }
        }
    }

    /// A flat repository per main amd64 package list of this machine's apt, or a loud skip
    /// where there are none.
    private func archiveRepositories() throws -> [String] {
        let folders = try runTool(packageRoot + "/Scripts/archive-repositories.sh", [scratch.base + "/archive"])
        XCTAssertEqual(folders.status, 0, folders.output)
        let repositories = folders.output.split(separator: "\n").map(String.init)
        guard !repositories.isEmpty else { throw XCTSkip("SKIPPED: no Debian main amd64 package lists in /var/lib/apt/lists to resolve over.") }
        return repositories
    }
}
