extension StringProtocol {
    /// The text without the characters at either end for which `drop` is true.
    public func trimming(while drop: (Character) -> Bool) -> String {
        guard let first = firstIndex(where: { !drop($0) }) else { return "" }
        guard let last = lastIndex(where: { !drop($0) }) else { return "" }
        return String(self[first...last])
    }

    /// Without white space or line breaks at either end.
    public var trimmingWhitespace: String { trimming(while: \.isWhitespace) }

    /// Without line breaks at either end (`\n`, `\r`, `\r\n` and the other Unicode ones).
    public var trimmingNewlines: String { trimming(while: \.isNewline) }
}
