/// Line and column arithmetic on source text, counted the way libyaml counts.
///
/// libyaml ends a line at `\n`, `\r\n`, `\r`, U+0085, U+2028 and U+2029, counts columns in
/// Unicode scalars, and does not count a byte order mark at the start of the file. Everything
/// here follows the same rules so that a mark computed here and a mark from libyaml agree.
enum SourceLines {
    /// The text of a 1-based line without its line break; empty when the text has fewer lines.
    static func line(_ number: Int, in scalars: String.UnicodeScalarView) -> String {
        var current = 1
        var start = scalars.startIndex
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let scalar = scalars[index]
            let next = scalars.index(after: index)
            guard isBreak(scalar) else {
                index = next
                continue
            }
            if current == number { return text(scalars[start..<index], isFirstLine: number == 1) }
            current += 1
            index = next
            if scalar == "\r", index < scalars.endIndex, scalars[index] == "\n" {
                index = scalars.index(after: index)
            }
            start = index
        }
        guard current == number else { return "" }
        return text(scalars[start..<scalars.endIndex], isFirstLine: number == 1)
    }

    /// The mark of the position that follows `scalars`, the text of a file up to that position.
    static func mark(after scalars: some Sequence<Unicode.Scalar>) -> Mark {
        var line = 1
        var column = 1
        var previousWasCR = false
        var atStart = true
        for scalar in scalars {
            defer { atStart = false }
            if scalar == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = scalar == "\r"
            if isBreak(scalar) {
                line += 1
                column = 1
            } else if !(atStart && scalar == byteOrderMark) {
                column += 1
            }
        }
        return Mark(line: line, column: column)
    }

    /// The character at a mark, or nil when the mark is past the end of its line.
    static func character(at mark: Mark, in scalars: String.UnicodeScalarView) -> Unicode.Scalar? {
        let line = line(mark.line, in: scalars).unicodeScalars
        guard mark.column >= 1, mark.column <= line.count else { return nil }
        return line[line.index(line.startIndex, offsetBy: mark.column - 1)]
    }

    static func isBreak(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\n", "\r", "\u{85}", "\u{2028}", "\u{2029}": return true
        default: return false
        }
    }

    private static let byteOrderMark: Unicode.Scalar = "\u{FEFF}"

    private static func text(
        _ line: String.UnicodeScalarView.SubSequence,
        isFirstLine: Bool
    ) -> String {
        var line = line
        if isFirstLine, line.first == byteOrderMark { line = line.dropFirst() }
        return String(String.UnicodeScalarView(line))
    }
}
