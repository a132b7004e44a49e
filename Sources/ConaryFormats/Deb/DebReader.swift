import ConaryVersions
import ConaryStore
import ConarySupport
import ConaryModel
import Foundation

/// Reads a Debian binary package: an ar archive of debian-binary, control.tar.* and
/// data.tar.*. The payload streams straight into the object intake, checked against the
/// package's md5sums.
enum DebReader {
    static let magic = Array("!<arch>\n".utf8)

    static func read(_ path: String, display: String, intake: ObjectIntake, limits: ImportLimits = ImportLimits()) throws -> PackageManifest {
        let outer = try ArchiveReader(file: path, container: .ar, name: display)
        guard let first = try outer.next(), first.path == "debian-binary" else {
            throw PackageError.malformed(display, "debian-binary is not its first member")
        }
        let formatVersion = String(decoding: try outer.readAll(limit: 64), as: UTF8.self)
        guard formatVersion.hasPrefix("2.") else {
            throw PackageError.malformed(display, "it uses deb format \(formatVersion.trimmingCharacters(in: .whitespacesAndNewlines)), not 2.x")
        }
        var control: Control?
        var manifest: PackageManifest?
        let packageSize = Int64(FileSystem.lstat(path)?.st_size ?? 0)
        while let member = try outer.next() {
            if member.path.hasPrefix("control.tar") {
                control = try readControl(ArchiveReader(nestedIn: outer, container: .tar, name: "\(display) (\(member.path))"),
                                          display: display, limits: limits)
            } else if member.path.hasPrefix("data.tar") {
                guard let control else { throw PackageError.malformed(display, "data.tar comes before control.tar") }
                let data = try ArchiveReader(nestedIn: outer, container: .tar, name: "\(display) (\(member.path))")
                manifest = try readData(data, control: control, display: display, intake: intake,
                                        packageSize: packageSize, limits: limits)
            }
        }
        guard let manifest else { throw PackageError.malformed(display, "it has no data.tar member") }
        return manifest
    }

    /// The parsed control.tar.
    struct Control {
        var fields: [String: String] = [:]
        var conffiles: Set<String> = []
        var md5sums: [String: String] = [:]
        var scriptlets: [Scriptlet] = []
    }

    private static let scriptNames: Set<String> = ["preinst", "postinst", "prerm", "postrm", "config", "triggers"]

    private static func readControl(_ archive: ArchiveReader, display: String, limits: ImportLimits) throws -> Control {
        var control = Control()
        var total = 0
        while let entry = try archive.next() {
            guard entry.kind == .regular, let path = try PayloadPath.normalize(entry.path, package: display) else { continue }
            let bytes = try archive.readAll(limit: limits.maxControlBytes)
            total += bytes.count
            if total > limits.maxControlBytes { throw PackageError.tooLarge(display, "its control data exceeds \(limits.maxControlBytes) bytes") }
            let text = String(decoding: bytes, as: UTF8.self)
            let name = String(path.dropFirst())
            switch name {
            case "control": control.fields = DebControl.fields(text)
            case "conffiles": control.conffiles = Set(text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) })
            case "md5sums": control.md5sums = DebControl.md5sums(text)
            case _ where scriptNames.contains(name):
                let interpreter = text.hasPrefix("#!") ? text.dropFirst(2).prefix { $0 != "\n" }.trimmingCharacters(in: .whitespaces) : nil
                control.scriptlets.append(Scriptlet(name: name, interpreter: interpreter, body: text))
            default: break
            }
        }
        return control
    }

    private static func readData(_ archive: ArchiveReader, control: Control, display: String, intake: ObjectIntake,
                                 packageSize: Int64, limits: ImportLimits) throws -> PackageManifest {
        guard let name = control.fields["package"] else { throw PackageError.missingField(display, "Package") }
        guard let version = control.fields["version"] else { throw PackageError.missingField(display, "Version") }
        var manifest = PackageManifest(name: name, version: version, arch: control.fields["architecture"],
                                       summary: control.fields["description"]?.split(separator: "\n").first.map(String.init),
                                       url: control.fields["homepage"], format: .deb, scriptlets: control.scriptlets)
        manifest.flavor = Flavor.architecture(manifest.arch)
        manifest.dependencies = DebControl.dependencies(from: control.fields)

        var payload = PayloadReader(display: display, intake: intake, limits: limits, packageSize: packageSize)
        while let entry = try archive.next() {
            guard let path = try PayloadPath.normalize(entry.path, package: display) else { continue }
            var flags: FileFlags = path.hasPrefix("/usr/share/doc/") ? .doc : []
            if control.conffiles.contains(path) { flags.formUnion([.config, .noreplace]) }
            let md5 = try payload.add(entry, at: path, from: archive, flags: flags, md5: entry.hardlinkTarget == nil)
            if let md5, let expected = control.md5sums[path], expected != md5 {
                throw PackageError.checksumMismatch(display, path)
            }
        }
        manifest.files = payload.ledger.files
        return manifest
    }
}
