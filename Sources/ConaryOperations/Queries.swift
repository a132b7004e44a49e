import ConaryModel
import ConaryVFS
import Foundation

/// Read-only views of states, changesets and troves.
extension ConaryRoot {
    public struct StateSummary: Sendable {
        public let state: SystemState
        public let troves: [Trove]
        /// Why each trove is in the state, by trove id.
        public var reasons: [Int64: InstallReason] = [:]
    }

    public func states() throws -> [StateSummary] {
        try database.read { session in
            try session.allStates().map { StateSummary(state: $0, troves: try session.members(ofState: $0.id)) }
        }
    }

    public func state(_ id: Int64) throws -> StateSummary {
        try database.read { session in
            StateSummary(state: try session.state(id), troves: try session.members(ofState: id), reasons: try session.reasons(ofState: id))
        }
    }

    public func changesets() throws -> [Changeset] {
        try database.read { try $0.allChangesets() }
    }

    public func troves() throws -> [Trove] {
        try database.read { try $0.allTroves() }
    }

    public struct StateDiff: Sendable {
        public var addedTroves: [String] = []
        public var removedTroves: [String] = []
        /// name, version in the first state, version in the second
        public var changedTroves: [(name: String, from: String, to: String)] = []
        public var addedPaths: [String] = []
        public var removedPaths: [String] = []
        public var changedPaths: [String] = []
    }

    /// What changes from state `a` to state `b`, by trove and by path under /usr.
    public func diff(_ a: Int64, _ b: Int64) throws -> StateDiff {
        let (first, second) = (try state(a), try state(b))
        var diff = StateDiff()
        let before = Dictionary(first.troves.map { ($0.name, $0.version) }, uniquingKeysWith: { x, _ in x })
        let after = Dictionary(second.troves.map { ($0.name, $0.version) }, uniquingKeysWith: { x, _ in x })
        for (name, version) in after.sorted(by: { $0.key < $1.key }) {
            if let old = before[name] {
                if old != version { diff.changedTroves.append((name, old, version)) }
            } else {
                diff.addedTroves.append("\(name)=\(version)")
            }
        }
        diff.removedTroves = before.keys.filter { after[$0] == nil }.sorted().map { "\($0)=\(before[$0]!)" }

        let oldFiles = try signatures(of: buildTree(first.troves))
        let newFiles = try signatures(of: buildTree(second.troves))
        for (path, signature) in newFiles {
            if let old = oldFiles[path] {
                if old != signature { diff.changedPaths.append(path) }
            } else {
                diff.addedPaths.append(path)
            }
        }
        diff.removedPaths = oldFiles.keys.filter { newFiles[$0] == nil }
        diff.addedPaths.sort()
        diff.changedPaths.sort()
        diff.removedPaths.sort()
        return diff
    }

    private func signatures(of tree: ArenaTree) -> [String: String] {
        var result: [String: String] = [:]
        guard let usr = tree.lookup("/usr") else { return result }
        tree.walk(from: usr) { path, node in
            result["/usr/" + path] = "\(node.kind) \(node.mode) \(node.uid) \(node.gid)"
        }
        return result
    }
}
