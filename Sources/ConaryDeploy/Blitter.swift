import ConaryStore
import ConaryVFS
import ConaryModel
import ConarySupport
import CLinux
import Foundation

/// Writes a subtree of an ArenaTree to disk: directories with mkdirat, files as hardlinks to
/// store objects with linkat, symlinks with symlinkat, all relative to directory fds.
public struct Blitter {
    public struct Stats: Sendable {
        public var directories = 0
        public var links = 0
        public var copies = 0
        public var symlinks = 0

        static func + (a: Stats, b: Stats) -> Stats {
            Stats(directories: a.directories + b.directories, links: a.links + b.links,
                  copies: a.copies + b.copies, symlinks: a.symlinks + b.symlinks)
        }
    }

    /// A child to place inside an already-open directory.
    private struct WorkItem {
        let parentFD: Int32
        let node: Int32
        let weight: Int
    }

    let tree: ArenaTree
    let store: ObjectStore
    /// Aim for several items per core so one large subtree does not finish last alone.
    private let itemsPerWorker = 8

    /// Fills the empty directory `targetFD` with everything below `subtree`, then gives it the
    /// subtree root's owner and mode.
    func blit(_ subtree: Int32, into targetFD: Int32) throws -> Stats {
        var openDirectories: [(node: Int32, fd: Descriptor)] = []
        var items = children(of: subtree, in: targetFD)
        var stats = Stats()
        let wanted = itemsPerWorker * ProcessInfo.processInfo.activeProcessorCount
        // Split the heaviest directory into its children until the work is spread out.
        while items.count < wanted, let heaviest = items.indices.max(by: { items[$0].weight < items[$1].weight }),
              items[heaviest].weight > 1, tree.nodes[Int(items[heaviest].node)].kind == .directory {
            let item = items.remove(at: heaviest)
            let fd = try makeDirectory(item.node, in: item.parentFD)
            stats.directories += 1
            openDirectories.append((item.node, fd))
            items += children(of: item.node, in: fd.fd)
        }
        items.sort { $0.weight > $1.weight }
        let midway = items.count / 2
        let lock = NSLock()
        try Parallel.forEach(items.count, makeContext: { () }) { index, _ in
            if index == midway { FaultInjection.point("blit.midway") }
            let itemStats = try place(items[index].node, in: items[index].parentFD)
            lock.lock(); stats = stats + itemStats; lock.unlock()
        }
        // Metadata last: a read-only directory must stay writable until it is filled.
        for (node, fd) in openDirectories.reversed() { try applyDirectoryMetadata(node, fd.fd) }
        try applyDirectoryMetadata(subtree, targetFD)
        return stats
    }

    private func children(of node: Int32, in fd: Int32) -> [WorkItem] {
        tree.nodes[Int(node)].children.values.map {
            WorkItem(parentFD: fd, node: $0, weight: 1 + tree.descendantCount(of: $0))
        }
    }

    /// Creates node `index` (a whole subtree for a directory) under its name in `dirFD`.
    func place(_ index: Int32, in dirFD: Int32) throws -> Stats {
        let node = tree.nodes[Int(index)]
        var stats = Stats()
        switch node.kind {
        case .directory:
            let fd = try makeDirectory(index, in: dirFD)
            stats.directories += 1
            for child in node.children.values { stats = stats + (try place(child, in: fd.fd)) }
            try applyDirectoryMetadata(index, fd.fd)
        case let .regular(objectID, size):
            if size > 0 && linkat(store.directory.fd, ObjectStore.relativePath(objectID), dirFD, node.name, 0) == 0 {
                stats.links += 1
            } else if size == 0 || errno == EMLINK {
                // Empty files are copied (linking them would hit the per-inode link limit
                // first), and so is any object whose inode is full.
                try copyObject(objectID, size: size, to: node.name, in: dirFD)
                stats.copies += 1
            } else {
                throw SystemError(operation: "Linking", path: tree.path(of: index), errno: errno)
            }
        case let .symlink(target):
            try sys("Creating symlink", tree.path(of: index), symlinkat(target, dirFD, node.name))
            if node.uid != 0 || node.gid != 0 {
                try sys("Changing owner of", tree.path(of: index), fchownat(dirFD, node.name, node.uid, node.gid, AT_SYMLINK_NOFOLLOW))
            }
            stats.symlinks += 1
        }
        return stats
    }

    private func makeDirectory(_ index: Int32, in dirFD: Int32) throws -> Descriptor {
        let name = tree.nodes[Int(index)].name
        try sys("Creating directory", tree.path(of: index), mkdirat(dirFD, name, 0o700))
        return try Descriptor.directory(name, relativeTo: dirFD)
    }

    private func applyDirectoryMetadata(_ index: Int32, _ fd: Int32) throws {
        let node = tree.nodes[Int(index)]
        try sys("Changing owner of", tree.path(of: index), fchown(fd, node.uid, node.gid))
        try sys("Changing mode of", tree.path(of: index), fchmod(fd, mode_t(node.mode)))
    }

    private func copyObject(_ objectID: String, size: Int64, to name: String, in dirFD: Int32) throws {
        let source = try store.openObject(objectID)
        let st = try source.stat()
        let output = try Descriptor.open(name, relativeTo: dirFD, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: 0o600)
        try FileCopy.copy(from: source.fd, to: output.fd, length: size, path: ObjectStore.relativePath(objectID))
        let xattrs = try ExtendedAttributes.read(fd: source.fd, path: ObjectStore.relativePath(objectID))
        let metadata = ObjectMetadata(packageMode: UInt32(st.st_mode) & 0o7777, uid: st.st_uid, gid: st.st_gid, xattrs: xattrs)
        try metadata.apply(to: output.fd, path: name)
    }
}
