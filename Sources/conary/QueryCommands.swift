import ArgumentParser
import ConaryModel
import ConaryOperations
import Foundation

/// Options for commands that can answer in JSON.
struct FormatOptions: ParsableArguments {
    @Flag(help: "Print the answer as JSON.") var json = false

    /// Prints `value` as JSON, or runs `text` for people.
    func emit<T: Encodable>(_ value: T, text: () -> Void) throws {
        guard json else { return text() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    /// A list of troves as a table, a sentence when there are none, or JSON.
    func emit(_ troves: [Trove], whenEmpty: String) throws {
        try emit(troves.map(TroveLine.init)) { troves.isEmpty ? print(whenEmpty) : TroveLine.print(troves) }
    }
}

struct TroveLine: Encodable {
    let name: String
    let version: String
    let kind: String
    let format: String

    init(_ trove: Trove) {
        name = trove.name
        version = trove.version
        kind = trove.kind.rawValue
        format = trove.format.rawValue
    }

    static func print(_ troves: [Trove]) {
        Output.table(["NAME", "VERSION", "KIND", "FORMAT"], troves.map { [$0.name, $0.version, $0.kind.rawValue, $0.format.rawValue] })
    }
}

struct Query: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show installed troves, their files and metadata, or a path's owner.")
    @OptionGroup var options: RootOptions
    @OptionGroup var format: FormatOptions
    @Argument(help: "Installed troves (NAME, NAME=VERSION or NAME:COMPONENT); all when none is named.") var troves: [String] = []
    @Option(help: "Show which installed trove owns this path.") var path: String?
    @Flag(help: "List the troves' files.") var files = false
    @Flag(help: "Show the troves' metadata, components, dependencies and scripts.") var info = false

    func run() throws {
        let root = try options.open()
        if let path {
            let owner = try root.owner(ofPath: path)
            return try format.emit(owner) { print("\(path) is owned by \(owner.trove) (shipped as \(owner.path))") }
        }
        let selected = try troves.isEmpty ? root.installedTroves() : troves.map(root.installedTrove)
        if info {
            let infos = try selected.map(root.info)
            return try format.emit(infos) { infos.forEach(printInfo) }
        }
        if files {
            let list = try selected.flatMap(root.files)
            return try format.emit(list) {
                for file in list { print(file.path + (file.target.map { " -> \($0)" } ?? "") + (file.flags.isEmpty ? "" : "  [\(file.flags.joined(separator: ","))]")) }
            }
        }
        try format.emit(selected.map(TroveLine.init)) { TroveLine.print(selected) }
    }

    private func printInfo(_ info: ConaryRoot.TroveInfo) {
        print("\(info.name)=\(info.version)  (\(info.kind), \(info.format)\(info.arch.map { ", \($0)" } ?? ""))")
        if !info.flavor.isEmpty { print("  flavor      \(info.flavor)") }
        if let summary = info.summary { print("  summary     \(summary)") }
        print("  source      \(info.source)")
        if let sha256 = info.sha256 { print("  sha256      \(sha256)") }
        if let signature = info.signature { print("  signature   \(signature)") }
        if !info.components.isEmpty { print("  components  \(info.components.joined(separator: " "))") }
        if !info.scriptlets.isEmpty { print("  scripts     \(info.scriptlets.joined(separator: " "))") }
        let groups = Dictionary(grouping: info.dependencies) { "\($0.relation)#\($0.alternative)" }.values
            .sorted { ($0[0].relation, $0[0].alternative) < ($1[0].relation, $1[0].alternative) }
        for group in groups {
            let alternatives = group.map { [$0.capability, $0.comparison, $0.version].compactMap { $0 }.joined(separator: " ") }
            print("  \(group[0].relation.padding(toLength: 11, withPad: " ", startingAt: 0)) \(alternatives.joined(separator: " | "))")
        }
    }
}

struct ListComponents: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list-components", abstract: "List a trove's components and which are installed.")
    @OptionGroup var options: RootOptions
    @OptionGroup var format: FormatOptions
    @Argument(help: "A trove in the store: NAME or NAME=VERSION.") var trove: String

    struct Component: Encodable {
        let name: String
        let files: Int
        let installed: Bool
    }

    func run() throws {
        let root = try options.open()
        let package = try root.trove(matching: trove)
        let installed = Set(try root.installedTroves().map(\.spec))
        let components = try root.info(package).components.map { name in
            Component(name: name, files: try root.files(of: root.trove(matching: "\(name)=\(package.version)")).count,
                      installed: installed.contains("\(name)=\(package.version)"))
        }
        try format.emit(components) {
            Output.table(["COMPONENT", "FILES", "INSTALLED"], components.map { [$0.name, String($0.files), $0.installed ? "yes" : "no"] })
        }
    }
}

struct WhatProvides: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whatprovides", abstract: "Find troves in the store that provide a capability or path.")
    @OptionGroup var options: RootOptions
    @OptionGroup var format: FormatOptions
    @Argument(help: "A package name, a provided capability or an absolute path.") var capability: String

    func run() throws {
        let troves = try options.open().whatProvides(capability)
        if troves.isEmpty && !format.json { Output.fail("Nothing in the store provides \(capability).") }
        try format.emit(troves.map(TroveLine.init)) { TroveLine.print(troves) }
    }
}

struct ReverseDependencies: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rdepends", abstract: "List installed troves that require a trove.")
    @OptionGroup var options: RootOptions
    @OptionGroup var format: FormatOptions
    @Argument(help: "An installed trove.") var trove: String

    func run() throws {
        try format.emit(try options.open().reverseDependencies(trove), whenEmpty: "No installed trove requires \(trove).")
    }
}

struct WhatBreaks: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "whatbreaks", abstract: "List installed troves left with an unmet requirement if a trove were removed.")
    @OptionGroup var options: RootOptions
    @OptionGroup var format: FormatOptions
    @Argument(help: "An installed trove.") var trove: String

    func run() throws {
        try format.emit(try options.open().whatBreaks(trove), whenEmpty: "Removing \(trove) breaks nothing installed.")
    }
}
