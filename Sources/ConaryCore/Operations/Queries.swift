import Foundation
import GRDB

/// Read-only views of states, changesets and troves.
extension ConaryRoot {
    public struct StateSummary: Sendable {
        public let state: SystemState
        public let troves: [Trove]
        /// Why each trove is in the state, by trove id: "explicit" or "required by NAME".
        public var reasons: [Int64: String] = [:]
    }

    public func states() throws -> [StateSummary] {
        try database.read { db in
            try SystemState.order(Column("id")).fetchAll(db).map {
                StateSummary(state: $0, troves: try Catalog.members(ofState: $0.id, db: db))
            }
        }
    }

    public func state(_ id: Int64) throws -> StateSummary {
        try database.read { db in
            StateSummary(state: try Catalog.state(id, db: db), troves: try Catalog.members(ofState: id, db: db),
                         reasons: try Catalog.reasons(ofState: id, db: db))
        }
    }

    public func changesets() throws -> [Changeset] {
        try database.read { try Changeset.order(Column("id")).fetchAll($0) }
    }

    public func troves() throws -> [Trove] {
        try database.read { try Trove.order(Column("name"), Column("version")).fetchAll($0) }
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
