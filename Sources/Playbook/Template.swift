import ChkflowCore
import PlaybookYAML

/// A value from a playbook that may hold `${{ … }}` expressions, kept unevaluated until run time.
public struct Template: Sendable, Equatable {
    public enum Part: Sendable, Equatable {
        case text(String)
        /// An expression with the offset of its `${{`, in Unicode scalars from the start of the
        /// text.
        case expression(Expression, offset: Int)
    }

    /// What a template holds.
    ///
    /// Text with expressions is kept as written and split again on each use: the trees of a
    /// large playbook's expressions took several times the file's size, and splitting a
    /// template costs a few microseconds. Parsing at validation (`parse`) makes
    /// sure the text splits without an error.
    private enum Content: Sendable {
        case literal(JSON)
        case source(String)
        case parts([Part])
    }

    private var content: Content

    /// Text and expressions in order; empty when the template is a literal.
    public var parts: [Part] {
        get {
            switch content {
            case .literal: []
            case .source(let text): (try? Self.split(text)) ?? []
            case .parts(let parts): parts
            }
        }
        set { content = .parts(newValue) }
    }

    /// The value when the template holds no expression at all.
    public var literal: JSON? {
        get {
            if case .literal(let value) = content { return value }
            return nil
        }
        set { content = newValue.map(Content.literal) ?? .parts([]) }
    }

    /// Where the template's text starts in its playbook, when it came from one.
    public internal(set) var mark: Mark?
    /// Whether the text sits on one line of the file, so an offset in it is a column offset.
    var isOneLine = false

    /// A template that is a plain value with no expression.
    public init(literal: JSON) {
        content = .literal(literal)
    }

    init(parts: [Part]) {
        content = .parts(parts)
    }

    /// Two templates are equal when they say the same thing, wherever they were written.
    public static func == (lhs: Template, rhs: Template) -> Bool {
        lhs.parts == rhs.parts && lhs.literal == rhs.literal
    }

    /// Every expression with where it starts: its `${{` when the template is one line of the
    /// file, else the template's start.
    var expressionsWithMarks: [(expression: Expression, mark: Mark?)] {
        parts.compactMap { part in
            guard case .expression(let expression, let offset) = part else { return nil }
            guard let mark, isOneLine else { return (expression, mark) }
            return (expression, Mark(line: mark.line, column: mark.column + offset))
        }
    }

    /// Every expression in the template.
    public var expressions: [Expression] {
        parts.compactMap { part in
            if case .expression(let expression, _) = part { return expression }
            return nil
        }
    }

    /// The single expression when the template is exactly one `${{ … }}` and nothing else.
    public var soleExpression: Expression? {
        guard parts.count == 1, case .expression(let expression, _) = parts[0] else { return nil }
        return expression
    }

    /// Splits a scalar into text and expressions.
    ///
    /// - Throws: the syntax error, with its offset counted in Unicode scalars from the start of
    ///   `text`.
    public static func parse(_ text: String) throws(ExpressionSyntaxError) -> Template {
        guard try !split(text).isEmpty else { return Template(literal: .string(text)) }
        return Template(content: .source(text))
    }

    private init(content: Content) {
        self.content = content
    }

    /// The parts of a text, none when it holds no expression.
    private static func split(_ text: String) throws(ExpressionSyntaxError) -> [Part] {
        let scalars = Array(text.unicodeScalars)
        var parts: [Part] = []
        var textStart = 0
        var index = 0
        while index + 2 < scalars.count {
            guard scalars[index] == "$", scalars[index + 1] == "{", scalars[index + 2] == "{"
            else {
                index += 1
                continue
            }
            guard let close = closingBraces(in: scalars, from: index + 3) else {
                throw ExpressionSyntaxError(offset: index, message: "'${{' without a closing '}}'")
            }
            if textStart < index { parts.append(.text(string(scalars[textStart..<index]))) }
            do {
                let body = Array(scalars[(index + 3)..<close])
                parts.append(.expression(try Expression.parse(scalars: body), offset: index))
            } catch {
                throw ExpressionSyntaxError(
                    offset: index + 3 + error.offset,
                    message: error.message
                )
            }
            index = close + 2
            textStart = index
        }
        guard !parts.isEmpty else { return [] }
        if textStart < scalars.count { parts.append(.text(string(scalars[textStart...]))) }
        return trimmed(parts)
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    private static func closingBraces(in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        var index = start
        var inString = false
        while index + 1 < scalars.count {
            if scalars[index] == "'" { inString.toggle() }
            if !inString, scalars[index] == "}", scalars[index + 1] == "}" { return index }
            index += 1
        }
        return nil
    }

    /// Drops whitespace-only text around a sole expression, so `" ${{ x }} "` stays typed.
    private static func trimmed(_ parts: [Part]) -> [Part] {
        let expressions = parts.filter { if case .expression = $0 { true } else { false } }
        guard expressions.count == 1 else { return parts }
        let onlySpaces = parts.allSatisfy { part in
            if case .text(let text) = part { return text.allSatisfy(\.isWhitespace) }
            return true
        }
        return onlySpaces ? expressions : parts
    }
}
