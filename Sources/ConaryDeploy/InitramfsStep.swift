import ConaryBoot
import ConaryModel
import ConaryStore
import ConarySupport
import Foundation
import Glibc

/// A state whose kernel ships no initramfs gets one from its own dracut while the state is
/// staged. The image goes into the store and the state's kernel record, not into the tree:
/// the tree stays exactly what its troves make it, and the boot directory copies the image by hash.
public struct InitramfsStep: StagingStep {
    public let name = "initramfs"
    /// The root the state is for; "/" lets dracut look at this machine's hardware (host-only).
    let rootPath: String
    /// Whether boot entries are written for this root: without them an image has no use.
    let bootEntriesManaged: Bool

    public init(rootPath: String, bootEntriesManaged: Bool) {
        self.rootPath = rootPath
        self.bootEntriesManaged = bootEntriesManaged
    }

    /// Builds and records the missing initramfs images of the staged state's kernels when its
    /// boot entries would use them and the state has dracut.
    public func stage(_ staging: StagingArea) throws {
        guard staging.kernels.contains(where: { $0.initrdObject == nil }), bootEntriesManaged, InitramfsBuilder.available(in: staging.tree) else {
            return
        }
        let builder = InitramfsBuilder(usr: staging.usrPath, etc: machineConfiguration(staging: staging.path),
                                       arguments: rootPath == "/" ? [] : ["--no-hostonly"])
        let intake = try staging.store.beginIntake()
        let buffer = ReadBuffer()
        var kernels = staging.kernels
        var objects: [(id: String, sha256: String, size: Int64)] = []
        for index in kernels.indices where kernels[index].initrdObject == nil {
            let version = kernels[index].version
            let scratch = staging.path + "/initramfs-root", output = staging.path + "/initramfs"
            try FileSystem.removeTree(scratch)
            try FileSystem.removeTree(output)
            try FileSystem.makeDirectory(scratch, mode: 0o700)
            staging.log("Building the initramfs of kernel \(version) with the state's dracut.")
            try builder.build(kernelVersion: version, scratch: scratch, into: output)
            let image = try Descriptor.open(output, flags: O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            let object = try intake.ingest(source: image.fd, path: output, metadata: ObjectMetadata(packageMode: 0o644, uid: 0, gid: 0), buffer: buffer)
            kernels[index].initrdObject = object.objectID
            kernels[index].initrdSHA256 = object.sha256
            objects.append((object.objectID, object.sha256, object.size))
            try FileSystem.removeTree(output)
            try FileSystem.removeTree(scratch)
        }
        let verityDigests = try intake.place()
        try staging.database.write { session in
            for object in objects { try session.recordObject(object.id, sha256: object.sha256, size: object.size) }
            for (id, digest) in verityDigests { try session.recordVerityDigest(id: id, digest: digest) }
            try session.updateKernels(kernels)
        }
        FaultInjection.point("initramfs.recorded")
    }

    /// The /etc dracut reads: the machine's own (<root>/etc), else the staged tree's package
    /// defaults (usr/etc), as an image root has no machine configuration yet.
    private func machineConfiguration(staging: String) -> String? {
        [(rootPath == "/" ? "" : rootPath) + "/etc", staging + "/usr/etc"].first { FileSystem.lstat($0).map(FileSystem.isDirectory) ?? false }
    }
}
