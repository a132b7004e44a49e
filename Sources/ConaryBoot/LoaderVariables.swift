import ConaryModel
import ConarySupport
import CLinux
import Foundation
import Glibc

/// systemd-boot's Boot Loader Interface variables in efivarfs: LoaderInfo tells that
/// systemd-boot started this boot, LoaderEntryOneShot names the entry for the next boot only.
/// An efivarfs file holds a 4-byte attribute word, then the value (here UTF-16LE text with
/// a NUL), and must be written in one write(2).
package struct LoaderVariables {
    /// /sys/firmware/efi/efivars on a running UEFI machine.
    let directory: String

    package init(directory: String) { self.directory = directory }

    static let vendor = "4a67b082-0a4c-41cf-b6c7-440b29bb8c4f"
    /// EFI_VARIABLE_NON_VOLATILE | BOOTSERVICE_ACCESS | RUNTIME_ACCESS.
    static let attributes: [UInt8] = [0x07, 0, 0, 0]

    /// True when systemd-boot started the running system (it sets LoaderInfo at every boot).
    package var bootedBySystemdBoot: Bool { FileSystem.exists(file("LoaderInfo")) }

    /// A text variable, or nil when it is not set.
    package func read(_ name: String) -> String? {
        guard let data = FileManager.default.contents(atPath: file(name)), data.count >= 4 else { return nil }
        let bytes = [UInt8](data.dropFirst(4))
        let units = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) | UInt16(bytes[$0 + 1]) << 8 }
        var text = String(decoding: units, as: UTF16.self)
        while text.hasSuffix("\0") { text.removeLast() }
        return text
    }

    package func write(_ name: String, _ value: String) throws {
        let path = file(name)
        let bytes = Self.attributes + (value + "\0").utf16.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
        let descriptor = try Descriptor.open(path, flags: O_WRONLY | O_CREAT | O_CLOEXEC, mode: 0o644)
        try clearImmutable(descriptor, path)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor.fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw SystemError(operation: "Writing the EFI variable", path: path, errno: written < 0 ? errno : EIO)
        }
    }

    private func file(_ name: String) -> String { "\(directory)/\(name)-\(Self.vendor)" }

    /// efivarfs marks variables immutable; other filesystems (the tests') may have no flags at all.
    private func clearImmutable(_ descriptor: Descriptor, _ path: String) throws {
        if conary_clear_immutable(descriptor.fd) != 0, errno != ENOTTY, errno != EOPNOTSUPP, errno != EINVAL {
            throw SystemError(operation: "Clearing the immutable flag of", path: path, errno: errno)
        }
    }
}
