import ConarySupport
import ConaryModel
import CSodium
import Crypto
import Foundation

/// Ed25519 keys and signatures for CCS packages, through libsodium.
public enum CCSSigning {
    struct Signature: Codable, Equatable {
        var algorithm = "ed25519"
        var publicKey: String
        var signature: String
    }

    struct KeyPair {
        let publicKey: [UInt8]
        let secretKey: [UInt8]
    }

    private static let ready: Bool = sodium_init() >= 0

    static func generate() throws -> KeyPair {
        guard ready else { throw PackageError.signingUnavailable }
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        crypto_sign_keypair(&publicKey, &secretKey)
        return KeyPair(publicKey: publicKey, secretKey: secretKey)
    }

    static func sign(_ message: [UInt8], with secretKey: [UInt8]) throws -> Signature {
        guard ready, secretKey.count == Int(crypto_sign_SECRETKEYBYTES) else {
            throw PackageError.invalidKey("The signing key is not an Ed25519 secret key.")
        }
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
        return Signature(publicKey: hex(Array(secretKey[32...])), signature: hex(signature))
    }

    static func isValid(_ signature: Signature, for message: [UInt8]) -> Bool {
        guard ready, signature.algorithm == "ed25519", let key = bytes(signature.publicKey), key.count == Int(crypto_sign_PUBLICKEYBYTES),
              let value = bytes(signature.signature), value.count == Int(crypto_sign_BYTES) else { return false }
        return crypto_sign_verify_detached(value, message, UInt64(message.count), key) == 0
    }

    /// A short name for a public key: the first 16 hex digits of its SHA-256.
    package static func keyID(_ publicKeyHex: String) -> String {
        String(SHA256.hash(data: Array(publicKeyHex.utf8)).hex.prefix(16))
    }

    public static func publicKeyHex(_ key: [UInt8]) -> String { hex(key) }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    package static func bytes(_ hex: String) -> [UInt8]? {
        let text = Array(hex.utf8)
        guard text.count % 2 == 0 else { return nil }
        var result: [UInt8] = []
        for index in stride(from: 0, to: text.count, by: 2) {
            guard let byte = UInt8(String(decoding: text[index..<(index + 2)], as: UTF8.self), radix: 16) else { return nil }
            result.append(byte)
        }
        return result
    }
}
