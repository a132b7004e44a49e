import Foundation

/// The merged-/usr shape every state deploys into. Packages that ship /bin/x, /lib/x or
/// /usr/lib64/x land in /usr through these symlinks (the VFS reparents their subtrees).
public struct RootLayout: Sendable {
    public struct Link: Sendable, Equatable {
        public let path: String
        public let target: String
    }

    /// Symlinks the VFS treats as if a trove had declared them.
    public let links: [Link]
    /// Top-level trees that a state carries inside /usr: /etc defaults become /usr/etc,
    /// the pristine copy the /etc merge starts from (as OSTree does).
    public let relocations: [String: [String]]
    /// Kernel files Debian packages ship in /boot (`vmlinuz-6.1.0-9-amd64`), by prefix, and the
    /// name they take in `/usr/lib/modules/<version>/`, where Arch and Fedora ship them and
    /// where Conary finds a state's kernels: /boot belongs to the boot loader, not to a state.
    public let kernelFiles: [String: String]

    public static let standard = RootLayout(
        links: [
            Link(path: "/bin", target: "usr/bin"),
            Link(path: "/sbin", target: "usr/sbin"),
            Link(path: "/lib", target: "usr/lib"),
            Link(path: "/lib64", target: "usr/lib64"),
            Link(path: "/usr/lib64", target: "lib"),
        ],
        relocations: ["etc": ["usr", "etc"]],
        kernelFiles: ["vmlinuz-": "vmlinuz", "initrd.img-": "initrd", "System.map-": "System.map", "config-": "config"])

    /// Where a /boot/<prefix><version> kernel file of a package lands in the state, if it is one.
    public func kernelFile(_ parts: [String]) -> [String]? {
        guard parts.count == 2, parts[0] == "boot" else { return nil }
        for (prefix, name) in kernelFiles where parts[1].hasPrefix(prefix) && parts[1].count > prefix.count {
            return ["usr", "lib", "modules", String(parts[1].dropFirst(prefix.count)), name]
        }
        return nil
    }

    /// The links that live in the root itself, outside any state's /usr.
    public var rootLinks: [Link] { links.filter { $0.path.split(separator: "/").count == 1 } }

    /// Where `path` lands once the layout's links are followed (/bin/sh → /usr/bin/sh,
    /// /lib64/x → /usr/lib/x): two paths with one canonical form are the same file.
    public func canonical(_ path: String) -> String {
        var current = path
        var changed = true
        while changed {
            changed = false
            for link in links where current.hasPrefix(link.path + "/") {
                let parent = (link.path as NSString).deletingLastPathComponent
                current = (parent as NSString).appendingPathComponent(link.target) + current.dropFirst(link.path.count)
                changed = true
            }
        }
        return current
    }

    /// Every spelling of `path` through the layout's links: /usr/bin/sh is also /bin/sh.
    public func aliases(of path: String) -> Set<String> {
        let target = canonical(path)
        var result: Set<String> = [path, target]
        for link in links {
            let directory = String(canonical(link.path + "/.").dropLast(2))
            if target.hasPrefix(directory + "/") { result.insert(link.path + target.dropFirst(directory.count)) }
        }
        return result
    }

    /// The file inside every state's /usr that names the state, so the number swaps with the tree.
    public static let stateMarker = ".conary-state"
    /// The file beside the marker that describes the state in full (`StateManifest`), so the
    /// database can be rebuilt from the trees on disk.
    public static let stateManifest = ".conary-manifest"
    /// Conary's own files in every state's /usr, which no trove may ship.
    public static let stateFiles: Set<String> = [stateMarker, stateManifest]
}
