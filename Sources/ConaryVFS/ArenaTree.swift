import ConaryModel
import ConarySupport
import Crypto

/// The file tree of one state, built in memory from the files of its troves.
///
/// Nodes live in one array and refer to each other by index, so moving a subtree
/// (reparenting through a symlink such as /lib → usr/lib) is a few index updates.
public final class ArenaTree {
    public enum Kind: Equatable, Sendable {
        case directory
        case regular(objectID: String, size: Int64)
        case symlink(String)
    }

    public struct Node {
        public var name: String
        public var parent: Int32
        public var kind: Kind
        public var mode: UInt32
        public var uid: UInt32
        public var gid: UInt32
        /// Index into `ownerNames`, or `Owner.layout`. For an implied directory, the trove
        /// whose path needed it.
        public var owner: Int32
        /// A directory no trove declared; the first declaration gives it its metadata.
        public var implied = false
        public var children: [String: Int32] = [:]
    }

    enum Owner {
        static let layout: Int32 = -1
    }

    public static let root: Int32 = 0
    public private(set) var nodes: [Node]
    let ownerNames: [String]
    private static let maxSymlinkHops = 40

    init(ownerNames: [String]) {
        self.ownerNames = ownerNames
        nodes = [Node(name: "", parent: 0, kind: .directory, mode: 0o755, uid: 0, gid: 0, owner: Owner.layout, implied: true)]
    }

    // MARK: Queries

    public func path(of index: Int32) -> String {
        var parts: [String] = []
        var current = index
        while current != ArenaTree.root {
            parts.append(nodes[Int(current)].name)
            current = nodes[Int(current)].parent
        }
        return "/" + parts.reversed().joined(separator: "/")
    }

    public func ownerName(of index: Int32) -> String { describeOwner(nodes[Int(index)].owner) }

    func describeOwner(_ owner: Int32) -> String {
        owner == Owner.layout ? "the merged-/usr layout" : ownerNames[Int(owner)]
    }

    /// The node at an absolute path, without following symlinks.
    public func lookup(_ path: String) -> Int32? {
        var current = ArenaTree.root
        for component in path.split(separator: "/") {
            guard let child = nodes[Int(current)].children[String(component)] else { return nil }
            current = child
        }
        return current
    }

    /// The node a path names as the kernel would find it: symlinks in the directories on
    /// the way are followed (/bin/sh reaches /usr/bin/sh), the last component is not.
    public func resolve(_ path: String) -> Int32? {
        var hops = 0
        let parts = path.split(separator: "/").map(String.init)
        guard let name = parts.last else { return ArenaTree.root }
        guard let parent = findDirectory(parts.dropLast(), from: ArenaTree.root, hops: &hops) else { return nil }
        return nodes[Int(parent)].children[name]
    }

    private func findDirectory<C: Collection>(_ components: C, from start: Int32, hops: inout Int) -> Int32? where C.Element == String {
        var current = components.first == "" ? ArenaTree.root : start
        for component in components where !component.isEmpty && component != "." {
            if component == ".." { current = nodes[Int(current)].parent; continue }
            guard let child = nodes[Int(current)].children[component] else { return nil }
            switch nodes[Int(child)].kind {
            case .directory: current = child
            case let .symlink(target):
                hops += 1
                guard hops <= ArenaTree.maxSymlinkHops,
                      let next = findDirectory(ArenaTree.components(ofTarget: target), from: nodes[Int(child)].parent, hops: &hops)
                else { return nil }
                current = next
            case .regular: return nil
            }
        }
        return current
    }

    /// Visits `start` and everything below it in path order, with paths relative to `start`.
    public func walk(from start: Int32, _ visit: (String, Node) throws -> Void) rethrows {
        func descend(_ index: Int32, _ relative: String) throws {
            for name in nodes[Int(index)].children.keys.sorted() {
                let child = nodes[Int(index)].children[name]!
                let childPath = relative.isEmpty ? name : relative + "/" + name
                try visit(childPath, nodes[Int(child)])
                if case .directory = nodes[Int(child)].kind { try descend(child, childPath) }
            }
        }
        try descend(start, "")
    }

    /// Number of nodes below `index` (not counting it).
    public func descendantCount(of index: Int32) -> Int {
        var count = 0
        var stack = [index]
        while let next = stack.popLast() {
            for child in nodes[Int(next)].children.values {
                count += 1
                stack.append(child)
            }
        }
        return count
    }

    /// A digest of everything below `index`: paths, kinds, objects, targets and metadata.
    public func treeHash(below index: Int32) -> String {
        var hasher = SHA256()
        walk(from: index) { path, node in
            let content: String
            switch node.kind {
            case .directory: content = "d"
            case let .regular(objectID, _): content = "f:" + objectID
            case let .symlink(target): content = "l:" + target
            }
            hasher.update(data: Array("\(path)\0\(content)\0\(node.mode) \(node.uid) \(node.gid)\n".utf8))
        }
        return hasher.finalize().hex
    }

    // MARK: Building

    private func addNode(_ name: String, parent: Int32, kind: Kind, mode: UInt32, uid: UInt32, gid: UInt32, owner: Int32) -> Int32 {
        let index = Int32(nodes.count)
        nodes.append(Node(name: name, parent: parent, kind: kind, mode: mode, uid: uid, gid: gid, owner: owner))
        nodes[Int(parent)].children[name] = index
        return index
    }

    private func impliedDirectory(_ name: String, in parent: Int32, owner: Int32) -> Int32 {
        let index = addNode(name, parent: parent, kind: .directory, mode: 0o755, uid: 0, gid: 0, owner: owner)
        nodes[Int(index)].implied = true
        return index
    }

    /// Inserts a directory or regular file, creating missing parents. Symlinks go through
    /// `insertSymlink` once every other path is in place.
    func insert(components: [String], kind: Kind, mode: UInt32, uid: UInt32, gid: UInt32, owner: Int32) throws {
        var current = ArenaTree.root
        for component in components.dropLast() {
            if let child = nodes[Int(current)].children[component] {
                guard case .directory = nodes[Int(child)].kind else {
                    throw TreeError.fileConflict(path: path(of: child), first: ownerName(of: child), second: describeOwner(owner))
                }
                current = child
            } else {
                current = impliedDirectory(component, in: current, owner: owner)
            }
        }
        let name = components.last!
        if let existing = nodes[Int(current)].children[name] {
            try combine(existing: existing, kind: kind, mode: mode, uid: uid, gid: gid, owner: owner)
        } else {
            _ = addNode(name, parent: current, kind: kind, mode: mode, uid: uid, gid: gid, owner: owner)
        }
    }

    /// Two troves name one path: identical entries and directories are fine, anything else conflicts.
    private func combine(existing: Int32, kind: Kind, mode: UInt32, uid: UInt32, gid: UInt32, owner: Int32) throws {
        let node = nodes[Int(existing)]
        switch (node.kind, kind) {
        case (.directory, .directory):
            if node.implied {
                nodes[Int(existing)].implied = false
                nodes[Int(existing)].mode = mode
                nodes[Int(existing)].uid = uid
                nodes[Int(existing)].gid = gid
                nodes[Int(existing)].owner = owner
            }
        case let (.regular(a, _), .regular(b, _)) where a == b:
            break
        case let (.symlink(a), .symlink(b)) where a == b:
            break
        default:
            throw TreeError.fileConflict(path: path(of: existing), first: ownerName(of: existing), second: describeOwner(owner))
        }
    }

    /// Places a symlink. Where a directory already stands at its path, the directory's
    /// contents move to the symlink's target (merging) and the symlink takes its place.
    func insertSymlink(components: [String], target: String, mode: UInt32, uid: UInt32, gid: UInt32, owner: Int32) throws {
        var hops = 0
        let parent = try resolveDirectory(components.dropLast(), from: ArenaTree.root, owner: owner, hops: &hops)
        let name = components.last!
        guard let existing = nodes[Int(parent)].children[name] else {
            _ = addNode(name, parent: parent, kind: .symlink(target), mode: mode, uid: uid, gid: gid, owner: owner)
            return
        }
        if case .directory = nodes[Int(existing)].kind {
            try redirect(directory: existing, through: target, owner: owner)
            nodes[Int(existing)].kind = .symlink(target)
            nodes[Int(existing)].mode = mode
            nodes[Int(existing)].uid = uid
            nodes[Int(existing)].gid = gid
            nodes[Int(existing)].owner = owner
        } else {
            try combine(existing: existing, kind: .symlink(target), mode: mode, uid: uid, gid: gid, owner: owner)
        }
    }

    /// Moves the contents of `directory` to where `target` (a symlink target relative to the
    /// directory's parent) resolves, merging with what is there.
    private func redirect(directory: Int32, through target: String, owner: Int32) throws {
        var hops = 0
        let destination = try resolveDirectory(ArenaTree.components(ofTarget: target),
                                               from: nodes[Int(directory)].parent, owner: owner, hops: &hops,
                                               linkPath: path(of: directory))
        // Arriving back at the directory itself means the chain of links is circular.
        if destination == directory { throw TreeError.symlinkLoop(path(of: directory)) }
        if isSameOrAncestor(directory, of: destination) {
            throw TreeError.symlinkIntoItself(path(of: directory))
        }
        try merge(directory, into: destination)
    }

    private func isSameOrAncestor(_ ancestor: Int32, of index: Int32) -> Bool {
        var current = index
        while true {
            if current == ancestor { return true }
            if current == ArenaTree.root { return false }
            current = nodes[Int(current)].parent
        }
    }

    private func merge(_ source: Int32, into destination: Int32) throws {
        let children = nodes[Int(source)].children
        nodes[Int(source)].children = [:]
        for name in children.keys.sorted() {
            let child = children[name]!
            guard let existing = nodes[Int(destination)].children[name] else {
                nodes[Int(child)].parent = destination
                nodes[Int(destination)].children[name] = child
                continue
            }
            let incoming = nodes[Int(child)]
            switch (nodes[Int(existing)].kind, incoming.kind) {
            case (.directory, .directory):
                try combine(existing: existing, kind: .directory, mode: incoming.mode, uid: incoming.uid, gid: incoming.gid, owner: incoming.owner)
                try merge(child, into: existing)
            case let (.symlink(target), .directory):
                nodes[Int(child)].parent = destination
                try redirect(directory: child, through: target, owner: nodes[Int(existing)].owner)
            case let (.directory, .symlink(target)):
                try redirect(directory: existing, through: target, owner: incoming.owner)
                nodes[Int(existing)] = Node(name: name, parent: destination, kind: incoming.kind, mode: incoming.mode,
                                            uid: incoming.uid, gid: incoming.gid, owner: incoming.owner)
            default:
                try combine(existing: existing, kind: incoming.kind, mode: incoming.mode, uid: incoming.uid, gid: incoming.gid, owner: incoming.owner)
            }
        }
    }

    /// Splits a symlink target; an absolute target starts with an empty component.
    private static func components(ofTarget target: String) -> [String] {
        target.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    }

    /// Resolves a directory path the way the kernel would inside this tree, following
    /// symlinks and creating missing directories. ".." at the root stays at the root.
    private func resolveDirectory<C: Collection>(_ components: C, from start: Int32, owner: Int32, hops: inout Int,
                                                 linkPath: String? = nil) throws -> Int32 where C.Element == String {
        var current = start
        if let first = components.first, first.isEmpty { current = ArenaTree.root }
        for component in components where !component.isEmpty && component != "." {
            if component == ".." {
                current = nodes[Int(current)].parent
                continue
            }
            guard let child = nodes[Int(current)].children[component] else {
                current = impliedDirectory(component, in: current, owner: owner)
                continue
            }
            switch nodes[Int(child)].kind {
            case .directory:
                current = child
            case let .symlink(target):
                hops += 1
                if hops > ArenaTree.maxSymlinkHops { throw TreeError.symlinkLoop(linkPath ?? path(of: child)) }
                current = try resolveDirectory(ArenaTree.components(ofTarget: target),
                                               from: nodes[Int(child)].parent, owner: owner, hops: &hops,
                                               linkPath: linkPath ?? path(of: child))
            case .regular:
                throw TreeError.fileConflict(path: path(of: child), first: ownerName(of: child),
                                               second: "a path that needs it to be a directory")
            }
        }
        return current
    }
}
