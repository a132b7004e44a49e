import Foundation

/// A state described in full, written into the state's tree beside its marker
/// (`/usr/.conary-manifest`) when the state is built. It moves with the tree through every
/// swap and is deleted with it, so the trees on disk (with the store) can rebuild the
/// database (`conary db rebuild`). It is small: each trove is named by the id of its
/// `TroveRecord`, an object of the store written once per trove, so building a state costs
/// in proportion to the troves it adds, not to the files it holds.
public struct StateManifest: Codable, Equatable, Sendable {
    /// Bumped when a field changes meaning; a reader refuses formats it does not know.
    public static let currentFormat = 1

    public var format: Int
    /// The state as built (its status and pin are the database's business, not the tree's).
    public var state: SystemState
    public var troves: [Member]
    public var kernels: [StateKernel]

    public init(state: SystemState, troves: [Member], kernels: [StateKernel]) {
        self.format = Self.currentFormat
        self.state = state
        self.troves = troves
        self.kernels = kernels
    }

    public struct Member: Codable, Equatable, Sendable {
        /// The object id of the trove's record in the store.
        public var record: String
        /// name=version[flavor], for a reader without the store at hand.
        public var trove: String
        public var reason: InstallReason

        public init(record: String, trove: String, reason: InstallReason) {
            self.record = record
            self.trove = trove
            self.reason = reason
        }
    }
}

/// Everything recorded about one trove, stored as an object (JSON, sorted keys) so that
/// state manifests can name it by id. A component's package is the trove of its package
/// name with the same version and flavor.
public struct TroveRecord: Codable, Equatable, Sendable {
    /// The trove's row; its database id is not part of the record.
    public var trove: Trove
    public var files: [FileEntry]
    public var dependencies: [Dependency]
    public var scriptlets: [Scriptlet]

    public init(trove: Trove, files: [FileEntry], dependencies: [Dependency], scriptlets: [Scriptlet]) {
        var trove = trove
        trove.id = nil
        self.trove = trove
        self.files = files
        self.dependencies = dependencies
        self.scriptlets = scriptlets
    }

    /// How manifests and listings name a trove: name=version, with the flavor in brackets if any.
    public static func label(_ trove: Trove) -> String {
        trove.flavor.isEmpty ? trove.spec : "\(trove.spec)[\(trove.flavor)]"
    }
}
