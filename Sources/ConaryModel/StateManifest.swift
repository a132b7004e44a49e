import Foundation

/// Everything the database knows about one state, written into the state's tree beside its
/// marker (`/usr/.conary-manifest`) when the state is built. It moves with the tree through
/// every swap and is deleted with it, so the trees on disk alone can rebuild the database
/// (`conary db rebuild`).
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

    /// One trove of the state, with everything recorded about it.
    public struct Member: Codable, Equatable, Sendable {
        /// The trove's record; its database id is not part of the manifest.
        public var trove: Trove
        public var reason: InstallReason
        /// For a component: the index in `troves` of its package, when that is a member too.
        public var package: Int?
        public var files: [FileEntry]
        public var dependencies: [Dependency]
        public var scriptlets: [Scriptlet]

        public init(trove: Trove, reason: InstallReason, package: Int?, files: [FileEntry], dependencies: [Dependency],
                    scriptlets: [Scriptlet]) {
            var trove = trove
            trove.id = nil
            self.trove = trove
            self.reason = reason
            self.package = package
            self.files = files
            self.dependencies = dependencies
            self.scriptlets = scriptlets
        }
    }
}
