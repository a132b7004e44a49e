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

    public static let standard = RootLayout(
        links: [
            Link(path: "/bin", target: "usr/bin"),
            Link(path: "/sbin", target: "usr/sbin"),
            Link(path: "/lib", target: "usr/lib"),
            Link(path: "/lib64", target: "usr/lib64"),
            Link(path: "/usr/lib64", target: "lib"),
        ],
        relocations: ["etc": ["usr", "etc"]])

    /// The links that live in the root itself, outside any state's /usr.
    public var rootLinks: [Link] { links.filter { $0.path.split(separator: "/").count == 1 } }

    /// The file inside every state's /usr that names the state, so the number swaps with the tree.
    public static let stateMarker = ".conary-state"
}
