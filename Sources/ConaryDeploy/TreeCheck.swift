import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVFS
import Foundation

/// One way a tree on disk differs from the tree its state's records describe.
public struct TreeProblem: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case missing, modified, unexpected, wrongState = "wrong-state"
    }
    public let kind: Kind
    /// Absolute, as the path is seen when the tree is live: /usr/bin/foo.
    public let path: String
    public let detail: String

    public init(kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(path)\(detail.isEmpty ? "" : " (\(detail))")" }
}

/// Which file a descriptor reaches: the same inode is the same content.
public struct FileIdentity: Hashable, Sendable {
    let device: UInt
    let inode: UInt

    public init(_ st: stat) {
        device = UInt(st.st_dev)
        inode = UInt(st.st_ino)
    }
}

/// Compares a state tree on disk (its /usr) with the tree built from its records.
/// *fast* compares structure: every path, its type, mode, owner, size, symlink target and a
/// regular file's mtime (still the store's 0), and finds what no record names. *full* also re-hashes every regular file (content, mode,
/// owner and xattrs make up its object id), except files that are the very inode of an
/// object already proven good (`verified`): a tree's files are links into the store.
public struct TreeCheck {
    public enum Depth: Sendable { case fast, full }

    let tree: ArenaTree
    let depth: Depth
    let verified: Set<FileIdentity>

    public init(tree: ArenaTree, depth: Depth, verified: Set<FileIdentity> = []) {
        self.tree = tree
        self.depth = depth
        self.verified = verified
    }

    /// The problems of the tree open at `usr`, sorted by path.
    public func problems(in usr: Int32) throws -> [TreeProblem] {
        var problems: [TreeProblem] = []
        var regular: [(path: String, node: ArenaTree.Node)] = []
        try check(directory: tree.lookup("/usr"), open: usr, prefix: "", problems: &problems, regular: &regular)
        problems += try compareContents(regular, in: usr)
        return problems.sorted { $0.path < $1.path }
    }

    private static let typeChanged = "file type changed"

    /// One pass over a directory that is meant to be one: each entry on disk no record names
    /// is unexpected, each child the records name is compared by name relative to the
    /// directory's descriptor (no path walk from /usr for each of 20,000 files). Below a
    /// directory that is missing or no longer a directory, the directory says it all; below
    /// one whose mode or owner changed, everything is still checked.
    private func check(directory: Int32?, open fd: Int32, prefix: String, problems: inout [TreeProblem],
                       regular: inout [(path: String, node: ArenaTree.Node)]) throws {
        let children = directory.map { tree.nodes[Int($0)].children } ?? [:]
        for name in try FileSystem.listDirectory(fd) where children[name] == nil {
            if prefix.isEmpty && RootLayout.stateFiles.contains(name) { continue }
            problems.append(TreeProblem(kind: .unexpected, path: "/usr/" + Self.join(prefix, name), detail: ""))
        }
        for (name, index) in children {
            let node = tree.nodes[Int(index)]
            let path = Self.join(prefix, name)
            let problem = try compareMetadata(name, in: fd, shown: "/usr/" + path, node)
            if let problem { problems.append(problem) }
            let stillThere = problem.map { $0.kind != .missing && $0.detail != Self.typeChanged } ?? true
            switch node.kind {
            case .directory where stillThere:
                let child = try Descriptor.directory(name, relativeTo: fd)
                try check(directory: index, open: child.fd, prefix: path, problems: &problems, regular: &regular)
            case .regular where problem == nil && depth == .full:
                regular.append((path, node))
            default:
                break
            }
        }
    }

    private static func join(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }

    private func compareMetadata(_ name: String, in directory: Int32, shown: String, _ node: ArenaTree.Node) throws -> TreeProblem? {
        guard let st = FileSystem.lstat(name, relativeTo: directory) else { return TreeProblem(kind: .missing, path: shown, detail: "") }
        let kindMatches: Bool
        switch node.kind {
        case .directory: kindMatches = FileSystem.isDirectory(st)
        case .regular: kindMatches = FileSystem.isRegular(st)
        case .symlink: kindMatches = FileSystem.isSymlink(st)
        }
        guard kindMatches else { return TreeProblem(kind: .modified, path: shown, detail: Self.typeChanged) }
        if case let .symlink(target) = node.kind {
            let actual = try FileSystem.readLink(name, relativeTo: directory)
            return actual == target ? nil : TreeProblem(kind: .modified, path: shown, detail: "points to \(actual), expected \(target)")
        }
        let mode = UInt32(st.st_mode) & 0o7777
        if mode != node.mode {
            return TreeProblem(kind: .modified, path: shown, detail: "mode \(String(mode, radix: 8)), expected \(String(node.mode, radix: 8))")
        }
        if st.st_uid != node.uid || st.st_gid != node.gid {
            return TreeProblem(kind: .modified, path: shown, detail: "owner \(st.st_uid):\(st.st_gid), expected \(node.uid):\(node.gid)")
        }
        if case let .regular(_, size) = node.kind {
            if Int64(st.st_size) != size { return TreeProblem(kind: .modified, path: shown, detail: "size \(st.st_size), expected \(size)") }
            // Every deployed file (a link to its object, or a copy) has the store's mtime, 0;
            // a write through any link moves it.
            if st.st_mtim.tv_sec != 0 || st.st_mtim.tv_nsec != 0 {
                return TreeProblem(kind: .modified, path: shown, detail: "written to since it was deployed; its mtime is no longer 0")
            }
        }
        return nil
    }

    private func compareContents(_ files: [(path: String, node: ArenaTree.Node)], in usr: Int32) throws -> [TreeProblem] {
        let mismatched = try Parallel.map(files.count, makeContext: { ReadBuffer() }) { index, buffer -> Bool in
            let (path, node) = files[index]
            guard case let .regular(objectID, _) = node.kind else { return false }
            let file = try Descriptor.open(path, relativeTo: usr, flags: O_RDONLY | O_NOFOLLOW)
            if verified.contains(FileIdentity(try file.stat())) { return false }
            return try ObjectStore.objectID(of: file.fd, path: "/usr/" + path, buffer: buffer) != objectID
        }
        return files.indices.filter { mismatched[$0] }.map {
            TreeProblem(kind: .modified, path: "/usr/" + files[$0].path, detail: "content or extended attributes changed")
        }
    }
}
