import ConaryModel
/// Builds the ArenaTree of a state from its troves' files and checks that the result is
/// something Conary can deploy: conflict-free, with everything but directories inside /usr.
public enum TreeBuilder {
    public struct Input {
        public let ownerNames: [String]
        public let files: [(owner: Int, entry: FileEntry)]

        public init(ownerNames: [String], files: [(owner: Int, entry: FileEntry)]) {
            self.ownerNames = ownerNames
            self.files = files
        }
    }

    public static func build(_ input: Input, layout: RootLayout = .standard) throws -> ArenaTree {
        let tree = ArenaTree(ownerNames: input.ownerNames)
        var symlinks: [(components: [String], entry: FileEntry, owner: Int32)] = []
        for link in layout.links {
            let entry = FileEntry(path: link.path, kind: .symlink, mode: 0o777, target: link.target)
            symlinks.append((try components(of: link.path, owner: "the layout", layout: layout), entry, ArenaTree.Owner.layout))
        }
        for (owner, entry) in input.files where !entry.flags.contains(.ghost) {
            let parts = try components(of: entry.path, owner: input.ownerNames[owner], layout: layout)
            if parts.isEmpty { continue }  // the trove's root directory itself
            switch entry.kind {
            case .directory:
                try tree.insert(components: parts, kind: .directory, mode: entry.mode, uid: entry.uid, gid: entry.gid, owner: Int32(owner))
            case .regular:
                try tree.insert(components: parts, kind: .regular(objectID: entry.objectID!, size: entry.size),
                                mode: FileEntry.deployedMode(entry.mode), uid: entry.uid, gid: entry.gid, owner: Int32(owner))
            case .symlink:
                symlinks.append((parts, entry, Int32(owner)))
            }
        }
        // Shallow links first, so /lib64 → usr/lib64 is in place before /usr/lib64 → lib;
        // resolution follows chains either way.
        symlinks.sort { ($0.components.count, $0.entry.path) < ($1.components.count, $1.entry.path) }
        for link in symlinks {
            try tree.insertSymlink(components: link.components, target: link.entry.target!, mode: link.entry.mode,
                                   uid: link.entry.uid, gid: link.entry.gid, owner: link.owner)
        }
        try validate(tree, layout: layout)
        return tree
    }

    /// A shipped path as the tree holds it before symlinks are followed (/etc/x → /usr/etc/x).
    package static func relocated(_ path: String, layout: RootLayout) -> String {
        "/" + ((try? components(of: path, owner: "", layout: layout)) ?? []).joined(separator: "/")
    }

    /// The path's components with the layout's relocations applied (/etc/x → /usr/etc/x,
    /// /boot/vmlinuz-V → /usr/lib/modules/V/vmlinuz).
    static func components(of path: String, owner: String, layout: RootLayout) throws -> [String] {
        // One pass: this runs for every file of every state a command builds.
        var parts: [String] = []
        for part in path.split(separator: "/") where part != "." {
            if part == ".." { throw TreeError.pathClimbsOut(trove: owner, path: path) }
            parts.append(String(part))
        }
        if let first = parts.first, let replacement = layout.relocations[first] {
            parts = replacement + parts.dropFirst()
        }
        return layout.kernelFile(parts) ?? parts
    }

    private static func validate(_ tree: ArenaTree, layout: RootLayout) throws {
        let usr = tree.lookup("/usr")
        if let usr, tree.nodes[Int(usr)].kind != .directory {
            throw TreeError.reservedPath(trove: tree.ownerName(of: usr), path: "/usr")
        }
        for name in RootLayout.stateFiles.sorted() {
            if let reserved = tree.lookup("/usr/" + name) {
                throw TreeError.reservedPath(trove: tree.ownerName(of: reserved), path: tree.path(of: reserved))
            }
        }
        let rootLinkNames = Set(layout.rootLinks.map { String($0.path.dropFirst()) })
        for (name, child) in tree.nodes[Int(ArenaTree.root)].children where name != "usr" {
            if rootLinkNames.contains(name), tree.nodes[Int(child)].owner == ArenaTree.Owner.layout { continue }
            try requireOnlyDirectories(tree, child)
        }
    }

    /// Outside /usr a state may name directories (they belong to the machine), nothing else.
    private static func requireOnlyDirectories(_ tree: ArenaTree, _ index: Int32) throws {
        guard case .directory = tree.nodes[Int(index)].kind else {
            throw TreeError.pathOutsideState(trove: tree.ownerName(of: index), path: tree.path(of: index))
        }
        for child in tree.nodes[Int(index)].children.values.sorted() {
            try requireOnlyDirectories(tree, child)
        }
    }
}
