import ConaryModel
import ConarySupport
import CLinux
import Foundation
import Glibc

/// A /usr that the boot mounted over (the conary dracut module binds the booted state's tree
/// there, read-only). Conary must work on the physical tree underneath: before it opens
/// anything in the root it takes a private mount namespace (threads it starts later share
/// it) and detaches the mount there. A rename of a mount point fails only where it is
/// mounted, so the swap works in that namespace; afterwards the host's /usr is bound again,
/// read-only, onto the new live tree.
public final class UsrMount {
    /// The state whose tree the boot mounted on /usr.
    package let bootedState: Int64?
    private let rootPath: String
    private let usr: String
    private let host: Descriptor

    /// Nil unless `<root>/usr` is a bind mount from the root's own filesystem; a separate
    /// filesystem on /usr is not Conary's to detach (the swap refuses it later).
    public static func detachIfMounted(rootPath: String) throws -> UsrMount? {
        let usr = (rootPath == "/" ? "" : rootPath) + "/usr"
        guard FileSystem.isMountPoint(usr), let mounted = FileSystem.lstat(usr), let root = FileSystem.lstat(rootPath),
              mounted.st_dev == root.st_dev else { return nil }
        return try UsrMount(rootPath: rootPath, usr: usr)
    }

    private init(rootPath: String, usr: String) throws {
        self.rootPath = rootPath
        self.usr = usr
        bootedState = (try? FileSystem.readSmallFile(usr + "/" + RootLayout.stateMarker))
            .flatMap { $0.flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        host = try Descriptor.open("/proc/self/ns/mnt", flags: O_RDONLY | O_CLOEXEC)
        try sys("Taking a private mount namespace for", usr, conary_private_mounts())
        try sys("Detaching the boot's mount from", usr, conary_detach_mount(usr))
    }

    /// After a swap that archived the tree of state `previous`: in the host's namespace the
    /// boot's mount moved with that tree (mounts follow directories, not names), so it is
    /// detached there, and the new live tree is bound on /usr read-only.
    func remountLive(previous: Int64) throws {
        let archived = (rootPath == "/" ? "" : rootPath) + "/conary/" + StateTrees.archived(previous)
        let detach = [archived, usr]
        let result = withArrayOfCStrings(detach) { paths in
            conary_rebind_read_only(host.fd, paths, Int32(paths.count), usr)
        }
        try sys("Mounting the live tree read-only on", usr, result)
    }
}

/// Calls `body` with C strings that live as long as the call.
private func withArrayOfCStrings<T>(_ strings: [String], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return body(copies.map { UnsafePointer($0) })
}
