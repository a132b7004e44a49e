import ConaryModel
import ConarySupport
import Foundation
import ConaryVFS

/// Builds the initramfs of a state kernel that ships none, with the state's own dracut: it runs
/// in a private mount namespace (util-linux unshare) chrooted into a scratch root that shows
/// the staged /usr read-only, the machine's /etc, and proc, sys and dev. Nothing of the host's
/// /usr (its dracut, its modules, its libraries) can end up in the image, and every mount
/// ends with the namespace.
struct InitramfsBuilder {
    /// The staged tree, complete, before it goes live.
    let usr: String
    /// The machine's configuration (dracut.conf.d, fstab, ld.so.cache), or nil for none.
    let etc: String?
    /// Extra dracut arguments: `--no-hostonly` unless the root is the running system, whose
    /// hardware dracut's host-only mode may inspect.
    let arguments: [String]

    /// True when the tree has a dracut to build with.
    static func available(in tree: ArenaTree) -> Bool { tree.resolve("/usr/bin/dracut") != nil }

    /// Writes the initramfs of kernel `version` to `output` (a file in an existing folder);
    /// `scratch`, an empty folder, becomes the namespace's root.
    func build(kernelVersion version: String, scratch: String, into output: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--mount", "--propagation", "private", "/bin/sh", "-c", Self.script, "conary-dracut",
                             scratch, usr, etc ?? "", version, (output as NSString).deletingLastPathComponent,
                             (output as NSString).lastPathComponent] + arguments
        process.environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"]
        let log = Pipe()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw DeployError.initramfsFailed(kernel: version, detail: "unshare could not be started (\(error.localizedDescription))")
        }
        let text = String(decoding: log.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileSystem.exists(output) else {
            let last = text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            throw DeployError.initramfsFailed(kernel: version, detail: last.map(String.init) ?? "dracut exited with status \(process.terminationStatus)")
        }
    }

    /// $1 scratch root, $2 staged usr, $3 etc (or empty), $4 kernel version, $5 output folder,
    /// $6 output name, then dracut's extra arguments. Every mount it makes is in the namespace.
    static let script = #"""
        set -eu
        top=$1 usr=$2 etc=$3 kver=$4 outdir=$5 outname=$6
        shift 6
        mount -t tmpfs -o mode=0755 conary-dracut "$top"
        mkdir -p "$top/usr" "$top/etc" "$top/proc" "$top/sys" "$top/dev" "$top/run" "$top/tmp" "$top/var/tmp" "$top/out" "$top/layer"
        for link in bin sbin lib lib64; do ln -s "usr/$link" "$top/$link"; done
        mount --bind "$usr" "$top/usr"
        mount -o remount,bind,ro "$top/usr"
        if [ -n "$etc" ]; then mount --bind "$etc" "$top/etc"; mount -o remount,bind,ro "$top/etc"; fi
        # Distribution kernels leave modules.dep to a postinst that Conary does not run; depmod
        # writes it to a layer that lives only as long as this namespace.
        modules=$top/usr/lib/modules/$kver
        if [ ! -e "$modules/modules.dep" ]; then
            mkdir -p "$top/layer/upper" "$top/layer/work"
            mount -t overlay conary-modules -o "lowerdir=$modules,upperdir=$top/layer/upper,workdir=$top/layer/work" "$modules"
        fi
        mount -t proc proc "$top/proc"
        mount --rbind /sys "$top/sys"
        mount --rbind /dev "$top/dev"
        mount --bind "$outdir" "$top/out"
        if [ ! -e "$modules/modules.dep" ]; then chroot "$top" depmod -a "$kver"; fi
        chroot "$top" dracut --quiet --force --reproducible --tmpdir /tmp --kver "$kver" "$@" "/out/$outname"
        """#
}
