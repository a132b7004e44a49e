import ConarySupport
import ConaryModel
import Crypto
import Foundation

/// The manifest of a CCS package (Conary's own format, Docs/ccs.md): everything about the
/// package but the file contents, in canonical JSON so a signature over its bytes is stable.
struct CCSManifest: Codable, Equatable {
    static let formatName = "conary-ccs-1"

    struct File: Codable, Equatable {
        var path: String
        var kind: String
        var mode: UInt32
        var uid: UInt32
        var gid: UInt32
        var size: Int64
        var sha256: String?
        var target: String?
        var flags: Int
    }

    struct Relation: Codable, Equatable {
        var relation: String
        var capability: String
        var comparison: String?
        var version: String?
        var alternative: Int
    }

    struct Script: Codable, Equatable {
        var name: String
        var interpreter: String?
        var body: String
    }

    var format = CCSManifest.formatName
    var name: String
    var version: String
    var arch: String?
    var summary: String?
    /// Normalized, as Flavor prints it; absent for none.
    var flavor: String?
    var dependencies: [Relation]
    var scriptlets: [Script]
    /// Sorted by path.
    var files: [File]
    var merkleRoot: String

    /// Sorted keys, no spaces, slashes unescaped: the bytes that are signed.
    func canonicalJSON() throws -> [UInt8] { Array(try CCSManifest.encoder.encode(self)) }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A Merkle tree over the file entries (RFC 6962 style: leaves hash 0x00 || entry JSON,
    /// nodes hash 0x01 || left || right, an odd node moves up unchanged). One file can be
    /// proven against the root without the others.
    static func merkleRoot(of files: [File]) throws -> String {
        var level = try files.map { file in
            Array(SHA256.hash(data: [0x00] + Array(try encoder.encode(file))))
        }
        if level.isEmpty { return SHA256.hash(data: [UInt8]()).hex }
        while level.count > 1 {
            level = stride(from: 0, to: level.count, by: 2).map { index in
                index + 1 < level.count ? Array(SHA256.hash(data: [0x01] + level[index] + level[index + 1])) : level[index]
            }
        }
        return level[0].map { String(format: "%02x", $0) }.joined()
    }
}
