import ConaryStore
import ConarySupport
import ConaryModel
import Foundation

/// Capabilities read from a package's files rather than its metadata, in the typed form the
/// resolver matches: soname(libz.so.1)(64bit) from ELF dynamic sections (provided by a
/// library's DT_SONAME, required by every DT_NEEDED) and pkgconfig(zlib) from .pc files.
enum ContentProvides {
    /// Numbered from Dependency.firstDerivedAlternative, past any group a package declares.
    static func derive(_ files: [FileEntry], store: ObjectStore) -> [Dependency] {
        var provides: [String] = []
        var requires: [String] = []
        for file in files where file.kind == .regular {
            let name = (file.path as NSString).lastPathComponent
            if file.path.contains("/pkgconfig/") && name.hasSuffix(".pc") {
                provides.append("pkgconfig(\(name.dropLast(3)))")
            }
            guard let objectID = file.objectID, file.size >= 64, let object = try? store.openObject(objectID),
                  let dynamic = ELFDynamic(fd: object.fd, size: file.size) else { continue }
            if let soname = dynamic.soname { provides.append("soname(\(soname))\(dynamic.bits)") }
            requires += dynamic.needed.map { "soname(\($0))\(dynamic.bits)" }
        }
        let offered = Set(provides)
        var result: [Dependency] = []
        for capability in Set(provides).sorted() {
            result.append(Dependency(relation: .provides, capability: capability, alternative: Dependency.firstDerivedAlternative + result.count))
        }
        for capability in Set(requires).subtracting(offered).sorted() {
            result.append(Dependency(relation: .requires, capability: capability, alternative: Dependency.firstDerivedAlternative + result.count))
        }
        return result
    }
}

/// DT_SONAME and DT_NEEDED of an ELF file, read through its section headers with every
/// offset checked; nil for anything that is not a well-formed dynamic ELF object.
struct ELFDynamic {
    var soname: String?
    var needed: [String] = []
    /// "(64bit)" for 64-bit objects, "" for 32-bit ones (rpm's convention).
    var bits: String

    init?(fd: Int32, size: Int64) {
        func read(_ offset: Int64, _ count: Int) -> [UInt8]? {
            guard offset >= 0, count >= 0, count <= 1 << 24, offset + Int64(count) <= size else { return nil }
            var bytes = [UInt8](repeating: 0, count: count)
            let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
            return got == count ? bytes : nil
        }
        guard let ident = read(0, 64), ident.starts(with: [0x7F, 0x45, 0x4C, 0x46]), ident[5] == 1 else { return nil }  // little-endian
        let is64 = ident[4] == 2
        func integer(_ bytes: [UInt8], _ at: Int, _ width: Int) -> Int64 {
            guard at >= 0, at + width <= bytes.count else { return -1 }
            var value: UInt64 = 0
            for index in (0..<width).reversed() { value = value << 8 | UInt64(bytes[at + index]) }
            return Int64(truncatingIfNeeded: value)
        }
        let word = is64 ? 8 : 4
        let sectionOffset = integer(ident, is64 ? 0x28 : 0x20, word)
        let entrySize = Int(integer(ident, is64 ? 0x3A : 0x2E, 2))
        let count = Int(integer(ident, is64 ? 0x3C : 0x30, 2))
        guard entrySize >= (is64 ? 64 : 40), count > 0, count < 4096,
              let table = read(sectionOffset, entrySize * count) else { return nil }
        func section(_ index: Int) -> (type: Int64, offset: Int64, size: Int64, link: Int)? {
            guard index >= 0, index < count else { return nil }
            let base = index * entrySize
            return (integer(table, base + 4, 4), integer(table, base + (is64 ? 0x18 : 0x10), word),
                    integer(table, base + (is64 ? 0x20 : 0x14), word), Int(integer(table, base + (is64 ? 0x28 : 0x18), 4)))
        }
        guard let dynamicSection = (0..<count).lazy.compactMap(section).first(where: { $0.type == 6 }),  // SHT_DYNAMIC
              let strings = section(dynamicSection.link), strings.size <= 1 << 24,
              let stringTable = read(strings.offset, Int(strings.size)),
              let entries = read(dynamicSection.offset, Int(dynamicSection.size)) else { return nil }
        bits = is64 ? "(64bit)" : ""
        func string(_ offset: Int64) -> String? {
            guard offset >= 0, offset < stringTable.count, let end = stringTable[Int(offset)...].firstIndex(of: 0) else { return nil }
            return String(decoding: stringTable[Int(offset)..<end], as: UTF8.self)
        }
        var cursor = 0
        while cursor + 2 * word <= entries.count {
            let tag = integer(entries, cursor, word), value = integer(entries, cursor + word, word)
            if tag == 0 { break }  // DT_NULL
            if tag == 1, let name = string(value) { needed.append(name) }  // DT_NEEDED
            if tag == 14 { soname = string(value) }  // DT_SONAME
            cursor += 2 * word
        }
    }
}
