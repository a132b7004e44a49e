@testable import ConaryOperations
import ConaryTestSupport
import Foundation
import XCTest

/// A package's hardlink entry carries a mode and owner of its own, but deploys as the inode
/// it links to: what the database records must be what lands on disk.
final class HardlinkTests: XCTestCase {
    func testAHardlinkWithAnotherModeIsRecordedAsWhatItDeploys() throws {
        try requireRoot()
        let scratch = try Scratch()
        let package = scratch.base + "/hardlink.deb"
        // The fixture script's writers build the .deb by hand: dpkg-deb cannot make this lie.
        let script = """
            import importlib.util, sys, tarfile
            spec = importlib.util.spec_from_file_location("hostile", sys.argv[1])
            hostile = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(hostile)
            link = hostile.info("./usr/bin/tool-admin", tarfile.LNKTYPE, mode=0o4755, target="./usr/bin/tool")
            link.uid = 0
            hostile.deb(sys.argv[2], [hostile.directory("./usr/"), hostile.directory("./usr/bin/"),
                                      hostile.regular("./usr/bin/tool", b"#!/bin/sh\\necho tool\\n", 0o755), (link, None)],
                        name="hardlink")
            """
        let made = try runTool("python3", ["-c", script, packageRoot + "/Tests/Fixtures/make-hostile-debs.py", package])
        guard made.status == 0 else { throw XCTSkip("SKIPPED: python3 could not write the test package.") }

        let root = try ConaryRoot(path: try scratch.root(), create: true)
        try root.install([package], resolving: false, command: "t")
        let files = try root.files(of: try root.installedTrove("hardlink")).filter { $0.path.hasPrefix("/usr/bin/tool") }
        XCTAssertEqual(files.map(\.path), ["/usr/bin/tool", "/usr/bin/tool-admin"])
        XCTAssertEqual(files.map(\.mode), ["755", "755"], "the link is recorded with its target's mode, not the setuid one it claimed")
        let deployed = try XCTUnwrap(lstatOf(root.path + "/usr/bin/tool-admin"))
        XCTAssertEqual(deployed.st_mode & 0o7000, 0, "no setuid bit on disk")
        XCTAssertEqual(try root.verify(), [])
    }
}
