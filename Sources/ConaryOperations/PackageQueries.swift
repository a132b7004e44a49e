import ConaryModel
import ConaryResolve
import ConaryVersions
import ConaryVFS
import Foundation

/// Questions about troves: what is installed, what owns a path, what provides or needs a
/// capability. All answers are Codable so the CLI can print them as JSON.
extension ConaryRoot {
    public struct DependencyInfo: Codable, Equatable, Sendable {
        public var relation: String
        public var capability: String
        public var comparison: String?
        public var version: String?
        public var alternative: Int
    }

    public struct TroveInfo: Codable, Equatable, Sendable {
        public var name: String
        public var version: String
        public var kind: String
        public var format: String
        public var flavor: String
        public var arch: String?
        public var summary: String?
        public var source: String
        public var sha256: String?
        public var signature: String?
        public var installed: Bool
        public var components: [String]
        public var dependencies: [DependencyInfo]
        public var scriptlets: [String]
    }

    public struct FileInfo: Codable, Equatable, Sendable {
        public var trove: String
        /// The path as the package ships it (/bin/sh may be deployed as /usr/bin/sh).
        public var path: String
        public var kind: String
        public var mode: String
        public var uid: UInt32
        public var gid: UInt32
        public var size: Int64
        public var sha256: String?
        public var target: String?
        public var flags: [String]
    }

    /// A trove in the store by "name" or "name=version".
    public func trove(matching spec: String) throws -> Trove {
        let request = try TroveSelection.Request(spec)
        let candidates = try database.read { try $0.troves(named: request.name, version: request.version) }
        guard let trove = try TroveSelection.best(of: candidates, for: request, spec: spec, system: try systemFlavor()) else {
            throw ConaryError.troveNotFound(spec)
        }
        return trove
    }

    /// <root>/conary/system-flavor if it exists (one line, e.g. "~ssl,!debug is: x86_64"),
    /// otherwise this machine's instruction sets.
    public func systemFlavor() throws -> Flavor {
        let file = conaryPath + "/system-flavor"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return .host }
        return try Flavor(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Troves of the active state (packages, trees and components installed on their own).
    public func installedTroves() throws -> [Trove] {
        guard let active = try activeState() else { return [] }
        return try database.read { try $0.members(ofState: active.id) }
    }

    /// The installed trove named "name", "name=version" or "name:component".
    public func installedTrove(_ spec: String) throws -> Trove {
        let request = try TroveSelection.Request(spec)
        guard let trove = try installedTroves().first(where: request.matches) else {
            throw ConaryError.troveNotInstalled(spec)
        }
        return trove
    }

    public func info(_ trove: Trove) throws -> TroveInfo {
        let installed = Set(try installedTroves().compactMap(\.id))
        return try database.read { session in
            let components = try session.withComponents(trove).dropFirst().map(\.name)
            let dependencies = try session.dependencies(of: trove.id!).map {
                DependencyInfo(relation: $0.relation.rawValue, capability: $0.capability, comparison: $0.comparison, version: $0.version,
                               alternative: $0.alternative)
            }
            let scriptlets = try session.scriptletNames(of: trove.id!)
            return TroveInfo(name: trove.name, version: trove.version, kind: trove.kind.rawValue, format: trove.format.rawValue,
                             flavor: trove.flavor, arch: trove.arch,
                             summary: trove.summary, source: trove.source, sha256: trove.sha256, signature: trove.signature,
                             installed: installed.contains(trove.id!), components: Array(components),
                             dependencies: dependencies, scriptlets: scriptlets)
        }
    }

    /// Files of a trove and of its components.
    public func files(of trove: Trove) throws -> [FileInfo] {
        try database.read { session in
            let troves = try session.withComponents(trove)
            return try session.files(of: troves).map { owner, entry in fileInfo(entry, trove: troves[owner].spec) }
                .sorted { $0.path < $1.path }
        }
    }

    /// The installed trove that provides the deployed `path` (after merged-/usr reparenting).
    public func owner(ofPath path: String) throws -> FileInfo {
        let active = try requireActiveState()
        let members = try database.read { try $0.members(ofState: active.id) }
        let tree = try buildTree(members)
        let relocated = path == "/etc" || path.hasPrefix("/etc/") ? "/usr" + path : path
        guard let node = tree.resolve(relocated), tree.nodes[Int(node)].owner >= 0 else {
            throw ConaryError.noOwner(path: path)
        }
        let trove = members[Int(tree.nodes[Int(node)].owner)]
        let shipped = try files(of: trove).filter { tree.resolve(TreeBuilder.relocated($0.path, layout: layout)) == node }
        guard let file = shipped.first else { throw ConaryError.noOwner(path: path) }
        return file
    }

    /// Troves in the store offering `capability`: a package name, a declared provide, or a
    /// shipped path.
    public func whatProvides(_ capability: String) throws -> [Trove] {
        // file(/bin/sh) is answered by the file lists.
        let capability = capability.hasPrefix("file(") && capability.hasSuffix(")") ? String(capability.dropFirst(5).dropLast()) : capability
        return try database.read { try $0.troves(providing: capability) }
    }

    /// Installed troves with a requirement that `name` (a package with its components, or
    /// one component) meets, versions compared.
    public func reverseDependencies(_ name: String) throws -> [Trove] {
        let target = try installedTrove(name)
        let resolver = try installedResolvers([try installedTroves()])[0]
        guard let unit = resolver.units.indices.first(where: { resolver.units[$0].troves.contains { $0.id == target.id } }) else { return [] }
        return resolver.dependants(of: unit, among: Set(resolver.units.indices)).compactMap { resolver.units[$0].troves.first }
    }

    /// Installed troves that would have an unmet requirement if `name` were removed.
    public func whatBreaks(_ name: String) throws -> [Trove] {
        let installed = try installedTroves()
        let target = try installedTrove(name)
        let remaining = installed.filter { target.isComponent ? $0.id != target.id : $0.packageName != target.packageName }
        var seen = Set<Int64>()
        return try breakage(from: installed, to: remaining).map(\.trove).filter { seen.insert($0.id!).inserted }
    }

    /// Troves of `after` with a requirement that `before` met and `after` does not, each with
    /// that requirement as the package wrote it.
    func breakage(from before: [Trove], to after: [Trove]) throws -> [(trove: Trove, relation: String)] {
        let unmet = try installedResolvers([before, after]).map { resolver in
            resolver.unmet(among: Set(resolver.units.indices)).map { (trove: resolver.units[$0.unit].troves[0], relation: $0.relation) }
        }
        let already = Set(unmet[0].map { "\($0.trove.id!) \($0.relation)" })
        return unmet[1].filter { !already.contains("\($0.trove.id!) \($0.relation)") }
    }

    /// One resolver per set of troves, over that set alone.
    private func installedResolvers(_ sets: [[Trove]]) throws -> [Resolver] {
        ResolverUniverse.installedOnly(sets, catalog: try resolverCatalog(withIndexes: false), layout: layout).map(Resolver.init)
    }

    private func fileInfo(_ entry: FileEntry, trove: String) -> FileInfo {
        FileInfo(trove: trove, path: entry.path, kind: entry.kind.rawValue, mode: String(entry.mode, radix: 8),
                        uid: entry.uid, gid: entry.gid, size: entry.size, sha256: entry.sha256, target: entry.target,
                        flags: FileFlags.names.filter { entry.flags.contains($0.flag) }.map(\.name))
    }
}
