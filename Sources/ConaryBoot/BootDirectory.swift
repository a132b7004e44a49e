import ConaryStore
import ConaryModel
import ConarySupport
import Foundation
import Glibc

/// The boot loader's directory (`<root>/boot`, or an ESP mounted there) as Conary keeps it:
/// `loader/entries/conary-<N>.conf` per bootable state, each kernel and initramfs once per
/// content hash under `conary/<sha256>/`, and the `default` line of `loader/loader.conf`
/// (systemd-boot's) and `saved_entry` of `grub/grubenv` when GRUB is installed there.
/// Every file is written to a temporary name, synced and renamed, so a crash leaves the old
/// file or the new one. Conary manages a boot directory only once `loader/entries` exists.
package struct BootDirectory {
    package let path: String

    package init(path: String) { self.path = path }
    /// Tries a new state's entry gets before the boot loader gives up on it; 0 turns counting off.
    package var tries = BootDirectory.defaultTries
    package static let defaultTries = 3

    package var entriesPath: String { path + "/loader/entries" }
    package var isManaged: Bool { FileSystem.lstat(entriesPath).map(FileSystem.isDirectory) ?? false }

    /// The entries Conary wrote, by state.
    package func entries() throws -> [Int64: (fileName: String, text: String)] {
        var result: [Int64: (String, String)] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: entriesPath) {
            guard let parsed = BootEntry.parse(fileName: name),
                  let text = try FileSystem.readSmallFile(entriesPath + "/" + name) else { continue }
            result[parsed.state] = (name, text)
        }
        return result
    }

    /// Makes the directory hold exactly `entries` (plus other systems' files, untouched):
    /// kernels copied in by hash, entries written or kept, stale ones and unused kernels
    /// removed, and `default` pointing at `defaultState`.
    package func synchronize(_ entries: [(entry: BootEntry, kernel: StateKernel)], defaultState: Int64?, store: ObjectStore) throws {
        let images = path + "/conary"
        try FileSystem.makeDirectory(images, mode: 0o755)
        for (_, kernel) in entries {
            try install(kernel.kernelObject, as: kernel.kernelSHA256 + "/linux", store: store)
            if let initrd = kernel.initrdObject, let sha256 = kernel.initrdSHA256 {
                try install(initrd, as: sha256 + "/initrd", store: store)
            }
        }
        let existing = try self.entries()
        let wanted = Set(entries.map(\.entry.state))
        var defaultFileName: String?
        for (var entry, _) in entries {
            let current = existing[entry.state]
            // Keep the boot loader's counters; an entry without them has booted well.
            let counters = current.flatMap { BootEntry.parse(fileName: $0.fileName) } ?? (entry.state, tries > 0 ? tries : nil, 0)
            entry.triesLeft = counters.triesLeft
            entry.triesDone = counters.triesDone
            entry.preference = entry.state == defaultState ? .preferred : entry.triesLeft == nil ? .bootedWell : .untried
            if entry.preference == .preferred { defaultFileName = entry.fileName }
            if current?.text == entry.text { continue }
            try write(entry.text, to: entriesPath + "/" + entry.fileName)
        }
        for (state, current) in existing where !wanted.contains(state) {
            try FileSystem.removeTree(entriesPath + "/" + current.fileName)
        }
        let used = Set(entries.flatMap { [$0.kernel.kernelSHA256, $0.kernel.initrdSHA256].compactMap { $0 } })
        for name in try FileManager.default.contentsOfDirectory(atPath: images) where !used.contains(name) {
            try FileSystem.removeTree(images + "/" + name)
        }
        try setDefault(entries.isEmpty ? nil : BootEntry.defaultPattern)
        try Descriptor.directory(entriesPath).sync()
        if let grub = GrubEnvironment.find(inBoot: path) {
            let id = defaultFileName.map(BootEntry.grubID(fileName:))
            if try grub.variables().first(where: { $0.name == "saved_entry" })?.value != id { try grub.set("saved_entry", to: id) }
        }
    }

    /// Rewrites the `default` line of loader.conf (other lines stay); nil removes it.
    func setDefault(_ id: String?) throws {
        let file = path + "/loader/loader.conf"
        let lines = (try FileSystem.readSmallFile(file) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("default ") && !$0.hasPrefix("default\t") }
        var kept = Array(lines)
        while kept.last?.isEmpty == true { kept.removeLast() }
        if let id { kept.insert("default \(id)", at: 0) }
        let text = kept.joined(separator: "\n") + "\n"
        if try FileSystem.readSmallFile(file) != text { try write(text, to: file) }
    }

    /// Copies a store object to `conary/<relative>` unless it is there already.
    private func install(_ object: String, as relative: String, store: ObjectStore) throws {
        let target = path + "/conary/" + relative
        if FileSystem.exists(target) { return }
        try FileSystem.makeDirectory((target as NSString).deletingLastPathComponent, mode: 0o755)
        let source = try store.openObject(object)
        let directory = try Descriptor.directory((target as NSString).deletingLastPathComponent)
        try FileSystem.replaceAtomically((target as NSString).lastPathComponent, relativeTo: directory.fd) { output, temporary in
            try FileCopy.copy(from: source.fd, to: output, length: Int64(try source.stat().st_size), path: target)
        }
        try directory.sync()
    }

    private func write(_ text: String, to file: String) throws {
        let directory = try Descriptor.directory((file as NSString).deletingLastPathComponent)
        try FileSystem.writeAtomically(text, to: (file as NSString).lastPathComponent, relativeTo: directory.fd)
    }
}
