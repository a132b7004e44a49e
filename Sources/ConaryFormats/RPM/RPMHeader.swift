import ConarySupport
import ConaryModel
/// One RPM header structure (signature or main header), parsed from untrusted bytes with
/// every offset and count checked against the data it points into.
struct RPMHeader {
    static let magic: [UInt8] = [0x8E, 0xAD, 0xE8, 0x01]
    /// Bounds no real package comes near; they stop allocation attacks.
    static let maxEntries = 1 << 16
    static let maxDataBytes = 256 << 20

    enum Value {
        case integers([Int64])
        case strings([String])
        case binary([UInt8])
    }

    private(set) var values: [UInt32: Value] = [:]
    /// The header's own bytes, from its magic to the end of its data (what digests cover).
    let bytes: ArraySlice<UInt8>

    /// Parses a header at the start of `data`; `package` names the file in errors.
    init(_ data: ArraySlice<UInt8>, package: String) throws {
        func fail(_ detail: String) -> PackageError { .malformed(package, "its RPM header \(detail)") }
        guard data.count >= 16, Array(data.prefix(4)) == RPMHeader.magic else { throw fail("has a bad magic number") }
        let base = data.startIndex
        let count = Int(RPMHeader.uint32(data, base + 8))
        let size = Int(RPMHeader.uint32(data, base + 12))
        guard count <= RPMHeader.maxEntries, size <= RPMHeader.maxDataBytes else { throw fail("is implausibly large") }
        let store = base + 16 + count * 16
        guard data.count >= 16 + count * 16 + size else { throw fail("is truncated") }
        bytes = data[base..<(store + size)]
        let dataStore = data[store..<(store + size)]
        for index in 0..<count {
            let entry = base + 16 + index * 16
            let tag = RPMHeader.uint32(data, entry)
            let type = RPMHeader.uint32(data, entry + 4)
            let offset = Int(RPMHeader.uint32(data, entry + 8))
            let items = Int(RPMHeader.uint32(data, entry + 12))
            guard offset < size || items == 0, items <= RPMHeader.maxDataBytes else { throw fail("has an entry outside its data") }
            values[tag] = try RPMHeader.decode(type: type, at: store + offset, items: items, in: dataStore, fail: fail)
        }
    }

    private static func decode(type: UInt32, at start: Int, items: Int, in store: ArraySlice<UInt8>,
                               fail: (String) -> PackageError) throws -> Value? {
        let width: Int
        switch type {
        case 2, 1: width = 1
        case 3: width = 2
        case 4: width = 4
        case 5: width = 8
        case 6, 8, 9:
            var strings: [String] = []
            var cursor = start
            for _ in 0..<(type == 6 ? 1 : items) {
                guard cursor < store.endIndex, let end = store[cursor...].firstIndex(of: 0) else {
                    throw fail("has an unterminated string")
                }
                strings.append(String(decoding: store[cursor..<end], as: UTF8.self))
                cursor = end + 1
            }
            return .strings(strings)
        case 7:
            guard start + items <= store.endIndex else { throw fail("has an entry outside its data") }
            return .binary(Array(store[start..<(start + items)]))
        default:
            return nil
        }
        guard start + width * items <= store.endIndex else { throw fail("has an entry outside its data") }
        return .integers((0..<items).map { item in
            var value: Int64 = 0
            for byte in store[(start + item * width)..<(start + (item + 1) * width)] { value = value << 8 | Int64(byte) }
            return value
        })
    }

    static func uint32(_ data: ArraySlice<UInt8>, _ at: Int) -> UInt32 {
        data[at..<(at + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }

    func strings(_ tag: UInt32) -> [String] {
        if case let .strings(value) = values[tag] { return value }
        return []
    }

    func string(_ tag: UInt32) -> String? { strings(tag).first }

    func integers(_ tag: UInt32) -> [Int64] {
        if case let .integers(value) = values[tag] { return value }
        return []
    }
}

/// Tag numbers from rpm's rpmtag.h.
enum RPMTag {
    static let sigSHA256: UInt32 = 273
    /// DSA, RSA, PGP and GPG signature tags of the signature header.
    static let signatures: [UInt32] = [267, 268, 1002, 1005]
    static let name: UInt32 = 1000, version: UInt32 = 1001, release: UInt32 = 1002, epoch: UInt32 = 1003
    static let summary: UInt32 = 1004, license: UInt32 = 1014, url: UInt32 = 1020, arch: UInt32 = 1022
    static let fileSizes: UInt32 = 1028, fileModes: UInt32 = 1030, fileDigests: UInt32 = 1035, fileLinkTos: UInt32 = 1036
    static let fileFlags: UInt32 = 1037, fileUserName: UInt32 = 1039, fileGroupName: UInt32 = 1040
    static let provideName: UInt32 = 1047, requireFlags: UInt32 = 1048, requireName: UInt32 = 1049, requireVersion: UInt32 = 1050
    static let conflictFlags: UInt32 = 1053, conflictName: UInt32 = 1054, conflictVersion: UInt32 = 1055
    static let obsoleteName: UInt32 = 1090, provideFlags: UInt32 = 1112, provideVersion: UInt32 = 1113
    static let obsoleteFlags: UInt32 = 1114, obsoleteVersion: UInt32 = 1115
    static let dirIndexes: UInt32 = 1116, baseNames: UInt32 = 1117, dirNames: UInt32 = 1118
    static let longFileSizes: UInt32 = 5008, fileDigestAlgo: UInt32 = 5011
    static let payloadDigest: UInt32 = 5092, payloadDigestAlgo: UInt32 = 5093
    /// (script tag, interpreter tag, name)
    static let scripts: [(UInt32, UInt32, String)] = [
        (1023, 1085, "prein"), (1024, 1086, "postin"), (1025, 1087, "preun"), (1026, 1088, "postun"),
        (1151, 1153, "pretrans"), (1152, 1154, "posttrans"),
    ]
}
