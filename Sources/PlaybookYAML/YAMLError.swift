/// A YAML file that chkflow cannot load, with the position of the problem.
///
/// Every error has a position, even those about the whole file (they point at 1:1), so the
/// command line can print them all the same way.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the file as given, or the name the caller chose for in-memory text.
    public var file: String
    public var mark: Mark
    /// A lower-case sentence without a trailing period.
    public var message: String

    public init(file: String, mark: Mark, message: String) {
        self.file = file
        self.mark = mark
        self.message = message
    }

    /// The compiler-style form: `file:line:column: error: message`.
    public var description: String { "\(file):\(mark.line):\(mark.column): error: \(message)" }

    /// The description, then the offending line of `source`, then a caret under the column.
    ///
    /// The caret is indented by one space per character before the column, so it lands right
    /// under lines with non-ASCII text. Tabs and wide characters are not expanded.
    public func rendered(source: String) -> String {
        let line = SourceLines.line(mark.line, in: source.unicodeScalars)
        let caret = String(repeating: " ", count: max(mark.column - 1, 0)) + "^"
        return description + "\n" + line + "\n" + caret
    }
}
