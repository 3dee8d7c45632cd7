/// Bounds that keep a hostile or broken file from exhausting memory, time or the stack.
public struct YAMLLimits: Sendable {
    /// The deepest nesting of mappings and sequences, counted after aliases are expanded.
    ///
    /// Values above `largestSafeDepth` count as `largestSafeDepth`.
    public var maximumDepth = 200
    /// The most nodes a document may have, counted after aliases are expanded, so that an alias
    /// bomb ("billion laughs") fails as soon as it passes this count.
    public var maximumNodes = 1_000_000
    /// The largest file, in bytes.
    public var maximumBytes = 64 << 20

    /// The deepest nesting any setting allows.
    ///
    /// Code that walks a tree recursively, and Swift freeing it, uses stack in proportion to
    /// its depth; a thread with a small stack (512 KiB) runs out somewhere past 3,000 levels.
    public static let largestSafeDepth = 1_000

    public init() {}
}
