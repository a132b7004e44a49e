import ConaryDatabase
import ConaryDeploy
import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVFS
import Foundation

/// `conary fsck`: every object of the store against its id, and every kept state's tree
/// against its records and its manifest. *fast* looks at structure and sizes (and an
/// object's mtime, which a write through one of its links moves from 0); *full* re-hashes
/// every object once, and every tree file that is not a link to a proven object.
/// On a filesystem with fs-verity, a sealed object is also checked against the verity digest
/// recorded when it was sealed (the kernel checks every read against it).
/// `--repair` quarantines damaged objects, brings good copies back (from a tree that still
/// holds one, or by re-importing the package file the object came from), re-links trees
/// from good objects, rewrites missing manifests and seals objects stored before their
/// filesystem could seal (after re-hashing them); then it checks again and reports what is
/// left.
extension ConaryRoot {
    public struct ObjectFault: Sendable, CustomStringConvertible {
        public let id: String
        /// The store has no file for it (as opposed to a damaged one).
        public let isMissing: Bool
        public let detail: String
        public var description: String { "object \(id): \(detail)" }
    }

    public struct TreeReport: Sendable {
        public let state: Int64
        /// Where the tree is: usr, conary/states/N/usr.
        public let location: String
        public let problems: [TreeProblem]
        /// What is wrong with the tree's manifest, if anything.
        public let manifestProblem: String?
    }

    public struct FsckReport: Sendable {
        public let objectsChecked: Int
        public let objectFaults: [ObjectFault]
        /// Objects in the store no record uses (garbage `gc` removes, not damage).
        public let unusedObjects: Int
        public let trees: [TreeReport]
        /// Whether the store's filesystem seals objects with fs-verity.
        public let sealing: FSVerity.Support
        /// On a store that seals: objects not sealed yet (stored before it could seal), or
        /// sealed without a recorded digest (after `db rebuild`). Not damage: repair seals them.
        public let unsealed: [String]
        /// What a repair did, and what it could not do.
        public internal(set) var repairs: [String] = []

        public var problemCount: Int {
            objectFaults.count + trees.reduce(0) { $0 + $1.problems.count + ($1.manifestProblem == nil ? 0 : 1) }
        }
    }

    public func fsck(depth: TreeCheck.Depth, repair: Bool) throws -> FsckReport {
        let found = try examine(depth)
        guard repair, found.problemCount > 0 || !found.unsealed.isEmpty else { return found }
        try transaction.requireAgreement()
        var repairs = try repairObjects(found.objectFaults)
        repairs += try repairTrees(found, faulted: Set(found.objectFaults.map(\.id)))
        repairs += try sealObjects()
        var after = try examine(depth)
        after.repairs = repairs
        return after
    }

    // MARK: Checking

    private func examine(_ depth: TreeCheck.Depth) throws -> FsckReport {
        let (records, digests) = try database.read { (try $0.objectSizes(), try $0.verityDigests()) }
        let sealing = try store.sealing
        let results = try Parallel.map(records.count, makeContext: { ReadBuffer() }) { index, buffer in
            let (id, size) = records[index]
            return try examineObject(id, size: size, recordedDigest: sealing == .supported ? digests[id] : nil,
                                     sealing: sealing, depth: depth, buffer: buffer)
        }
        let faults = records.indices.compactMap { index in
            results[index].fault.map { ObjectFault(id: records[index].id, isMissing: results[index].isMissing, detail: $0) }
        }
        let verified = Set(results.compactMap(\.identity))
        let known = Set(records.map(\.id))
        let unused = try store.storedObjectIDs().filter { !known.contains($0) }.count

        let kept = try keptTrees()
        let problems = try Parallel.map(kept.count) { index in
            try trees.problems(at: kept[index].location, check: TreeCheck(tree: kept[index].tree, depth: depth, verified: verified))
        }
        let reports = try kept.indices.map { index in
            TreeReport(state: kept[index].state, location: kept[index].location.description, problems: problems[index],
                       manifestProblem: try manifestProblem(of: kept[index]))
        }
        let unsealed = records.indices.filter { results[$0].fault == nil && results[$0].unsealed }.map { records[$0].id }
        return FsckReport(objectsChecked: records.count, objectFaults: faults, unusedObjects: unused, trees: reports,
                          sealing: sealing, unsealed: unsealed)
    }

    private struct ObjectExamination {
        var fault: String?
        /// The fault is that the store has no file for it.
        var isMissing = false
        /// The inode, when a full check proved the content good.
        var identity: FileIdentity?
        /// On a store that seals: not sealed, or sealed with no digest recorded.
        var unsealed = false
    }

    /// What is wrong with object `id`. A sealed object's measured verity digest must be the
    /// one recorded; its content, re-hashed in a full check, is read through the kernel's
    /// check against that digest, so damaged blocks fail the read (EIO).
    private func examineObject(_ id: String, size: Int64, recordedDigest: String?, sealing: FSVerity.Support, depth: TreeCheck.Depth,
                               buffer: ReadBuffer) throws -> ObjectExamination {
        let fault = { (detail: String) in ObjectExamination(fault: detail) }
        guard let st = store.identity(of: id) else { return ObjectExamination(fault: ObjectStore.Damage.missing.description, isMissing: true) }
        if let damage = ObjectStore.damage(of: st, size: size) { return fault(damage.description) }
        var examination = ObjectExamination()
        if sealing == .supported {
            let measured = try store.verityDigest(id)
            if let recordedDigest {
                guard let measured else { return fault("no longer sealed with fs-verity") }
                guard measured == recordedDigest else { return fault("its fs-verity digest is not the one recorded when it was sealed") }
            } else {
                examination.unsealed = true
            }
        }
        guard depth == .full else { return examination }
        do {
            guard try store.matchesID(id, buffer: buffer) else { return fault("content or metadata no longer match its id") }
        } catch let error as SystemError where error.errno == EIO {
            return fault("its content cannot be read (\(error))")
        }
        examination.identity = FileIdentity(st)
        return examination
    }

    /// A tree on disk of a state the database keeps (active or archived), with the tree its
    /// records describe.
    private struct KeptTree {
        let location: StateTrees.Location
        let record: SystemState
        let members: [Trove]
        let tree: ArenaTree
        var state: Int64 { record.id }
    }

    /// Every kept tree on disk. States with the same troves (a rollback target and the state
    /// it came back to, say) share one built tree, and the distinct ones are built in parallel:
    /// building trees from records is most of a fast check's time.
    private func keptTrees() throws -> [KeptTree] {
        let (kept, members) = try database.read { session in
            let kept = Dictionary(uniqueKeysWithValues: try session.keptStates().map { ($0.id, $0) })
            return (kept, Dictionary(uniqueKeysWithValues: try kept.keys.map { ($0, try session.members(ofState: $0)) }))
        }
        let onDisk = try trees.treesOnDisk().compactMap { location, state -> (location: StateTrees.Location, record: SystemState, members: [Trove])? in
            guard let state, let record = kept[state] else { return nil }
            return (location, record, members[state] ?? [])
        }
        var slotOfTroves: [[Int64]: Int] = [:]
        var distinct: [[Trove]] = []
        let slots = onDisk.map { entry in
            let ids = entry.members.compactMap(\.id)
            if let slot = slotOfTroves[ids] { return slot }
            slotOfTroves[ids] = distinct.count
            distinct.append(entry.members)
            return distinct.count - 1
        }
        let files = try database.read { try $0.filesByTrove(distinct.flatMap { $0 }) }
        let built = try Parallel.map(distinct.count) { try buildTree(distinct[$0], files: files) }
        return onDisk.indices.map { index in
            KeptTree(location: onDisk[index].location, record: onDisk[index].record, members: onDisk[index].members, tree: built[slots[index]])
        }
    }

    private func manifestProblem(of kept: KeptTree) throws -> String? {
        let manifest: StateManifest?
        do { manifest = try trees.manifest(at: kept.location) } catch let error as DeployError { return error.description }
        guard let manifest else { return "the tree has no manifest" }
        let state = kept.record
        let records = try database.read { try $0.recordObjects(of: kept.members) }
        let recorded = Set(kept.members.map { "\(TroveRecord.label($0)) \(records[$0.id!] ?? "-")" })
        let listed = Set(manifest.troves.map { "\($0.trove) \($0.record)" })
        guard manifest.state.id == state.id, manifest.state.treeHash == state.treeHash, recorded == listed else {
            return "the manifest does not describe what the database records for state \(state.id)"
        }
        return nil
    }

    // MARK: Repairing

    /// Quarantines damaged objects and brings good copies of them and of missing ones back.
    private func repairObjects(_ faults: [ObjectFault]) throws -> [String] {
        guard !faults.isEmpty else { return [] }
        var messages: [String] = []
        let quarantinePath = conaryPath + "/quarantine"
        try FileSystem.makeDirectory(quarantinePath, mode: 0o700)
        let quarantine = try Descriptor.directory(quarantinePath)
        let damaged = faults.filter { !$0.isMissing }
        for fault in damaged { try store.quarantine(fault.id, into: quarantine) }
        if !damaged.isEmpty { messages.append("Moved \(damaged.count) damaged object\(damaged.count == 1 ? "" : "s") to conary/quarantine.") }

        var lost = Set(faults.map(\.id))
        // Trove records are derived from the database: the manifests that name them are
        // written again below, storing them anew.
        let records = try database.write { try $0.forgetRecordObjects(lost) }
        lost.subtract(records)
        if !records.isEmpty { messages.append("Lost \(records.count) trove record\(records.count == 1 ? "" : "s"); they are stored again from the database.") }
        messages += try restoreFromTrees(&lost)
        messages += try restoreFromPackages(&lost)
        let users = try database.read { try $0.users(ofObjects: lost) }
        for id in lost.sorted() {
            let usedBy = users[id, default: []].prefix(3).map { "\($0.trove.spec) \($0.path)" }.joined(separator: ", ")
            messages.append("Could not restore object \(id) (\(usedBy)): no tree holds a good copy and no package file it came from "
                            + "is known; import the package again (conary import FILE) and run conary fsck --repair.")
        }
        return messages
    }

    /// A tree file that still holds an object exactly (its store link was deleted, say)
    /// gives the object back: one more link to that inode.
    private func restoreFromTrees(_ lost: inout Set<String>) throws -> [String] {
        var messages: [String] = []
        let buffer = ReadBuffer()
        for kept in try keptTrees() where !lost.isEmpty {
            let (location, state, tree) = (kept.location, kept.state, kept.tree)
            guard let usrNode = tree.lookup("/usr") else { continue }
            let usr = try trees.openTree(at: location)
            try tree.walk(from: usrNode) { path, node in
                guard case let .regular(id, _) = node.kind, lost.contains(id),
                      let file = try? Descriptor.open(path, relativeTo: usr.fd, flags: O_RDONLY | O_NOFOLLOW),
                      try ObjectStore.objectID(of: file.fd, path: "/usr/" + path, buffer: buffer) == id else { return }
                try store.adopt(id, from: path, relativeTo: usr.fd)
                lost.remove(id)
                messages.append("Restored object \(id) from state \(state)'s /usr/\(path).")
            }
        }
        return messages
    }

    /// Re-imports the packages the lost objects came from: a file a synced folder holds, or
    /// a download a synced index lists with the same checksum. The import checks the file
    /// against the package's recorded SHA-256 and puts back the objects the store lacks.
    private func restoreFromPackages(_ lost: inout Set<String>) throws -> [String] {
        guard !lost.isEmpty else { return [] }
        var messages: [String] = []
        let users = try database.read { try $0.users(ofObjects: lost) }
        var packages: [Int64: Trove] = [:]
        for user in users.values.joined() {
            let package = try database.read { try $0.package(of: user.trove) }
            packages[package.id!] = package
        }
        for package in packages.values.sorted(by: { $0.spec < $1.spec }) {
            let (files, downloads) = try database.read { (try $0.packageFiles(of: package), try $0.downloads(of: package)) }
            let file = files.first { FileSystem.exists($0) }
            guard file != nil || !downloads.isEmpty else { continue }
            do {
                if let file {
                    _ = try importPackages([file])
                    messages.append("Re-imported \(package.spec) from \(file).")
                } else {
                    _ = try fetch([downloads[0]])
                    messages.append("Re-imported \(package.spec) from repository \(downloads[0].repository).")
                }
            } catch {
                messages.append("Could not re-import \(package.spec): \(error)")
            }
        }
        lost = lost.filter { !store.contains($0) }
        return messages
    }

    /// Re-links every kept tree from good objects: what the check found, and every file of a
    /// faulted object that is not a link to the object now in the store (it still shares
    /// the damaged inode, or a tree holds a stale copy). Rewrites missing or wrong manifests.
    private func repairTrees(_ report: FsckReport, faulted: Set<String>) throws -> [String] {
        var messages: [String] = []
        let byLocation = Dictionary(report.trees.map { ($0.location, $0) }, uniquingKeysWith: { first, _ in first })
        for kept in try keptTrees() {
            let (location, state, tree) = (kept.location, kept.state, kept.tree)
            var problems = byLocation[location.description]?.problems ?? []
            let listed = Set(problems.map(\.path))
            problems += try staleLinks(in: tree, at: location, faulted: faulted).filter { !listed.contains($0.path) }
            if !problems.isEmpty {
                let left = try trees.repair(problems, at: location, tree: tree, store: store)
                let fixed = problems.count - left.count
                if fixed > 0 { messages.append("Repaired \(fixed) path\(fixed == 1 ? "" : "s") of state \(state)'s tree (\(location)).") }
            }
            // Asked again: forgetting a lost trove record makes the manifests that named it stale.
            if try manifestProblem(of: kept) != nil {
                try trees.rewriteManifest(try StateManifests(database: database, store: store).manifest(ofState: state), at: location)
                messages.append("Wrote the manifest of state \(state) (\(location)) from the database.")
            }
        }
        return messages
    }

    /// On a store that seals: seals every object stored before it could (its content
    /// re-hashed against its id first, so only good content is sealed) and records the digest
    /// of those sealed without one.
    private func sealObjects() throws -> [String] {
        guard try store.sealing == .supported else { return [] }
        let (records, digests) = try database.read { (try $0.objectSizes(), try $0.verityDigests()) }
        let candidates = records.map(\.id).filter { digests[$0] == nil && store.contains($0) }
        let sealed = try Parallel.map(candidates.count, makeContext: { ReadBuffer() }) { index, buffer -> String? in
            guard try store.matchesID(candidates[index], buffer: buffer) else { return nil }
            return try store.seal(candidates[index])
        }
        let digestsFound = candidates.indices.compactMap { index in sealed[index].map { (candidates[index], $0) } }
        try database.write { session in
            for (id, digest) in digestsFound { try session.recordVerityDigest(id: id, digest: digest) }
        }
        return digestsFound.isEmpty ? [] : ["Sealed \(digestsFound.count) object\(digestsFound.count == 1 ? "" : "s") with fs-verity and recorded their digests."]
    }

    private func staleLinks(in tree: ArenaTree, at location: StateTrees.Location, faulted: Set<String>) throws -> [TreeProblem] {
        guard !faulted.isEmpty, let usrNode = tree.lookup("/usr") else { return [] }
        let usr = try trees.openTree(at: location)
        var stale: [TreeProblem] = []
        tree.walk(from: usrNode) { path, node in
            guard case let .regular(id, _) = node.kind, faulted.contains(id), let object = store.identity(of: id),
                  let file = FileSystem.lstat(path, relativeTo: usr.fd), FileIdentity(file) != FileIdentity(object) else { return }
            stale.append(TreeProblem(kind: .modified, path: "/usr/" + path, detail: "not linked to its restored object"))
        }
        return stale
    }
}
