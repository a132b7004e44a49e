/// The store's troves as the resolver needs them: every trove, which component belongs to
/// which package, and every trove's relations.
public struct TroveCatalog: Sendable {
    public let troves: [Trove]
    public let memberships: [(package: Int64, component: Int64)]
    public let relations: [Int64: [Dependency]]

    public init(troves: [Trove], memberships: [(package: Int64, component: Int64)], relations: [Int64: [Dependency]]) {
        self.troves = troves
        self.memberships = memberships
        self.relations = relations
    }
}
