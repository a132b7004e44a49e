import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVFS
import Foundation

/// `conary verify`: the live /usr against what the database says the active state holds.
extension ConaryRoot {
    public struct Problem: Equatable, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case missing, modified, unexpected, wrongState = "wrong-state"
        }
        public let kind: Kind
        public let path: String
        public let detail: String

        public var description: String { "\(kind.rawValue): \(path)\(detail.isEmpty ? "" : " (\(detail))")" }
    }

    public func verify() throws -> [Problem] {
        let active = try requireActiveState()
        var problems: [Problem] = []
        let live = try trees.liveState()
        if live != active.id {
            let liveText = live.map { "state \($0)" } ?? "nothing"
            return [Problem(kind: .wrongState, path: "/usr", detail: "holds \(liveText), the database says state \(active.id)")]
        }
        for link in layout.rootLinks {
            do { try trees.checkRootLink(link) } catch {
                problems.append(Problem(kind: .modified, path: link.path, detail: "should be a symlink to \(link.target)"))
            }
            if !FileSystem.exists(String(link.path.dropFirst()), relativeTo: trees.root.fd) {
                problems.append(Problem(kind: .missing, path: link.path, detail: "symlink to \(link.target)"))
            }
        }
        let tree = try tree(ofState: active.id)
        let usr = try Descriptor.directory("usr", relativeTo: trees.root.fd)
        var expected: Set<String> = [RootLayout.stateMarker]
        var regular: [(path: String, node: ArenaTree.Node)] = []
        if let usrNode = tree.lookup("/usr") {
            try tree.walk(from: usrNode) { path, node in
                expected.insert(path)
                if let problem = try compareMetadata(path, node, in: usr.fd) {
                    problems.append(problem)
                } else if case .regular = node.kind {
                    regular.append((path, node))
                }
            }
        }
        problems += try compareContents(regular, in: usr.fd)
        try findUnexpected(in: usr.fd, prefix: "", expected: expected, into: &problems)
        return problems.sorted { $0.path < $1.path }
    }

    private func compareMetadata(_ path: String, _ node: ArenaTree.Node, in usr: Int32) throws -> Problem? {
        let shown = "/usr/" + path
        guard let st = FileSystem.lstat(path, relativeTo: usr) else { return Problem(kind: .missing, path: shown, detail: "") }
        let kindMatches: Bool
        switch node.kind {
        case .directory: kindMatches = FileSystem.isDirectory(st)
        case .regular: kindMatches = FileSystem.isRegular(st)
        case .symlink: kindMatches = FileSystem.isSymlink(st)
        }
        guard kindMatches else { return Problem(kind: .modified, path: shown, detail: "file type changed") }
        if case let .symlink(target) = node.kind {
            let actual = try FileSystem.readLink(path, relativeTo: usr)
            return actual == target ? nil : Problem(kind: .modified, path: shown, detail: "points to \(actual), expected \(target)")
        }
        let mode = UInt32(st.st_mode) & 0o7777
        if mode != node.mode {
            return Problem(kind: .modified, path: shown, detail: "mode \(String(mode, radix: 8)), expected \(String(node.mode, radix: 8))")
        }
        if st.st_uid != node.uid || st.st_gid != node.gid {
            return Problem(kind: .modified, path: shown, detail: "owner \(st.st_uid):\(st.st_gid), expected \(node.uid):\(node.gid)")
        }
        if case let .regular(_, size) = node.kind, Int64(st.st_size) != size {
            return Problem(kind: .modified, path: shown, detail: "size \(st.st_size), expected \(size)")
        }
        return nil
    }

    /// Re-hashes every regular file (content, mode, owner and xattrs make up its object id).
    private func compareContents(_ files: [(path: String, node: ArenaTree.Node)], in usr: Int32) throws -> [Problem] {
        var mismatched = [Bool](repeating: false, count: files.count)
        try mismatched.withUnsafeMutableBufferPointer { flags in
            try Parallel.forEach(files.count, makeContext: { ReadBuffer() }) { index, buffer in
                let (path, node) = files[index]
                guard case let .regular(objectID, _) = node.kind else { return }
                let file = try Descriptor.open(path, relativeTo: usr, flags: O_RDONLY | O_NOFOLLOW)
                let (sha256, _) = try Hashing.stream(from: file.fd, path: "/usr/" + path, buffer: buffer.pointer)
                let xattrs = try ExtendedAttributes.read(fd: file.fd, path: "/usr/" + path)
                let metadata = ObjectMetadata(packageMode: node.mode, uid: node.uid, gid: node.gid, xattrs: xattrs)
                flags[index] = metadata.objectID(contentSHA256: sha256) != objectID
            }
        }
        return files.indices.filter { mismatched[$0] }.map {
            Problem(kind: .modified, path: "/usr/" + files[$0].path, detail: "content or extended attributes changed")
        }
    }

    private func findUnexpected(in fd: Int32, prefix: String, expected: Set<String>, into problems: inout [Problem]) throws {
        for name in try FileSystem.listDirectory(fd) {
            let path = prefix.isEmpty ? name : prefix + "/" + name
            guard expected.contains(path) else {
                problems.append(Problem(kind: .unexpected, path: "/usr/" + path, detail: ""))
                continue
            }
            if let st = FileSystem.lstat(name, relativeTo: fd), FileSystem.isDirectory(st) {
                let child = try Descriptor.directory(name, relativeTo: fd)
                try findUnexpected(in: child.fd, prefix: path, expected: expected, into: &problems)
            }
        }
    }
}
