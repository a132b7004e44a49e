import ConaryModel
import ConaryStore
import ConarySupport
import ConaryVersions
import Foundation
import Glibc

/// The boot policy of one root: which states have entries, which boots by default, which
/// boots once, and which has booted well. It works on the boot directory and the boot
/// loader's variables (systemd-boot's EFI variables, GRUB's environment block); the
/// states and their kernels come from the caller.
package struct BootLoader {
    package var directory: BootDirectory
    /// Where the firmware's variables are, if the root is the running system's.
    private let efiVariables: String?

    /// `efiVariables`: where the firmware's variables are (the running system's
    /// /sys/firmware/efi/efivars, or a folder standing in for it in tests); nil for an image root.
    package init(bootPath: String, efiVariables: String?) {
        directory = BootDirectory(path: bootPath)
        self.efiVariables = efiVariables
    }

    /// systemd-boot's variables, when systemd-boot started the running system.
    private var systemdBootVariables: LoaderVariables? {
        efiVariables.map(LoaderVariables.init(directory:)).flatMap { $0.bootedBySystemdBoot ? $0 : nil }
    }

    package var isManaged: Bool { directory.isManaged }

    /// Conary manages a boot directory only once `loader/entries` exists.
    package func requireManaged() throws {
        guard isManaged else { throw BootError.unmanagedBootDirectory(directory.path) }
    }

    /// The entry of every state that has a kernel (its newest one), in state order.
    package static func entries(for states: [SystemState], kernels: [Int64: [StateKernel]],
                                options: String) -> [(entry: BootEntry, kernel: StateKernel)] {
        states.compactMap { state in
            guard let kernel = kernels[state.id]?.max(by: { VersionScheme.rpm.compare($0.version, $1.version) < 0 }) else { return nil }
            let entry = BootEntry(state: state.id, title: "\(kernel.osName) (state \(state.id), \(bootDate.string(from: state.created)))",
                                  version: kernel.version, linux: "/conary/\(kernel.kernelSHA256)/linux",
                                  initrd: kernel.initrdSHA256.map { "/conary/\($0)/initrd" }, options: "\(options) conary.state=\(state.id)")
            return (entry, kernel)
        }
    }

    /// The state `conary.state=N` on a kernel command line names (the last one wins, as the kernel reads it).
    package static func bootedState(commandLine: String) throws -> Int64 {
        let words = (try FileSystem.readSmallFile(commandLine) ?? "").split(whereSeparator: \.isWhitespace)
        guard let word = words.last(where: { $0.hasPrefix("conary.state=") }), let id = Int64(word.dropFirst("conary.state=".count)) else {
            throw BootError.noBootedState
        }
        return id
    }

    /// Drops the try counters from the file name of state `state`'s entry, as systemd-bless-boot
    /// does, so the boot loader stops counting. Returns the entry's name.
    package func markGood(_ state: Int64) throws -> String {
        guard let entry = try directory.entries()[state] else { throw BootError.noEntry(state: state) }
        let good = "conary-\(state).conf"
        if entry.fileName != good {
            try sys("Renaming", entry.fileName, rename(directory.entriesPath + "/" + entry.fileName, directory.entriesPath + "/" + good))
            try Descriptor.directory(directory.entriesPath).sync()
        }
        return good
    }

    /// Whether state `state`'s entry has used up its tries (the boot loader passes over it).
    package func hasUsedUpTries(_ state: Int64) throws -> Bool {
        guard let entry = try directory.entries()[state] else { return false }
        return BootEntry.parse(fileName: entry.fileName)?.triesLeft == 0
    }

    /// State `state` boots once, at the next boot only, through the boot loader's own
    /// one-shot: systemd-boot's LoaderEntryOneShot EFI variable when systemd-boot started the
    /// running system, else GRUB's next_entry. Returns what was set, for the user.
    package func bootOnce(_ state: Int64) throws -> String {
        guard let entry = try directory.entries()[state] else { throw BootError.noEntry(state: state) }
        if let variables = systemdBootVariables {
            let id = "conary-\(state).conf"
            try variables.write("LoaderEntryOneShot", id)
            return "systemd-boot's LoaderEntryOneShot EFI variable is \(id)"
        }
        if let grub = GrubEnvironment.find(inBoot: directory.path) {
            let id = BootEntry.grubID(fileName: entry.fileName)
            try grub.set("next_entry", to: id)
            return "next_entry=\(id) in \(grub.path)"
        }
        throw BootError.noOneShotLoader(bootPath: directory.path)
    }

    /// The state `bootOnce` chose for the next boot, while the boot loader still holds it.
    package func oneShotState() throws -> Int64? {
        if let variables = systemdBootVariables {
            return variables.read("LoaderEntryOneShot").flatMap { BootEntry.parse(fileName: $0)?.state }
        }
        let grub = GrubEnvironment.find(inBoot: directory.path)
        return try grub?.variables().last { $0.name == "next_entry" }.flatMap { BootEntry.parse(fileName: $0.value + ".conf")?.state }
    }

    /// The entries in the boot directory that Conary wrote, by state, with their file names.
    package func entryFiles() throws -> [(state: Int64, fileName: String, isDefault: Bool)] {
        try directory.entries().sorted { $0.key < $1.key }.map { state, file in
            (state, file.fileName, BootEntry.preference(inText: file.text) == .preferred)
        }
    }

    private static let bootDate: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter
    }()
}
