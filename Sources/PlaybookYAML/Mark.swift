/// A position in a YAML file, as a compiler would print it.
///
/// Both numbers start at 1. The column counts characters (Unicode scalars), the way libyaml
/// counts them, so a line that starts with `é` has its second character at column 2 even though
/// `é` takes two bytes in UTF-8.
public struct Mark: Sendable, Hashable, Comparable, CustomStringConvertible {
    // Stored in 32 bits each: every node carries a mark, and halving it keeps large trees
    // smaller and faster to build. Values beyond the 32-bit range are clamped.
    private var storedLine: Int32
    private var storedColumn: Int32

    /// The line, starting at 1.
    public var line: Int {
        get { Int(storedLine) }
        set { storedLine = Int32(clamping: newValue) }
    }

    /// The character on the line, starting at 1.
    public var column: Int {
        get { Int(storedColumn) }
        set { storedColumn = Int32(clamping: newValue) }
    }

    public init(line: Int, column: Int) {
        storedLine = Int32(clamping: line)
        storedColumn = Int32(clamping: column)
    }

    /// `line:column`, the form used inside error messages.
    public var description: String { "\(line):\(column)" }

    public static func < (lhs: Mark, rhs: Mark) -> Bool {
        (lhs.storedLine, lhs.storedColumn) < (rhs.storedLine, rhs.storedColumn)
    }
}
