@testable import ConaryModel
@testable import ConaryVFS
import ConaryTestSupport
import XCTest

final class ArenaTreeTests: XCTestCase {
    private func file(_ path: String, _ object: String = "obj", mode: UInt32 = 0o644) -> FileEntry {
        FileEntry(path: path, kind: .regular, objectID: object, sha256: object, size: 1, mode: mode)
    }

    private func dir(_ path: String, mode: UInt32 = 0o755) -> FileEntry {
        FileEntry(path: path, kind: .directory, mode: mode)
    }

    private func link(_ path: String, _ target: String) -> FileEntry {
        FileEntry(path: path, kind: .symlink, mode: 0o777, target: target)
    }

    private func build(_ troves: [String: [FileEntry]]) throws -> ArenaTree {
        let names = troves.keys.sorted()
        let files = names.enumerated().flatMap { index, name in troves[name]!.map { (owner: index, entry: $0) } }
        return try TreeBuilder.build(.init(ownerNames: names, files: files))
    }

    private func kind(_ tree: ArenaTree, _ path: String) -> ArenaTree.Kind? {
        tree.lookup(path).map { tree.nodes[Int($0)].kind }
    }

    func testFilesCreateImpliedParentDirectories() throws {
        let tree = try build(["a=1": [file("/usr/share/doc/a/README")]])
        XCTAssertEqual(kind(tree, "/usr/share/doc"), .directory)
        XCTAssertEqual(kind(tree, "/usr/share/doc/a/README"), .regular(objectID: "obj", size: 1))
        XCTAssertEqual(tree.ownerName(of: tree.lookup("/usr/share/doc/a/README")!), "a=1")
    }

    func testMergedUsrReparentsBinAndLib() throws {
        let tree = try build(["busybox=1": [file("/bin/busybox", "bb"), file("/lib/x86_64-linux-gnu/libc.so.6", "libc"),
                                            file("/sbin/init", "init")]])
        XCTAssertEqual(kind(tree, "/usr/bin/busybox"), .regular(objectID: "bb", size: 1))
        XCTAssertEqual(kind(tree, "/usr/lib/x86_64-linux-gnu/libc.so.6"), .regular(objectID: "libc", size: 1))
        XCTAssertEqual(kind(tree, "/usr/sbin/init"), .regular(objectID: "init", size: 1))
        XCTAssertEqual(kind(tree, "/bin"), .symlink("usr/bin"))
        XCTAssertEqual(kind(tree, "/lib"), .symlink("usr/lib"))
    }

    func testSymlinkChainLib64EndsInUsrLib() throws {
        let tree = try build(["libc=1": [file("/lib64/ld-linux-x86-64.so.2", "ld"), file("/usr/lib64/libfoo.so", "foo")]])
        XCTAssertEqual(kind(tree, "/usr/lib/ld-linux-x86-64.so.2"), .regular(objectID: "ld", size: 1))
        XCTAssertEqual(kind(tree, "/usr/lib/libfoo.so"), .regular(objectID: "foo", size: 1))
        XCTAssertEqual(kind(tree, "/usr/lib64"), .symlink("lib"))
        XCTAssertEqual(kind(tree, "/lib64"), .symlink("usr/lib64"))
    }

    func testTroveSymlinkToDirectoryMergesItsSubtree() throws {
        let tree = try build([
            "a=1": [link("/usr/share/old", "new"), file("/usr/share/old/sub/x", "x")],
            "b=1": [file("/usr/share/new/y", "y"), dir("/usr/share/new/sub", mode: 0o700)],
        ])
        XCTAssertEqual(kind(tree, "/usr/share/old"), .symlink("new"))
        XCTAssertEqual(kind(tree, "/usr/share/new/sub/x"), .regular(objectID: "x", size: 1))
        XCTAssertEqual(kind(tree, "/usr/share/new/y"), .regular(objectID: "y", size: 1))
        XCTAssertEqual(tree.nodes[Int(tree.lookup("/usr/share/new/sub")!)].mode, 0o700)
    }

    func testAbsoluteAndDotDotTargetsResolveInsideTheTree() throws {
        let tree = try build(["a=1": [link("/usr/local", "../../../usr/opt"), file("/usr/local/bin/tool", "t"),
                                      link("/usr/games", "/usr/opt/games"), file("/usr/games/g", "g")]])
        XCTAssertEqual(kind(tree, "/usr/opt/bin/tool"), .regular(objectID: "t", size: 1))
        XCTAssertEqual(kind(tree, "/usr/opt/games/g"), .regular(objectID: "g", size: 1))
    }

    func testSymlinkLoopIsAnError() {
        XCTAssertThrowsExactly(TreeError.symlinkLoop("/usr/b"),
                              try build(["a=1": [link("/usr/a", "b"), link("/usr/b", "a"), file("/usr/a/f")]]))
    }

    func testSymlinkIntoItselfIsAnError() {
        XCTAssertThrowsExactly(TreeError.symlinkIntoItself("/usr/a"),
                              try build(["a=1": [link("/usr/a", "a/b"), file("/usr/a/f")]]))
    }

    func testConflictNamesBothTrovesAndThePath() {
        XCTAssertThrowsExactly(TreeError.fileConflict(path: "/usr/bin/sh", first: "bash=5", second: "dash=0.5"),
                              try build(["bash=5": [file("/usr/bin/sh", "bash")], "dash=0.5": [file("/usr/bin/sh", "dash")]]))
    }

    func testConflictThroughReparentingIsFound() {
        XCTAssertThrowsExactly(TreeError.fileConflict(path: "/usr/bin/sh", first: "b=1", second: "a=1"),
                              try build(["a=1": [file("/bin/sh", "one")], "b=1": [file("/usr/bin/sh", "two")]]))
    }

    func testIdenticalFilesInTwoTrovesAreAllowed() throws {
        let tree = try build(["a=1": [file("/bin/sh", "same")], "b=1": [file("/usr/bin/sh", "same"), link("/usr/bin/x", "sh")],
                              "c=1": [link("/usr/bin/x", "sh")]])
        XCTAssertEqual(kind(tree, "/usr/bin/sh"), .regular(objectID: "same", size: 1))
    }

    func testFileWhereAnotherTroveHasADirectoryConflicts() {
        XCTAssertThrowsExactly(TreeError.fileConflict(path: "/usr/share/x", first: "a=1", second: "b=1"),
                              try build(["a=1": [file("/usr/share/x/inner")], "b=1": [file("/usr/share/x")]]))
        XCTAssertThrowsExactly(TreeError.fileConflict(path: "/usr/share/x", first: "a=1", second: "b=1"),
                              try build(["a=1": [file("/usr/share/x")], "b=1": [link("/usr/share/x", "y")]]))
    }

    func testTroveCannotRedirectALayoutLink() {
        XCTAssertThrowsExactly(TreeError.fileConflict(path: "/bin", first: "the merged-/usr layout", second: "a=1"),
                              try build(["a=1": [link("/bin", "usr/sbin")]]))
    }

    func testEtcTravelsInsideTheStateAndOtherFilesOutsideUsrAreRefused() throws {
        let tree = try build(["a=1": [file("/etc/a.conf"), dir("/var/lib/a"), dir("/tmp")]])
        XCTAssertEqual(kind(tree, "/usr/etc/a.conf"), .regular(objectID: "obj", size: 1))
        XCTAssertThrowsExactly(TreeError.pathOutsideState(trove: "a=1", path: "/var/lib/a/db"),
                              try build(["a=1": [file("/var/lib/a/db")]]))
        XCTAssertThrowsExactly(TreeError.pathOutsideState(trove: "a=1", path: "/init"),
                              try build(["a=1": [link("/init", "usr/lib/systemd/systemd")]]))
    }

    func testReservedAndClimbingPathsAreRefused() {
        XCTAssertThrowsExactly(TreeError.reservedPath(trove: "a=1", path: "/usr/.conary-state"),
                              try build(["a=1": [file("/usr/.conary-state")]]))
        XCTAssertThrowsError(try build(["a=1": [file("/usr/../etc/passwd")]]))
    }

    func testTreeHashIsStableAndSeesEveryChange() throws {
        let one = try build(["a=1": [file("/usr/bin/a", "x"), link("/usr/bin/b", "a")]])
        let same = try build(["a=1": [link("/usr/bin/b", "a"), file("/usr/bin/a", "x")]])
        let content = try build(["a=1": [file("/usr/bin/a", "y"), link("/usr/bin/b", "a")]])
        let mode = try build(["a=1": [file("/usr/bin/a", "x", mode: 0o755), link("/usr/bin/b", "a")]])
        let usr = { (tree: ArenaTree) in tree.treeHash(below: tree.lookup("/usr")!) }
        XCTAssertEqual(usr(one), usr(same))
        XCTAssertNotEqual(usr(one), usr(content))
        XCTAssertNotEqual(usr(one), usr(mode))
    }
}
