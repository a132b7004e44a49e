import ArgumentParser
import ConaryFormats
import ConaryModel
import ConaryOperations
import ConaryVersions
import Foundation

struct CCSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ccs", abstract: "Build, sign, inspect and verify Conary's own signed packages.",
        subcommands: [KeyGen.self, Build.self, Sign.self, Verify.self, Inspect.self, Trust.self])

    struct KeyGen: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "keygen", abstract: "Create an Ed25519 key pair: PREFIX.secret and PREFIX.pub.")
        @Argument(help: "Path prefix of the key files.") var prefix: String

        func run() throws {
            let id = try CCSPackage.generateKeys(prefix: prefix)
            print("Wrote \(prefix).secret and \(prefix).pub (key \(id)).")
        }
    }

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Package a directory tree as a .ccs file.")
        @Argument(help: "The directory whose contents become the package's files.") var directory: String
        @Option var name: String
        @Option var version: String
        @Option var arch: String?
        @Option var summary: String?
        @Option(help: "The build's flavor, e.g. \"ssl,!debug is: x86_64\".") var flavor: String?
        @Option(help: "A requirement such as \"glibc >= 2.34\"; repeatable.") var requires: [String] = []
        @Option(help: "A capability the package offers; repeatable.") var provides: [String] = []
        @Option(help: "Secret key file to sign with.") var key: String?
        @Option(name: .shortAndLong, help: "The package file to write.") var output: String

        func run() throws {
            var metadata = CCSPackage.Metadata(name: name, version: version, arch: arch, summary: summary)
            metadata.flavor = try flavor.map { try Flavor($0) } ?? .empty
            metadata.requires = requires
            metadata.provides = provides
            let secret = try key.map { try CCSPackage.readKey($0, bytes: 64) }
            let report = try CCSPackage.build(directory: directory, output: output, metadata: metadata, secretKey: secret)
            print("Built \(output): \(report.name)=\(report.version), \(report.files) entries, Merkle root \(report.merkleRoot)"
                  + (report.signedBy.map { ", signed by key \($0)." } ?? ", unsigned."))
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign (or re-sign) a .ccs file in place.")
        @Argument var package: String
        @Option(help: "Secret key file.") var key: String

        func run() throws {
            let report = try CCSPackage.sign(package, secretKey: try CCSPackage.readKey(key, bytes: 64))
            print("Signed \(package) with key \(report.signedBy!).")
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a .ccs file's signature, Merkle root and contents.")
        @Argument var package: String
        @Option(help: "Public key file to trust; repeatable. Without one, any valid signature passes.") var key: [String] = []

        func run() throws {
            let trusted = try key.isEmpty ? nil : Set(key.map { CCSSigning.publicKeyHex(try CCSPackage.readKey($0, bytes: 32)) })
            let report = try CCSPackage.verify(package, trustedKeys: trusted)
            guard let signer = report.signedBy else { Output.fail("\(package) is not signed.") }
            print("\(package): \(report.name)=\(report.version), \(report.files) entries intact, signed by key \(signer)"
                  + (trusted == nil ? "." : ", which is trusted."))
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a .ccs file's manifest (JSON) and signer.")
        @Argument var package: String

        func run() throws {
            let (manifest, signer) = try CCSPackage.inspect(package)
            print(manifest)
            Output.note(signer.map { "Signed by key \($0) (signature valid; trust not checked)." } ?? "Unsigned.")
        }
    }

    struct Trust: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Trust a public key for installing .ccs packages into the root.")
        @OptionGroup var options: RootOptions
        @Argument(help: "A public key file written by ccs keygen.") var key: String

        func run() throws {
            let publicKey = CCSSigning.publicKeyHex(try CCSPackage.readKey(key, bytes: 32))
            let id = try options.open(create: true).trust(publicKey: publicKey)
            print("Key \(id) is trusted for \(options.root).")
        }
    }
}
