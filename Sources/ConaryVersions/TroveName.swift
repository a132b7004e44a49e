/// The rules every trove name and version obeys, whichever reader, command or spec they come
/// from: a spec ("name:component=version[flavor]") must split back into what was stored.
public enum TroveName {
    /// Characters that separate the parts of a spec, and blanks, which no package format allows.
    private static func isReserved(_ character: Character) -> Bool {
        "=/:[]".contains(character) || character.isWhitespace || character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }
    }

    /// A package name: not empty, none of = / : [ ] and no blanks or control characters.
    public static func check(_ name: String) throws {
        guard !name.isEmpty else { throw VersionError.invalidName(name, reason: "it is empty") }
        if let bad = name.first(where: isReserved) {
            throw VersionError.invalidName(name, reason: "it contains \(bad.debugDescription)")
        }
    }

    /// A version: not empty, none of = [ ] and no blanks or control characters, and a
    /// well-formed Conary version if it starts with "/".
    public static func check(version: String) throws {
        guard !version.isEmpty else { throw VersionError.invalidVersion(version, reason: "it is empty") }
        if let bad = version.first(where: { "=[]".contains($0) || (isReserved($0) && !"/:".contains($0)) }) {
            throw VersionError.invalidVersion(version, reason: "it contains \(bad.debugDescription)")
        }
        try NativeVersion.check(version)
    }

    /// Both rules, as every reader applies them to what it is about to store.
    public static func check(name: String, version: String) throws {
        try check(name)
        try check(version: version)
    }
}
