import Foundation

/// Walks a directory tree without following symlinks and records what a trove needs.
enum TreeScanner {
    struct Item {
        /// Path inside the tree, starting with "/".
        var path: String
        var kind: FileKind
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: Int64
        var target: String?
    }

    static func scan(_ root: String) throws -> [Item] {
        guard let st = FileSystem.lstat(root), FileSystem.isDirectory(st) else {
            throw ConaryError.invalidArgument("\(root) is not a directory.")
        }
        var items: [Item] = []
        let top = try Descriptor.directory(root)
        try scanDirectory(top.fd, prefix: "", display: root, into: &items)
        return items
    }

    private static func scanDirectory(_ fd: Int32, prefix: String, display: String, into items: inout [Item]) throws {
        for name in try FileSystem.listDirectory(fd).sorted() {
            let path = prefix + "/" + name
            guard let st = FileSystem.lstat(name, relativeTo: fd) else {
                throw ConaryError.changedDuringImport(display + path)
            }
            let mode = UInt32(st.st_mode) & 0o7777
            var item = Item(path: path, kind: .regular, mode: mode, uid: st.st_uid, gid: st.st_gid, size: Int64(st.st_size))
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                items.append(item)
            case S_IFDIR:
                item.kind = .directory
                item.size = 0
                items.append(item)
                let child = try Descriptor.directory(name, relativeTo: fd)
                try scanDirectory(child.fd, prefix: path, display: display, into: &items)
            case S_IFLNK:
                item.kind = .symlink
                item.target = try FileSystem.readLink(name, relativeTo: fd)
                item.size = 0
                items.append(item)
            default:
                throw ConaryError.invalidArgument(
                    "\(display + path) is a device node, socket or pipe; troves hold only files, directories and symlinks.")
            }
        }
    }
}
