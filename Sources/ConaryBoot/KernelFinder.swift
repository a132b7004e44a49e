import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVersions
import ConaryVFS
import Foundation

/// Finds the kernels a state can boot in its tree: `/usr/lib/modules/<version>/vmlinuz`
/// (where the layout also puts a Debian package's /boot/vmlinuz-<version>) or
/// `/usr/lib/kernel/<version>/vmlinuz` (AerynOS's place), with the initramfs shipped beside
/// it as `initrd` if there is one.
public enum KernelFinder {
    /// Folders of `<version>/vmlinuz` kernels; for a version in both, the first wins.
    static let kernelFolders = ["/usr/lib/modules", "/usr/lib/kernel"]

    /// The kernels in a state's tree, newest version first. `contentSHA256` gives an object's
    /// content hash (the boot directory names kernel copies by it).
    public static func find(in tree: ArenaTree, state: Int64, store: ObjectStore,
                            contentSHA256: (String) throws -> String) throws -> [StateKernel] {
        let osName = osName(in: tree, store: store)
        var kernels: [String: StateKernel] = [:]
        for folder in kernelFolders {
            guard let folder = tree.resolve(folder) else { continue }
            for (version, directory) in tree.nodes[Int(folder)].children where kernels[version] == nil {
                guard let kernel = regularObject(tree, directory, "vmlinuz") else { continue }
                let initrd = regularObject(tree, directory, "initrd")
                kernels[version] = StateKernel(stateId: state, version: version, kernelObject: kernel, kernelSHA256: try contentSHA256(kernel),
                                               initrdObject: initrd, initrdSHA256: try initrd.map(contentSHA256), osName: osName)
            }
        }
        return kernels.values.sorted { VersionScheme.rpm.compare($0.version, $1.version) > 0 }
    }

    private static func regularObject(_ tree: ArenaTree, _ directory: Int32, _ name: String) -> String? {
        guard let child = tree.nodes[Int(directory)].children[name], let node = tree.resolve(tree.path(of: child)),
              case let .regular(objectID, _) = tree.nodes[Int(node)].kind else { return nil }
        return objectID
    }

    /// os-release is small; a state without one boots as "Conary".
    private static func osName(in tree: ArenaTree, store: ObjectStore) -> String {
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
