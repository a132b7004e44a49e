import ConaryModel
import Foundation
import GRDB

/// States as self-contained manifests: written beside each tree, read back by a rebuild.
extension DatabaseSession {
    /// Everything recorded about state `id`: its row, its troves with their files,
    /// relations, scriptlets and component links, and its kernels.
    public func manifest(ofState id: Int64) throws -> StateManifest {
        let state = try self.state(id)
        let troves = try members(ofState: id)
        let reasons = try reasons(ofState: id)
        let position = Dictionary(uniqueKeysWithValues: troves.enumerated().map { ($1.id!, $0) })
        var packageOf: [Int64: Int] = [:]
        if !troves.isEmpty {
            let ids = troves.map { String($0.id!) }.joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT parentId, childId FROM troveMembers WHERE childId IN (\(ids))") {
                if let package = position[row[0] as Int64] { packageOf[row[1]] = package }
            }
        }
        let files = Dictionary(grouping: try self.files(of: troves), by: \.owner)
        let members = try troves.enumerated().map { index, trove in
            StateManifest.Member(trove: trove, reason: reasons[trove.id!] ?? .explicit, package: packageOf[trove.id!],
                                 files: files[index, default: []].map(\.entry), dependencies: try dependencies(of: trove.id!),
                                 scriptlets: try scriptlets(of: trove.id!))
        }
        let kernels = try StateKernel.filter(Column("stateId") == id).order(Column("version")).fetchAll(db)
        return StateManifest(state: state, troves: members, kernels: kernels)
    }

    public func scriptlets(of troveID: Int64) throws -> [Scriptlet] {
        try Row.fetchAll(db, sql: "SELECT name, interpreter, body FROM scriptlets WHERE troveId = ? ORDER BY name",
                         arguments: [troveID]).map { Scriptlet(name: $0[0], interpreter: $0[1], body: $0[2]) }
    }

    /// Records a state read from its manifest, with `status`. Troves another state recorded
    /// already (same name, version and flavor) are shared, as they were. `objectSize` gives
    /// the size of an initramfs object, which no file record carries.
    public func restore(_ manifest: StateManifest, status: StateStatus, objectSize: (String) throws -> Int64) throws {
        var ids: [Int64] = []
        var added: Set<Int> = []
        for (index, member) in manifest.troves.enumerated() {
            if let existing = try trove(named: member.trove.name, version: member.trove.version, flavor: member.trove.flavor) {
                ids.append(existing.id!)
                continue
            }
            var trove = member.trove
            try insert(&trove)
            try insertFiles(member.files, troveID: trove.id!)
            try insertDependencies(member.dependencies, troveID: trove.id!)
            try insertScriptlets(member.scriptlets, troveID: trove.id!)
            ids.append(trove.id!)
            added.insert(index)
        }
        for (index, member) in manifest.troves.enumerated() where added.contains(index) {
            if let package = member.package, manifest.troves.indices.contains(package) {
                try link(component: ids[index], toPackage: ids[package])
            }
        }
        var state = manifest.state
        state.status = status
        state.pinned = false
        try state.insert(db)
        for (index, member) in manifest.troves.enumerated() {
            try StateMember(stateId: state.id, troveId: ids[index], reason: member.reason).insert(db, onConflict: .ignore)
        }
        for var kernel in manifest.kernels {
            kernel.stateId = state.id
            try recordObject(kernel.kernelObject, sha256: kernel.kernelSHA256, size: try objectSize(kernel.kernelObject))
            if let initrd = kernel.initrdObject, let sum = kernel.initrdSHA256 {
                try recordObject(initrd, sha256: sum, size: try objectSize(initrd))
            }
            try kernel.insert(db)
        }
    }
}
