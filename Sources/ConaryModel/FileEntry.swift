/// The kind of one path of a trove.
public enum FileKind: String, Codable, Sendable {
    case regular, directory, symlink
}

/// How a package treats one of its files.
public struct FileFlags: OptionSet, Codable, Equatable, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// A configuration file (Debian conffile, RPM %config).
    public static let config = FileFlags(rawValue: 1)
    /// A configuration file whose local edits win over the package's new version.
    public static let noreplace = FileFlags(rawValue: 2)
    /// Owned but not shipped (RPM %ghost).
    public static let ghost = FileFlags(rawValue: 4)
    public static let doc = FileFlags(rawValue: 8)

    /// Every flag with the name queries print.
    public static let names: [(flag: FileFlags, name: String)] = [(.config, "config"), (.noreplace, "noreplace"), (.ghost, "ghost"), (.doc, "doc")]
}

/// One path of a trove as recorded in the database.
public struct FileEntry: Codable, Equatable, Sendable {
    public var path: String
    public var kind: FileKind
    public var objectID: String?
    public var sha256: String?
    public var size: Int64
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var target: String?
    public var flags: FileFlags

    /// The mode a regular file gets in a state tree for the mode its package declared: write
    /// bits are always stripped, so a deployed file (a hardlink into the store) is never
    /// opened for writing by accident.
    public static func deployedMode(_ packageMode: UInt32) -> UInt32 {
        packageMode & 0o7555
    }

    public init(path: String, kind: FileKind, objectID: String? = nil, sha256: String? = nil, size: Int64 = 0,
                mode: UInt32, uid: UInt32 = 0, gid: UInt32 = 0, target: String? = nil, flags: FileFlags = []) {
        self.flags = flags
        self.path = path
        self.kind = kind
        self.objectID = objectID
        self.sha256 = sha256
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.target = target
    }
}
