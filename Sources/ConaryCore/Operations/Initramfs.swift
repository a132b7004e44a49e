import Foundation
import Glibc
import GRDB

/// A state whose kernel ships no initramfs gets one from its own dracut while the state is
/// staged. The image goes into the store and the state's kernel record, not into the tree:
/// the tree stays exactly what its troves make it, and the boot directory copies the image by hash.
extension ConaryRoot {
    /// Builds and records the missing initramfs images of a new state's kernels when its boot
    /// entries would use them (the boot directory is managed) and the state has dracut.
    func buildMissingInitramfs(_ kernels: [StateKernel], tree: ArenaTree) throws {
        guard kernels.contains(where: { $0.initrdObject == nil }), bootDirectory.isManaged, InitramfsBuilder.available(in: tree) else {
            return
        }
        let staging = conaryPath + "/" + StateTrees.staging
        let builder = InitramfsBuilder(usr: staging + "/usr", etc: machineConfiguration(staging: staging),
                                       arguments: path == "/" ? [] : ["--no-hostonly"])
        let intake = try store.beginIntake()
        let buffer = ReadBuffer()
        var result = kernels
        var objects: [(id: String, sha256: String, size: Int64)] = []
        for index in result.indices where result[index].initrdObject == nil {
            let version = result[index].version
            let scratch = staging + "/initramfs-root", output = staging + "/initramfs"
            try FileSystem.removeTree(scratch)
            try FileSystem.removeTree(output)
            try FileSystem.makeDirectory(scratch, mode: 0o700)
            log("Building the initramfs of kernel \(version) with the state's dracut.")
            try builder.build(kernelVersion: version, scratch: scratch, into: output)
            let image = try Descriptor.open(output, flags: O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            let object = try intake.ingest(source: image.fd, path: output, metadata: ObjectMetadata(packageMode: 0o644, uid: 0, gid: 0), buffer: buffer)
            result[index].initrdObject = object.objectID
            result[index].initrdSHA256 = object.sha256
            objects.append((object.objectID, object.sha256, object.size))
            try FileSystem.removeTree(output)
            try FileSystem.removeTree(scratch)
        }
        try intake.place()
        try database.write { db in
            for object in objects { try Catalog.recordObject(object.id, sha256: object.sha256, size: object.size, db: db) }
            for kernel in result { try kernel.update(db) }
        }
    }

    /// The /etc dracut reads: the machine's own (<root>/etc), else the staged tree's package
    /// defaults (usr/etc), as an image root has no machine configuration yet.
    private func machineConfiguration(staging: String) -> String? {
        [(path == "/" ? "" : path) + "/etc", staging + "/usr/etc"].first { FileSystem.lstat($0).map(FileSystem.isDirectory) ?? false }
    }
}
