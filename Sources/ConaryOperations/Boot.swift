import ConaryBoot
import ConaryModel
import ConarySupport
import ConaryVersions
import Foundation
import Glibc

/// Boot entries follow the states: after every deploy, activation and prune, each kept state
/// with a kernel has its entry, the default is the active state, and nothing else of
/// Conary's stays in the boot directory.
extension ConaryRoot {
    var bootDirectory: BootDirectory { BootDirectory(path: (path == "/" ? "" : path) + "/boot") }

    /// The kernel command line of every entry before `conary.state=N`:
    /// <root>/conary/kernel-options (one line, e.g. "root=/dev/vda ro console=ttyS0"), else "ro".
    func kernelOptions() throws -> String {
        let text = try setting("kernel-options") ?? ""
        return text.isEmpty ? "ro" : text
    }

    /// The tries a new entry gets: <root>/conary/boot-tries (0 turns boot counting off), else 3.
    func bootTries() throws -> Int {
        guard let text = try setting("boot-tries") else { return BootDirectory.defaultTries }
        guard let tries = Int(text), (0...99).contains(tries) else {
            throw BootError.invalidTries(path: "\(conaryPath)/boot-tries", text: text)
        }
        return tries
    }

    /// Writes the boot entries of every kept state that has a kernel (its newest one), when
    /// the root's boot directory is managed (`boot/loader/entries` exists; `required` makes
    /// an unmanaged one an error). Returns them.
    @discardableResult
    public func synchronizeBootEntries(required: Bool = false) throws -> [BootEntry] {
        var boot = bootDirectory
        guard boot.isManaged else {
            if required { throw BootError.unmanagedBootDirectory(boot.path) }
            return []
        }
        boot.tries = try bootTries()
        let (entries, active) = try bootableEntries()
        // The default is the state chosen with `boot set-default` while it has an entry, else the active one.
        let chosen = try setting("boot-default").flatMap { Int64($0) }.flatMap { id in entries.contains { $0.entry.state == id } ? id : nil }
        try boot.synchronize(entries, defaultState: chosen ?? (entries.contains { $0.entry.state == active } ? active : nil), store: store)
        return entries.map(\.entry)
    }

    /// The entry (with its kernel) of every kept state that has a kernel, and the active state.
    private func bootableEntries() throws -> (entries: [(entry: BootEntry, kernel: StateKernel)], active: Int64?) {
        let options = try kernelOptions()
        let (states, kernels) = try database.read { (try $0.keptStates(), try $0.kernelsByState()) }
        let entries = states.compactMap { state -> (entry: BootEntry, kernel: StateKernel)? in
            guard let kernel = kernels[state.id]?.max(by: { VersionScheme.rpm.compare($0.version, $1.version) < 0 }) else { return nil }
            let entry = BootEntry(state: state.id, title: "\(kernel.osName) (state \(state.id), \(Self.bootDate.string(from: state.created)))",
                                  version: kernel.version, linux: "/conary/\(kernel.kernelSHA256)/linux",
                                  initrd: kernel.initrdSHA256.map { "/conary/\($0)/initrd" }, options: "\(options) conary.state=\(state.id)")
            return (entry, kernel)
        }
        return (entries, states.first { $0.status == .active }?.id)
    }

    /// Makes state `id` the default boot entry until it is pruned or another is chosen; nil
    /// lets the default follow the active state again.
    public func setDefaultBootState(_ id: Int64?) throws {
        guard bootDirectory.isManaged else { throw BootError.unmanagedBootDirectory(bootDirectory.path) }
        if let id, try !bootableEntries().entries.contains(where: { $0.entry.state == id }) {
            throw BootError.noEntry(state: id)
        }
        try setSetting("boot-default", to: id.map(String.init))
        try synchronizeBootEntries(required: true)
    }

    /// Marks the booted state's entry good: drops the try counters from its file name, as
    /// systemd-bless-boot does, so the boot loader stops counting, and finishes a pending
    /// `state activate N --next-boot`. When the boot loader fell back to this state because
    /// the live state used up its tries, this state becomes live: the system repairs itself
    /// with no one at the console. The state comes from `conary.state=N` on the kernel
    /// command line unless given.
    @discardableResult
    public func markBootGood(state given: Int64? = nil, commandLine: String = "/proc/cmdline") throws -> String {
        let boot = bootDirectory
        guard boot.isManaged else { throw BootError.unmanagedBootDirectory(boot.path) }
        let state: Int64
        if let given {
            state = given
        } else {
            let words = (try FileSystem.readSmallFile(commandLine) ?? "").split(whereSeparator: \.isWhitespace)
            guard let word = words.last(where: { $0.hasPrefix("conary.state=") }), let id = Int64(word.dropFirst("conary.state=".count)) else {
                throw BootError.noBootedState
            }
            state = id
        }
        guard let entry = try boot.entries()[state] else { throw BootError.noEntry(state: state) }
        let good = "conary-\(state).conf"
        if entry.fileName != good {
            try sys("Renaming", entry.fileName, rename(boot.entriesPath + "/" + entry.fileName, boot.entriesPath + "/" + good))
            try Descriptor.directory(boot.entriesPath).sync()
        }
        try finishNextBootActivation(booted: state)
        try adoptFallback(booted: state, entries: boot.entries())
        try synchronizeBootEntries()
        return good
    }

    /// The booted archived state becomes live when the live state's entry has no tries left.
    private func adoptFallback(booted: Int64, entries: [Int64: (fileName: String, text: String)]) throws {
        guard let live = try activeState()?.id, live != booted,
              try database.read({ try $0.state(booted) }).status == .archived,
              let liveEntry = entries[live], BootEntry.parse(fileName: liveEntry.fileName)?.triesLeft == 0 else { return }
        try activate(booted, command: "conary boot mark-good")
        log("State \(live) used up its boot tries; state \(booted) booted well and is now the live state.")
    }

    /// `conary boot next N`: state N boots once, at the next boot only, through the boot
    /// loader's own one-shot: systemd-boot's LoaderEntryOneShot EFI variable when systemd-boot
    /// started the running system, else GRUB's next_entry. `efiVariables` defaults to the
    /// firmware's (only for the running system's root). Returns what was set, for the user.
    @discardableResult
    public func bootNextOnce(_ state: Int64, efiVariables: String? = nil) throws -> String {
        let boot = bootDirectory
        guard boot.isManaged else { throw BootError.unmanagedBootDirectory(boot.path) }
        guard let entry = try boot.entries()[state] else { throw BootError.noEntry(state: state) }
        if let variables = loaderVariables(efiVariables) {
            let id = "conary-\(state).conf"
            try variables.write("LoaderEntryOneShot", id)
            return "systemd-boot's LoaderEntryOneShot EFI variable is \(id)"
        }
        if let grub = GrubEnvironment.find(inBoot: boot.path) {
            let id = BootEntry.grubID(fileName: entry.fileName)
            try grub.set("next_entry", to: id)
            return "next_entry=\(id) in \(grub.path)"
        }
        throw BootError.noOneShotLoader(bootPath: boot.path)
    }

    /// The state `boot next` chose for the next boot, while the boot loader still holds it.
    public func oneShotBootState(efiVariables: String? = nil) throws -> Int64? {
        if let variables = loaderVariables(efiVariables) {
            return variables.read("LoaderEntryOneShot").flatMap { BootEntry.parse(fileName: $0)?.state }
        }
        let grub = GrubEnvironment.find(inBoot: bootDirectory.path)
        return try grub?.variables().last { $0.name == "next_entry" }.flatMap { BootEntry.parse(fileName: $0.value + ".conf")?.state }
    }

    /// systemd-boot's variables, when systemd-boot started the running system: the firmware's
    /// for the root "/", or `directory` (tests).
    private func loaderVariables(_ directory: String?) -> LoaderVariables? {
        guard let directory = directory ?? (path == "/" ? "/sys/firmware/efi/efivars" : nil) else { return nil }
        let variables = LoaderVariables(directory: directory)
        return variables.bootedBySystemdBoot ? variables : nil
    }

    /// After a state change: the system already runs the new state, so a failure to write its
    /// boot entries is reported, not thrown.
    func synchronizeBootEntriesAfterChange() {
        do { try synchronizeBootEntries() } catch {
            log("The state changed, but its boot entries could not be written: \(error) Run conary boot sync to retry.")
        }
    }

    /// The entries in the boot directory that Conary wrote, by state, with their file names.
    public func bootEntryFiles() throws -> [(state: Int64, fileName: String, isDefault: Bool)] {
        let boot = bootDirectory
        guard boot.isManaged else { throw BootError.unmanagedBootDirectory(boot.path) }
        return try boot.entries().sorted { $0.key < $1.key }.map { state, file in
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
