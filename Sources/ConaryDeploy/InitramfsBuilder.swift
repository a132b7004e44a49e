import ConarySupport
import ConaryVFS
import Foundation
import Glibc

/// Builds the initramfs of a state kernel that ships none, with the state's own dracut, in
/// the sandbox (Sources/ConaryDeploy/Sandbox.swift): a root that shows the staged /usr read-only, the
/// machine's /etc read-only, proc, sys and dev, and a writable /tmp and /out from the scratch
/// folder. Nothing of the host's /usr (its dracut, its modules, its libraries) can end up in
/// the image, and every mount ends with the program.
package struct InitramfsBuilder {
    /// The staged tree, complete, before it goes live.
    let usr: String
    /// The machine's configuration (dracut.conf.d, fstab, ld.so.cache), or nil for none.
    let etc: String?
    /// Extra dracut arguments: `--no-hostonly` unless the root is the running system, whose
    /// hardware dracut's host-only mode may inspect.
    let arguments: [String]

    /// True when the tree has a dracut to build with.
    static func available(in tree: ArenaTree) -> Bool { tree.resolve("/usr/bin/dracut") != nil }

    /// Writes the initramfs of kernel `version` to `output` (a file in an existing folder).
    /// `scratch`, an empty folder on the filesystem of `output`, holds dracut's /tmp, the
    /// folder it writes the image to, and the layer depmod writes modules.dep to.
    func build(kernelVersion version: String, scratch: String, into output: String) throws {
        let modules = usr + "/lib/modules/" + version
        let tmp = scratch + "/tmp", out = scratch + "/out"
        for folder in [tmp, out] { try FileSystem.makeDirectory(folder, mode: 0o755) }
        try sys("Setting the mode of", tmp, chmod(tmp, 0o1777))
        // Host-only mode inspects the machine the image is for: its block devices (the
        // host's /dev), its network, and device-mapper or LVM, which need CAP_SYS_ADMIN.
        let hostOnly = !arguments.contains("--no-hostonly")
        var root: [Sandbox.Entry] = [.bind(usr, at: "/usr")] + Sandbox.mergedUsrLinks
        if let etc { root.append(.bind(etc, at: "/etc")) }
        // Distribution kernels leave modules.dep to a postinst that Conary does not run;
        // depmod writes it to a layer in the scratch folder, so dracut, a second run, sees it.
        let needsDepmod = !FileSystem.exists(modules + "/modules.dep")
        if needsDepmod {
            root.append(.overlay(lower: [modules], writes: .captured(upper: scratch + "/modules", work: scratch + "/modules-work"),
                                 at: "/usr/lib/modules/" + version))
        }
        root += [.proc(), .sys(), hostOnly ? .bind("/dev", at: "/dev") : .dev(), .directory("/run"),
                 .directory("/var/tmp", mode: 0o1777), .bind(tmp, at: "/tmp", writable: true), .bind(out, at: "/out", writable: true)]
        var sandbox = Sandbox(root: root, environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"])
        sandbox.allowsNetwork = hostOnly
        sandbox.allowsAdministration = hostOnly

        let name = (output as NSString).lastPathComponent
        if needsDepmod { try run(sandbox, ["depmod", "-a", version], kernel: version) }
        try run(sandbox, ["dracut", "--quiet", "--force", "--reproducible", "--tmpdir", "/tmp", "--kver", version] + arguments + ["/out/" + name],
                kernel: version)
        guard FileSystem.exists(out + "/" + name) else {
            throw DeployError.initramfsFailed(kernel: version, detail: "dracut succeeded but wrote no image")
        }
        try sys("Moving the initramfs to", output, rename(out + "/" + name, output))
    }

    /// Runs one step; its failure is the initramfs's, in the program's last words.
    private func run(_ sandbox: Sandbox, _ arguments: [String], kernel: String) throws {
        let result: Sandbox.Result
        do { result = try sandbox.run(arguments) } catch let error as SandboxError {
            throw DeployError.initramfsFailed(kernel: kernel, detail: error.description)
        }
        guard result.succeeded else {
            throw DeployError.initramfsFailed(kernel: kernel, detail: result.lastLine ?? "\(arguments[0]) \(result.termination)")
        }
    }
}
