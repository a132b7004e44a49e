import ConaryStore
import ConarySupport
import ConaryModel
import Foundation

/// Walks a directory tree without following symlinks and records what a trove needs.
enum TreeScanner {
    /// Every entry below `root`, with paths starting at "/"; regular files not yet hashed.
    static func scan(_ root: String) throws -> [FileEntry] {
        guard let st = FileSystem.lstat(root), FileSystem.isDirectory(st) else {
            throw PackageError.notImportable("\(root) is not a directory.")
        }
        var items: [FileEntry] = []
        let top = try Descriptor.directory(root)
        try scanDirectory(top.fd, prefix: "", display: root, into: &items)
        return items
    }

    private static func scanDirectory(_ fd: Int32, prefix: String, display: String, into items: inout [FileEntry]) throws {
        let names: [String]
        do { names = try FileSystem.listDirectory(fd) } catch let error as SystemError where error.errno == EILSEQ {
            throw PackageError.notImportable("\(display + prefix)/\(error.path) is not a UTF-8 file name; troves hold UTF-8 paths only.")
        }
        for name in names.sorted() {
            let path = prefix + "/" + name
            guard let st = FileSystem.lstat(name, relativeTo: fd) else {
                throw StoreError.changedDuringImport(display + path)
            }
            let mode = UInt32(st.st_mode) & 0o7777
            var item = FileEntry(path: path, kind: .regular, size: Int64(st.st_size), mode: mode, uid: st.st_uid, gid: st.st_gid)
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                break
            case S_IFDIR:
                item.kind = .directory
                item.size = 0
            case S_IFLNK:
                item.kind = .symlink
                item.target = try FileSystem.readLink(name, relativeTo: fd)
                item.size = 0
            default:
                throw PackageError.notImportable(
                    "\(display + path) is a device node, socket or pipe; troves hold only files, directories and symlinks.")
            }
            try PayloadPath.checkDeployable(item, package: display)
            items.append(item)
            if item.kind == .directory {
                let child = try Descriptor.directory(name, relativeTo: fd)
                try scanDirectory(child.fd, prefix: path, display: display, into: &items)
            }
        }
    }
}
