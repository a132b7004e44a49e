import ConaryBoot
import ConaryModel
import Foundation

/// Boot entries follow the states: after every deploy, activation and prune, each kept state
/// with a kernel has its entry, the default is the active state, and nothing else of
/// Conary's stays in the boot directory. The policy is the boot layer's (BootLoader); this
/// facade supplies the states, the settings and the state switches that boots ask for.
extension ConaryRoot {
    /// `efiVariables` defaults to the firmware's, for the running system's root only.
    func bootLoader(efiVariables: String? = nil) -> BootLoader {
        BootLoader(bootPath: (path == "/" ? "" : path) + "/boot",
                   efiVariables: efiVariables ?? (path == "/" ? "/sys/firmware/efi/efivars" : nil))
    }

    /// The kernel command line of every entry before `conary.state=N`:
    /// <root>/conary/kernel-options (one line, e.g. "root=/dev/vda ro console=ttyS0"), else "ro".
    private func kernelOptions() throws -> String {
        let text = try setting("kernel-options") ?? ""
        return text.isEmpty ? "ro" : text
    }

    /// The tries a new entry gets: <root>/conary/boot-tries (0 turns boot counting off), else 3.
    private func bootTries() throws -> Int {
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
        var loader = bootLoader()
        guard loader.isManaged else {
            if required { try loader.requireManaged() }
            return []
        }
        loader.directory.tries = try bootTries()
        let (entries, active) = try bootableEntries()
        // The default is the state chosen with `boot set-default` while it has an entry, else the active one.
        let chosen = try setting("boot-default").flatMap { Int64($0) }.flatMap { id in entries.contains { $0.entry.state == id } ? id : nil }
        try loader.directory.synchronize(entries, defaultState: chosen ?? (entries.contains { $0.entry.state == active } ? active : nil),
                                         store: store)
        return entries.map(\.entry)
    }

    /// The entry (with its kernel) of every kept state that has a kernel, and the active state.
    private func bootableEntries() throws -> (entries: [(entry: BootEntry, kernel: StateKernel)], active: Int64?) {
        let (states, kernels) = try database.read { (try $0.keptStates(), try $0.kernelsByState()) }
        return (BootLoader.entries(for: states, kernels: kernels, options: try kernelOptions()), states.first { $0.status == .active }?.id)
    }

    /// Makes state `id` the default boot entry until it is pruned or another is chosen; nil
    /// lets the default follow the active state again.
    public func setDefaultBootState(_ id: Int64?) throws {
        try bootLoader().requireManaged()
        if let id, try !bootableEntries().entries.contains(where: { $0.entry.state == id }) {
            throw BootError.noEntry(state: id)
        }
        try setSetting("boot-default", to: id.map(String.init))
        try synchronizeBootEntries(required: true)
    }

    /// Marks the booted state's entry good (the boot loader stops counting its tries) and
    /// finishes a pending `state activate N --next-boot`. When the boot loader fell back to
    /// this state because the live state used up its tries, this state becomes live: the
    /// system repairs itself with no one at the console. The state comes from
    /// `conary.state=N` on the kernel command line unless given.
    @discardableResult
    public func markBootGood(state given: Int64? = nil, commandLine: String = "/proc/cmdline") throws -> String {
        let loader = bootLoader()
        try loader.requireManaged()
        let state = try given ?? BootLoader.bootedState(commandLine: commandLine)
        let good = try loader.markGood(state)
        try finishNextBootActivation(booted: state)
        if let live = try activeState()?.id, live != state, try loader.hasUsedUpTries(live),
           try database.read({ try $0.state(state) }).status == .archived {
            try activate(state, command: "conary boot mark-good", checked: false)
            log("State \(live) used up its boot tries; state \(state) booted well and is now the live state.")
        }
        try synchronizeBootEntries()
        return good
    }

    /// `conary boot next N`: state N boots once, at the next boot only. Returns what was set, for the user.
    @discardableResult
    public func bootNextOnce(_ state: Int64, efiVariables: String? = nil) throws -> String {
        let loader = bootLoader(efiVariables: efiVariables)
        try loader.requireManaged()
        return try loader.bootOnce(state)
    }

    /// The state `boot next` chose for the next boot, while the boot loader still holds it.
    public func oneShotBootState(efiVariables: String? = nil) throws -> Int64? {
        try bootLoader(efiVariables: efiVariables).oneShotState()
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
        let loader = bootLoader()
        try loader.requireManaged()
        return try loader.entryFiles()
    }
}
