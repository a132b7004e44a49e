import Foundation

public enum StateStatus: String, Codable, Sendable {
    /// Recorded by a changeset that has not swapped yet.
    case pending
    case active
    case archived
    case pruned
}

/// A numbered, complete /usr tree.
public struct SystemState: Codable, Equatable, Sendable {
    public var id: Int64
    public var parent: Int64?
    public var created: Date
    public var summary: String
    public var treeHash: String
    public var fileCount: Int
    public var status: StateStatus
    public var pinned: Bool

    public init(id: Int64, parent: Int64?, created: Date, summary: String, treeHash: String, fileCount: Int,
                status: StateStatus, pinned: Bool) {
        self.id = id
        self.parent = parent
        self.created = created
        self.summary = summary
        self.treeHash = treeHash
        self.fileCount = fileCount
        self.status = status
        self.pinned = pinned
    }
}

/// Why a trove is in a state. Stored as its text: "explicit", "required by NAME", "dependency".
public enum InstallReason: Equatable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The user asked for it.
    case explicit
    /// Pulled in because the named trove needs it.
    case requiredBy(String)
    /// Pulled in because the named trove recommends it (apt's default, `--no-recommends` to skip).
    case recommendedBy(String)
    /// Pulled in by the solver with no single trove to name.
    case dependency

    private static let requiredByPrefix = "required by "
    private static let recommendedByPrefix = "recommended by "

    public init(_ text: String) {
        if text == "explicit" {
            self = .explicit
        } else if text.hasPrefix(Self.requiredByPrefix) {
            self = .requiredBy(String(text.dropFirst(Self.requiredByPrefix.count)))
        } else if text.hasPrefix(Self.recommendedByPrefix) {
            self = .recommendedBy(String(text.dropFirst(Self.recommendedByPrefix.count)))
        } else {
            self = .dependency
        }
    }

    public var description: String {
        switch self {
        case .explicit: return "explicit"
        case let .requiredBy(name): return Self.requiredByPrefix + name
        case let .recommendedBy(name): return Self.recommendedByPrefix + name
        case .dependency: return "dependency"
        }
    }

    public init(from decoder: Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

public struct StateMember: Codable, Sendable {
    public var stateId: Int64
    public var troveId: Int64
    public var reason: InstallReason

    public init(stateId: Int64, troveId: Int64, reason: InstallReason) {
        self.stateId = stateId
        self.troveId = troveId
        self.reason = reason
    }
}

public enum ChangesetStatus: String, Codable, Sendable {
    case pending
    case applied
    /// Interrupted before its swap; the system stayed on its previous state.
    case abandoned
}

/// What a changeset did: built a new state from a request (install, remove, update,
/// autoremove), or made an existing state live (activate, rollback).
public enum ChangesetKind: String, Codable, Sendable, CaseIterable {
    case install, remove, update, autoremove
    case activate, rollback
}

/// One operation that moves the system from one state to another.
public struct Changeset: Codable, Sendable {
    public var id: Int64?
    public var uuid: String
    public var kind: ChangesetKind
    public var status: ChangesetStatus
    public var fromState: Int64?
    public var toState: Int64
    public var command: String
    public var started: Date
    public var finished: Date?

    public init(id: Int64? = nil, uuid: String, kind: ChangesetKind, status: ChangesetStatus, fromState: Int64?, toState: Int64,
                command: String, started: Date, finished: Date? = nil) {
        self.id = id
        self.uuid = uuid
        self.kind = kind
        self.status = status
        self.fromState = fromState
        self.toState = toState
        self.command = command
        self.started = started
        self.finished = finished
    }
}

/// A kernel a state can boot, recorded when the state is built so boot entries never need
/// the state's tree again: `/usr/lib/modules/<version>/vmlinuz` or `/usr/lib/kernel/<version>/vmlinuz`,
/// with its initramfs (shipped beside it as `initrd`, or built by the state's dracut).
public struct StateKernel: Codable, Equatable, Sendable {
    public var stateId: Int64
    public var version: String
    public var kernelObject: String
    public var kernelSHA256: String
    public var initrdObject: String?
    public var initrdSHA256: String?
    /// PRETTY_NAME (or NAME) of the state's /usr/lib/os-release, for the boot menu.
    public var osName: String

    public init(stateId: Int64, version: String, kernelObject: String, kernelSHA256: String, initrdObject: String?,
                initrdSHA256: String?, osName: String) {
        self.stateId = stateId
        self.version = version
        self.kernelObject = kernelObject
        self.kernelSHA256 = kernelSHA256
        self.initrdObject = initrdObject
        self.initrdSHA256 = initrdSHA256
        self.osName = osName
    }
}
