import ConarySupport
import Crypto
import Foundation

/// The content-addressed store: <root>/conary/objects/ab/cdef…, one read-only file per
/// object, mtime 0, never modified in place.
public final class ObjectStore: @unchecked Sendable {
    public let path: String
    package let directory: Descriptor
    static let canonicalMTime = timespec(tv_sec: 0, tv_nsec: 0)
    private static let incomingPrefix = ".incoming-"
    private let sealingLock = NSLock()
    private var knownSealing: FSVerity.Support?

    package init(path: String) throws {
        self.path = path
        try FileSystem.makeDirectory(path, mode: 0o755)
        directory = try Descriptor.directory(path)
        for bucket in 0..<256 {
            try FileSystem.makeDirectory(String(format: "%02x", bucket), relativeTo: directory.fd, mode: 0o755)
        }
    }

    /// "ab/cdef…" for object id "abcdef…".
    public static func relativePath(_ id: String) -> String {
        let split = id.index(id.startIndex, offsetBy: 2)
        return "\(id[..<split])/\(id[split...])"
    }

    public func contains(_ id: String) -> Bool {
        FileSystem.exists(ObjectStore.relativePath(id), relativeTo: directory.fd)
    }

    /// How object `id` is no longer as it was stored, seen without reading it.
    package enum Damage: Equatable, CustomStringConvertible {
        case missing, notRegular
        case wrongSize(actual: Int64, expected: Int64)
        /// Its mtime left the canonical one: a write through any of its links moves it.
        case writtenTo

        package var description: String {
            switch self {
            case .missing: return "missing from the store"
            case .notRegular: return "not a regular file"
            case let .wrongSize(actual, expected): return "size \(actual), expected \(expected)"
            case .writtenTo: return "written to since it was stored (its mtime is no longer 0)"
            }
        }
    }

    /// What is wrong with a stored object (recorded as `size` bytes) by its metadata `st`: nil
    /// when it is a regular file of that size with the canonical mtime.
    package static func damage(of st: stat, size: Int64) -> Damage? {
        guard FileSystem.isRegular(st) else { return .notRegular }
        if Int64(st.st_size) != size { return .wrongSize(actual: Int64(st.st_size), expected: size) }
        if st.st_mtim.tv_sec != ObjectStore.canonicalMTime.tv_sec || st.st_mtim.tv_nsec != ObjectStore.canonicalMTime.tv_nsec { return .writtenTo }
        return nil
    }

    /// Whether the store holds object `id` as it was stored. An import that brings the
    /// content of a damaged object replaces it.
    package func holdsIntact(_ id: String, size: Int64) -> Bool { identity(of: id).map { Self.damage(of: $0, size: size) == nil } ?? false }

    package func openObject(_ id: String) throws -> Descriptor {
        try Descriptor.open(ObjectStore.relativePath(id), relativeTo: directory.fd, flags: O_RDONLY | O_NOFOLLOW)
    }

    /// Starts a batch of new objects. Nothing is visible in the store until `place()`.
    package func beginIntake() throws -> ObjectIntake {
        try ObjectIntake(store: self, name: "\(ObjectStore.incomingPrefix)\(getpid())-\(UUID().uuidString.prefix(8))")
    }

    /// Removes intake folders left by an interrupted import.
    package func discardAbandonedIntakes() throws {
        for name in try FileSystem.listDirectory(directory.fd) where name.hasPrefix(ObjectStore.incomingPrefix) {
            try FileSystem.removeTree(name, relativeTo: directory.fd)
        }
    }

    /// Every object id that has a file in the store.
    package func storedObjectIDs() throws -> [String] {
        var ids: [String] = []
        for bucket in 0..<256 {
            let name = String(format: "%02x", bucket)
            let bucketDir = try Descriptor.directory(name, relativeTo: directory.fd)
            for file in try FileSystem.listDirectory(bucketDir.fd) { ids.append(name + file) }
        }
        return ids
    }

    /// The object id of the file open at `fd` as it is now: its content hashed with its mode,
    /// owner and extended attributes. A file in the store or a tree that is intact has the id
    /// it is recorded under.
    package static func objectID(of fd: Int32, path: String, buffer: ReadBuffer) throws -> String {
        let st = try Descriptor.stat(fd, path: path)
        let (sha256, _) = try Hashing.stream(from: fd, path: path, buffer: buffer.pointer)
        let xattrs = try ExtendedAttributes.read(fd: fd, path: path)
        let metadata = ObjectMetadata(packageMode: UInt32(st.st_mode) & 0o7777, uid: st.st_uid, gid: st.st_gid, xattrs: xattrs)
        return metadata.objectID(contentSHA256: sha256)
    }

    /// Whether object `id` still hashes to its id (content, mode, owner and xattrs). On a sealed
    /// object, a damaged block fails the read with EIO.
    package func matchesID(_ id: String, buffer: ReadBuffer) throws -> Bool {
        let file = try openObject(id)
        return try ObjectStore.objectID(of: file.fd, path: path + "/" + ObjectStore.relativePath(id), buffer: buffer) == id
    }

    /// Moves a damaged object out of the store into `folder` (on the store's filesystem), so
    /// that it is never linked again and an import or repair can put a good copy in its place.
    /// The file keeps its inode: trees that still link it are re-linked by the repair.
    package func quarantine(_ id: String, into folder: Descriptor) throws {
        let name = "\(id).\(UUID().uuidString.prefix(8))"
        try sys("Quarantining object", id, renameat(directory.fd, ObjectStore.relativePath(id), folder.fd, name))
        try folder.sync()
        try Descriptor.directory(String(id.prefix(2)), relativeTo: directory.fd).sync()
    }

    /// Puts object `id` back from a file that was proven to hold exactly it (a tree's link to
    /// it, re-hashed): one more hardlink to the same inode, no copy.
    package func adopt(_ id: String, from name: String, relativeTo fd: Int32) throws {
        try sys("Restoring object", id, linkat(fd, name, directory.fd, ObjectStore.relativePath(id), 0))
        try Descriptor.directory(String(id.prefix(2)), relativeTo: directory.fd).sync()
    }

    /// The inode of object `id`, nil when the store lacks it.
    package func identity(of id: String) -> stat? {
        FileSystem.lstat(ObjectStore.relativePath(id), relativeTo: directory.fd)
    }

    /// Whether this store seals its objects with fs-verity, found out once per store. The
    /// kernel is asked to measure the store's folder: that writes nothing, so it answers on a
    /// full or read-only disk too, and it tells a filesystem with fs-verity (ENODATA: the
    /// folder is not sealed) from one without. Sealing can still be refused where measuring
    /// is not (4096-byte Merkle blocks on an ext4 of 1024-byte blocks); the first object
    /// refused that way makes this `unsupported` for the rest of the store's life.
    public var sealing: FSVerity.Support {
        get throws {
            sealingLock.lock(); defer { sealingLock.unlock() }
            if let knownSealing { return knownSealing }
            let found = try FSVerity.support(directory.fd, path: path)
            knownSealing = found
            return found
        }
    }

    /// Seals object `id`, one stored before its filesystem could seal, and returns its verity
    /// digest; nil when this store cannot seal (`sealing` says why). Sealing reads the whole
    /// object, and a sealed object stays sealed.
    public func seal(_ id: String) throws -> String? {
        guard case .supported = try sealing else { return nil }
        let relative = ObjectStore.relativePath(id)
        let object = try openObject(id)
        return try sealFile(object.fd, path: relative)
    }

    /// The verity digest of object `id` as the kernel measures it now; nil when it is not sealed.
    public func verityDigest(_ id: String) throws -> String? {
        let object = try openObject(id)
        return try FSVerity.digest(object.fd, path: ObjectStore.relativePath(id))
    }

    /// Seals the file open read-only at `fd` and returns its verity digest, or nil when the
    /// filesystem refuses, which the store then remembers so no other object is tried.
    fileprivate func sealFile(_ fd: Int32, path: String) throws -> String? {
        switch try FSVerity.enable(fd, path: path) {
        case .sealed:
            // ext4 truncates the file to its size before it writes the Merkle tree, which
            // stamps the mtime; an object's is 0 (metadata stays changeable when sealed).
            var times = [ObjectStore.canonicalMTime, ObjectStore.canonicalMTime]
            try sys("Setting times of", path, futimens(fd, &times))
            return try FSVerity.digest(fd, path: path)
        case let .unsupported(errno):
            sealingLock.lock(); defer { sealingLock.unlock() }
            knownSealing = .unsupported(errno: errno)
            return nil
        }
    }

    /// Removes object `id`; returns the bytes it took (0 if it was gone already).
    @discardableResult
    public func remove(_ id: String) throws -> Int64 {
        let relative = ObjectStore.relativePath(id)
        let size = Int64(FileSystem.lstat(relative, relativeTo: directory.fd)?.st_size ?? 0)
        if unlinkat(directory.fd, relative, 0) == -1 {
            if errno == ENOENT { return 0 }
            throw SystemError(operation: "Removing object", path: relative, errno: errno)
        }
        return size
    }
}

/// One import's new objects: each file is hashed first, and only content the store lacks is
/// copied (in the kernel, with copy_file_range) into a private folder. `place()` makes them
/// durable with one syncfs and renames them into the store. A crash before `place()`
/// leaves only the private folder, which the next run discards.
package final class ObjectIntake: @unchecked Sendable {
    private let store: ObjectStore
    private let name: String
    private let directory: Descriptor
    private let lock = NSLock()
    /// Objects this intake writes, by temp name; the id set stops a duplicate being written twice.
    private var pending: [(temp: String, id: String, size: Int64)] = []
    private var claimed: Set<String> = []
    private var streamed = 0

    fileprivate init(store: ObjectStore, name: String) throws {
        self.store = store
        self.name = name
        try sys("Creating directory", name, mkdirat(store.directory.fd, name, 0o700))
        directory = try Descriptor.directory(name, relativeTo: store.directory.fd)
    }

    /// Claims `id` for this intake under the temp name `written` (or a new one, returned);
    /// nil when the store or this intake has it already.
    private func claim(_ id: String, size: Int64, written: String? = nil) -> String? {
        lock.lock(); defer { lock.unlock() }
        guard !claimed.contains(id), !store.holdsIntact(id, size: size) else { return nil }
        claimed.insert(id)
        let temp = written ?? "f\(pending.count)"
        pending.append((temp, id, size))
        return temp
    }

    /// Adds the file open at `source` (read from offset 0) to the intake.
    package func ingest(source: Int32, path: String, metadata: ObjectMetadata, buffer: ReadBuffer) throws -> (objectID: String, sha256: String, size: Int64) {
        let before = try Descriptor.stat(source, path: path)
        let (sha256, size) = try Hashing.stream(from: source, path: path, buffer: buffer.pointer)
        let id = metadata.objectID(contentSHA256: sha256)
        if let temp = claim(id, size: size) {
            let output = try Descriptor.open(temp, relativeTo: directory.fd, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            try sys("Rewinding", path, Int32(truncatingIfNeeded: lseek(source, 0, SEEK_SET)))
            try FileCopy.copy(from: source, to: output.fd, length: size, path: path)
            try metadata.apply(to: output.fd, path: path)
        }
        // The copy is not hashed again: a file that changed meanwhile shows in its stat.
        let after = try Descriptor.stat(source, path: path)
        guard Int64(after.st_size) == size, before.st_size == after.st_size,
              before.st_mtim.tv_sec == after.st_mtim.tv_sec, before.st_mtim.tv_nsec == after.st_mtim.tv_nsec,
              before.st_ctim.tv_sec == after.st_ctim.tv_sec, before.st_ctim.tv_nsec == after.st_ctim.tv_nsec else {
            throw StoreError.changedDuringImport(path)
        }
        return (id, sha256, size)
    }

    /// Adds content that arrives as a stream (an archive member): it is written while it is
    /// hashed, and dropped again if the store turns out to have it. `observe` sees every
    /// chunk, for format checksums such as a .deb's md5sums.
    package func ingest(path: String, metadata: ObjectMetadata, buffer: ReadBuffer,
                read: (UnsafeMutableRawBufferPointer) throws -> Int,
                observe: (UnsafeRawBufferPointer) -> Void) throws -> (objectID: String, sha256: String, size: Int64) {
        lock.lock()
        streamed += 1
        let temp = "s\(streamed)"
        lock.unlock()
        let output = try Descriptor.open(temp, relativeTo: directory.fd, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        var hasher = SHA256()
        // A stream has no holes to ask for, so zero blocks become holes, as a copy keeps them.
        var writer = SparseWriter(fd: output.fd, path: path)
        while true {
            let count = try read(buffer.pointer)
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer.pointer[0..<count])
            hasher.update(bufferPointer: chunk)
            observe(chunk)
            try writer.write(chunk)
        }
        try writer.finish()
        try metadata.apply(to: output.fd, path: path)
        let sha256 = hasher.finalize().hex
        let id = metadata.objectID(contentSHA256: sha256)
        if claim(id, size: writer.size, written: temp) == nil { try sys("Removing", temp, unlinkat(directory.fd, temp, 0)) }
        return (id, sha256, writer.size)
    }

    /// Throws away everything ingested so far (a package was refused).
    package func discard() throws {
        try FileSystem.removeTree(name, relativeTo: store.directory.fd)
    }

    /// Makes every ingested object durable, sealed where the store can seal, and visible in
    /// the store, then removes the intake. Returns the verity digest of every object it sealed,
    /// by object id, for the database.
    package func place() throws -> [String: String] {
        try directory.syncFilesystem()
        FaultInjection.point("import.objects-written")
        let sealed = try seal()
        var digests: [String: String] = [:]
        for (index, (temp, id, size)) in pending.enumerated() {
            let final = ObjectStore.relativePath(id)
            if store.holdsIntact(id, size: size) {
                try sys("Removing", temp, unlinkat(directory.fd, temp, 0))
            } else {
                // Over a damaged copy, if there is one: trees that still link it are re-linked by fsck --repair.
                try sys("Placing object", final, renameat(directory.fd, temp, store.directory.fd, final))
                digests[id] = sealed[index]
            }
        }
        try store.directory.syncFilesystem()
        try sys("Removing directory", name, unlinkat(store.directory.fd, name, AT_REMOVEDIR))
        FaultInjection.point("import.objects-placed")
        return digests
    }

    /// Seals the objects once their content is durable and before they are placed: enabling
    /// fs-verity writes out the file's dirty pages and waits for them, file by file, where
    /// the syncfs before wrote them all at once; no object is ever visible unsealed on a
    /// store that seals; and the syncfs after the renames makes the seals durable with them.
    /// On every core, as building a Merkle tree reads and hashes the whole file. Returns the
    /// digests in the order of `pending`, nil where an object was not sealed.
    private func seal() throws -> [String?] {
        var digests = [String?](repeating: nil, count: pending.count)
        guard !pending.isEmpty, case .supported = try store.sealing else { return digests }
        try digests.withUnsafeMutableBufferPointer { slots in
            try Parallel.forEach(pending.count, makeContext: {}) { index, _ in
                // A refusal of one object stops the others (`store.sealing` remembers it).
                guard case .supported = try store.sealing else { return }
                let temp = pending[index].temp
                let file = try Descriptor.open(temp, relativeTo: directory.fd, flags: O_RDONLY | O_NOFOLLOW)
                slots[index] = try store.sealFile(file.fd, path: temp)
            }
        }
        return digests
    }
}
