import Foundation
import GRDB

/// A kernel a state can boot: `/usr/lib/modules/<version>/vmlinuz` in its tree (where the
/// layout also puts a Debian package's /boot/vmlinuz-<version>) or `/usr/lib/kernel/<version>/vmlinuz`
/// (AerynOS's place), with the initramfs shipped beside it as `initrd` if there is one.
/// Recorded per state when the state is built, so boot entries never need a state's tree again.
public struct StateKernel: Codable, FetchableRecord, PersistableRecord, Equatable, Sendable {
    public static let databaseTableName = "stateKernels"
    public var stateId: Int64
    public var version: String
    public var kernelObject: String
    public var kernelSHA256: String
    public var initrdObject: String?
    public var initrdSHA256: String?
    /// PRETTY_NAME (or NAME) of the state's /usr/lib/os-release, for the boot menu.
    public var osName: String

    /// Folders of `<version>/vmlinuz` kernels; for a version in both, the first wins.
    static let kernelFolders = ["/usr/lib/modules", "/usr/lib/kernel"]

    /// The kernels in a state's tree, newest version first.
    static func find(in tree: ArenaTree, state: Int64, store: ObjectStore, db: Database) throws -> [StateKernel] {
        let osName = try self.osName(in: tree, store: store)
        var kernels: [String: StateKernel] = [:]
        for folder in kernelFolders {
            guard let folder = tree.resolve(folder) else { continue }
            for (version, directory) in tree.nodes[Int(folder)].children where kernels[version] == nil {
                guard let kernel = regularObject(tree, directory, "vmlinuz") else { continue }
                let initrd = regularObject(tree, directory, "initrd")
                kernels[version] = StateKernel(stateId: state, version: version, kernelObject: kernel, kernelSHA256: try sha256(of: kernel, db: db),
                                               initrdObject: initrd, initrdSHA256: try initrd.map { try sha256(of: $0, db: db) }, osName: osName)
            }
        }
        return kernels.values.sorted { VersionScheme.rpm.compare($0.version, $1.version) > 0 }
    }

    private static func regularObject(_ tree: ArenaTree, _ directory: Int32, _ name: String) -> String? {
        guard let child = tree.nodes[Int(directory)].children[name], let node = tree.resolve(tree.path(of: child)),
              case let .regular(objectID, _) = tree.nodes[Int(node)].kind else { return nil }
        return objectID
    }

    private static func sha256(of object: String, db: Database) throws -> String {
        guard let sum = try String.fetchOne(db, sql: "SELECT sha256 FROM objects WHERE id = ?", arguments: [object]) else {
            throw ConaryError.invalidArgument("The store has no record of object \(object).")
        }
        return sum
    }

    /// os-release is small; a state without one boots as "Conary".
    private static func osName(in tree: ArenaTree, store: ObjectStore) throws -> String {
        guard let node = tree.resolve("/usr/lib/os-release"), case let .regular(objectID, size) = tree.nodes[Int(node)].kind,
              size < 64 * 1024, let text = try? FileSystem.readSmallFile(ObjectStore.relativePath(objectID), relativeTo: store.directory.fd)
        else { return "Conary" }
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = line[line.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
        }
        return fields["PRETTY_NAME"] ?? fields["NAME"] ?? "Conary"
    }
}
