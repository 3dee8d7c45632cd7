/// A position in a YAML file, as a compiler would print it.
///
/// Both numbers start at 1. The column counts characters (Unicode scalars), the way libyaml
/// counts them, so a line that starts with `é` has its second character at column 2 even though
/// `é` takes two bytes in UTF-8.
public struct Mark: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The line, starting at 1.
    public var line: Int
    /// The character on the line, starting at 1.
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// `line:column`, the form used inside error messages.
    public var description: String { "\(line):\(column)" }

    public static func < (lhs: Mark, rhs: Mark) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}
