// libFuzzer entry points for the parsers that read untrusted package metadata.
// Build and run with `make fuzz` (Scripts/fuzz.sh); FUZZ_TARGET picks the parser.
#if CONARY_FUZZ
import ConaryModel
@testable import ConaryFormats
import Foundation

private let target = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? "rpm-header"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "rpm-header":
        if let header = try? RPMHeader(bytes[...], package: "fuzz") {
            for tag in header.values.keys { _ = (header.strings(tag), header.integers(tag), header.string(tag)) }
        }
    case "deb-control":
        let text = String(decoding: bytes, as: UTF8.self)
        let fields = DebControl.fields(text)
        for value in fields.values { _ = DebControl.relations(value, as: .requires) }
        _ = DebControl.md5sums(text)
    case "pkginfo":
        let text = String(decoding: bytes, as: UTF8.self)
        for (_, values) in PkgInfo.parse(text) {
            for (index, value) in values.enumerated() { _ = PkgInfo.dependency(value, relation: .requires, alternative: index) }
        }
        _ = PkgInfo.mtreeDigests(text)
    default:
        fatalError("unknown FUZZ_TARGET \(target)")
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                             _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// SwiftPM links an executable's entry point under this name; it hands over to libFuzzer.
@_cdecl("conary_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { fuzzOneInput($0, $1) }
}
#else
import Foundation

@main
struct FuzzUsage {
    static func main() {
        FileHandle.standardError.write(Data("conary-fuzz is built for libFuzzer by `make fuzz` (Scripts/fuzz.sh).\n".utf8))
        exit(2)
    }
}
#endif
