import ConaryDeploy
import Foundation

/// `conary state activate N --next-boot`: the switch to N happens through a reboot instead of
/// live. N becomes the default boot entry; when the system has booted N (the dracut module
/// mounts its archived tree), `conary boot mark-good` makes N the live state. If another
/// state boots instead (N ran out of tries), the request is dropped.
extension ConaryRoot {
    public func activateAtNextBoot(_ id: Int64) throws {
        try StateTransaction.requireArchived(try database.read { try $0.state(id) })
        try transaction.requireIntactArchive(id, expected: try tree(ofState: id))
        try setDefaultBootState(id)
        try setSetting("next-boot", to: String(id))
    }

    /// The state waiting to become live at its first good boot, if any.
    public func pendingNextBoot() throws -> Int64? {
        try setting("next-boot").flatMap { Int64($0) }
    }

    /// Called once state `booted` has booted well: finishes or drops a next-boot switch.
    func finishNextBootActivation(booted: Int64) throws {
        guard let pending = try pendingNextBoot() else { return }
        if pending == booted, try database.read({ try $0.state(booted) }).status == .archived {
            try activate(booted, command: "conary boot mark-good", checked: false)
            log("State \(booted) booted well and is now the live state.")
        } else if pending != booted {
            log("State \(pending) was to become live at this boot, but state \(booted) booted; the switch is dropped.")
        }
        try setSetting("next-boot", to: nil)
        try setDefaultBootState(nil)
    }
}
