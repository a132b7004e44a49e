import Foundation

/// What a trove is: a package, or one of its components. Groups (troves of troves) come later.
public enum TroveKind: String, Codable, Sendable, CaseIterable {
    case package
    case component
}

/// Where a trove came from: a package file of one of four formats, or a committed directory tree.
public enum PackageFormat: String, Codable, Sendable, CaseIterable {
    case deb, rpm, arch, ccs, tree

    /// Formats whose own tools (dpkg-shlibdeps, rpm's generators, makepkg) write complete
    /// dependencies, so requirements Conary derives from their files add nothing.
    public var declaresItsDependencies: Bool { self == .deb || self == .rpm || self == .arch }
}

/// A trove: a named, versioned set of files.
public struct Trove: Codable, Equatable, Sendable {
    public var id: Int64?
    public var name: String
    public var version: String
    public var kind: TroveKind
    public var format: PackageFormat
    public var source: String
    public var created: Date
    public var flavor: String = ""
    public var arch: String? = nil
    public var summary: String? = nil
    public var license: String? = nil
    public var url: String? = nil
    /// SHA-256 of the package file a trove came from.
    public var sha256: String? = nil
    /// Whether the package's signature was checked: "unsigned", "verified", … (nil for trees).
    public var signature: String? = nil

    public init(id: Int64? = nil, name: String, version: String, kind: TroveKind, format: PackageFormat, source: String, created: Date,
                flavor: String = "", arch: String? = nil, summary: String? = nil, license: String? = nil, url: String? = nil,
                sha256: String? = nil, signature: String? = nil) {
        self.id = id
        self.name = name
        self.version = version
        self.kind = kind
        self.format = format
        self.source = source
        self.created = created
        self.flavor = flavor
        self.arch = arch
        self.summary = summary
        self.license = license
        self.url = url
        self.sha256 = sha256
        self.signature = signature
    }

    public var spec: String { "\(name)=\(version)" }

    /// "foo" for both the package foo and its components foo:runtime, foo:doc, …
    public var packageName: String { Trove.packageName(of: name) }

    /// "foo" of "foo:runtime" and of "foo".
    public static func packageName(of name: String) -> String {
        name.firstIndex(of: ":").map { String(name[..<$0]) } ?? name
    }

    public var isComponent: Bool { kind == .component }
}

/// A maintainer script, stored as shipped; Conary does not run it yet.
public struct Scriptlet: Codable, Equatable, Sendable {
    public var name: String
    public var interpreter: String?
    public var body: String

    public init(name: String, interpreter: String?, body: String) {
        self.name = name
        self.interpreter = interpreter
        self.body = body
    }
}
