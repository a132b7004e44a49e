import ConarySupport
import ConaryModel
import ConaryVersions
/// Why a package file was refused. Every message names the package; nothing of a refused
/// package reaches the store.
public enum PackageError: Error, Equatable, CustomStringConvertible {
    case unknownFormat(String)
    case malformed(String, String)
    case unsafeEntry(String, String, String)
    case tooLarge(String, String)
    case checksumMismatch(String, String)
    case missingField(String, String)
    case differentContent(String, String)
    case unsigned(String)
    case badSignature(String)
    case untrustedKey(String, String)
    /// A tree or package that cannot be a trove: the sentence says why.
    case notImportable(String)
    /// A package whose name or version breaks the rules every trove obeys (`TroveName`).
    case invalidIdentity(String, VersionError)
    case troveExists(name: String, version: String)
    /// Writing a package file (ccs build) failed.
    case writeFailed(path: String, detail: String)
    case invalidKey(String)
    /// libsodium could not be initialised, so nothing can be signed.
    case signingUnavailable

    public var description: String {
        switch self {
        case let .unknownFormat(package):
            return "\(package) is not a package Conary can read (it reads .deb, .rpm, .ccs, and Arch .pkg.tar.zst or .pkg.tar.xz)."
        case let .malformed(package, detail):
            return "\(package) is damaged: \(detail)."
        case let .unsafeEntry(package, path, detail):
            return "\(package) is refused: \(path) \(detail)."
        case let .tooLarge(package, detail):
            return "\(package) is refused: \(detail)."
        case let .checksumMismatch(package, path):
            return "\(package) is damaged: \(path) does not match its recorded checksum."
        case let .missingField(package, field):
            return "\(package) is damaged: its control data has no \(field) field."
        case let .unsigned(package):
            return "\(package) is refused: it is not signed (sign it with conary ccs sign)."
        case let .badSignature(package):
            return "\(package) is refused: its signature does not match its manifest."
        case let .untrustedKey(package, key):
            return "\(package) is refused: it is signed by key \(key), which this root does not trust (conary ccs trust)."
        case let .notImportable(sentence):
            return sentence
        case let .invalidIdentity(package, error):
            return "\(package) is refused: \(error)"
        case let .troveExists(name, version):
            return "The trove \(name)=\(version) is already in the store."
        case let .writeFailed(path, detail):
            return "Writing \(path) failed: \(detail)."
        case let .invalidKey(sentence):
            return sentence
        case .signingUnavailable:
            return "libsodium could not be initialised, so nothing can be signed or verified."
        case let .differentContent(package, spec):
            return "\(package) differs from the \(spec) already in the store under the same name and version."
        }
    }
}
