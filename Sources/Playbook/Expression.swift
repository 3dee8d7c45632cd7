import ChkflowCore

/// A parsed `${{ … }}` expression.
public indirect enum Expression: Sendable, Equatable {
    case literal(JSON)
    /// A path such as `steps.export.task-id` or `steps.domains.response.objects[*].name`.
    case path(root: String, components: [PathComponent])
    case not(Expression)
    case binary(BinaryOperator, Expression, Expression)
    case call(function: String, arguments: [Expression])

    public enum PathComponent: Sendable, Equatable {
        case member(String)
        case index(Int)
        case all
    }

    public enum BinaryOperator: String, Sendable {
        case and = "&&"
        case or = "||"
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
    }

    /// Every path the expression reads, for validation and for the graph.
    public var paths: [(root: String, components: [PathComponent])] {
        switch self {
        case .literal: return []
        case .path(let root, let components): return [(root, components)]
        case .not(let inner): return inner.paths
        case .binary(_, let left, let right): return left.paths + right.paths
        case .call(_, let arguments): return arguments.flatMap(\.paths)
        }
    }

    /// Every function the expression calls, by name.
    public var functionNames: [String] {
        switch self {
        case .literal, .path: return []
        case .not(let inner): return inner.functionNames
        case .binary(_, let left, let right): return left.functionNames + right.functionNames
        case .call(let name, let arguments): return [name] + arguments.flatMap(\.functionNames)
        }
    }
}

/// Why an expression could not be parsed; `offset` counts Unicode scalars from its start, as
/// columns in a playbook are counted.
public struct ExpressionSyntaxError: Error, Sendable, Equatable {
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }
}

/// The functions expressions may call, with their accepted argument counts.
public enum ExpressionFunctions {
    public static let arities: [String: ClosedRange<Int>] = [
        "success": 0...0, "failure": 0...0, "always": 0...0, "cancelled": 0...0,
        "contains": 2...2, "startsWith": 2...2, "endsWith": 2...2, "format": 1...20,
        "join": 1...2, "length": 1...1, "toJSON": 1...1, "fromJSON": 1...1,
    ]

    /// The functions that read the status of earlier steps.
    public static let statusFunctions: Set<String> = ["success", "failure", "always", "cancelled"]
}

extension Expression {
    /// Parses the text between `${{` and `}}`.
    public static func parse(_ text: String) throws(ExpressionSyntaxError) -> Expression {
        try parse(scalars: Array(text.unicodeScalars))
    }

    static func parse(scalars: [Unicode.Scalar]) throws(ExpressionSyntaxError) -> Expression {
        var parser = ExpressionParser(scalars: scalars)
        let expression = try parser.parseOr(depth: 0)
        parser.skipSpaces()
        guard parser.index == parser.scalars.count else {
            throw parser.fail("unexpected '\(parser.scalars[parser.index])'")
        }
        return expression
    }
}

/// Which scalars names are made of: a name starts with a letter or `_` and goes on with letters,
/// digits, `_` and `-` (so `task-id` is one name).
enum NameScalars {
    static func isStart(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            return ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || scalar == "_"
        }
        return scalar.properties.isAlphabetic
    }

    static func isPart(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return isStart(scalar) || isDigit(scalar) || scalar == "-" }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    /// Whether the whole text can be written as a name after a `.`.
    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy(isPart)
    }
}

private struct ExpressionParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    static let maximumDepth = 64

    init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    func fail(_ message: String) -> ExpressionSyntaxError {
        ExpressionSyntaxError(offset: index, message: message)
    }

    var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    mutating func skipSpaces() {
        while let character = current,
            character == " " || character == "\t" || character == "\n" || character == "\r"
        {
            index += 1
        }
    }

    mutating func consume(_ text: String) -> Bool {
        skipSpaces()
        var probe = index
        for scalar in text.unicodeScalars {
            guard probe < scalars.count, scalars[probe] == scalar else { return false }
            probe += 1
        }
        index = probe
        return true
    }

    mutating func parseOr(depth: Int) throws(ExpressionSyntaxError) -> Expression {
        guard depth < Self.maximumDepth else { throw fail("expression nested too deeply") }
        var left = try parseAnd(depth: depth)
        while consume("||") { left = .binary(.or, left, try parseAnd(depth: depth)) }
        return left
    }

    mutating func parseAnd(depth: Int) throws(ExpressionSyntaxError) -> Expression {
        var left = try parseComparison(depth: depth)
        while consume("&&") { left = .binary(.and, left, try parseComparison(depth: depth)) }
        return left
    }

    mutating func parseComparison(depth: Int) throws(ExpressionSyntaxError) -> Expression {
        let left = try parseUnary(depth: depth)
        for op in [
            Expression.BinaryOperator.equal, .notEqual, .lessOrEqual, .greaterOrEqual, .less,
            .greater,
        ] where consume(op.rawValue) {
            return .binary(op, left, try parseUnary(depth: depth))
        }
        return left
    }

    mutating func parseUnary(depth: Int) throws(ExpressionSyntaxError) -> Expression {
        skipSpaces()
        if current == "!", index + 1 >= scalars.count || scalars[index + 1] != "=" {
            index += 1
            guard depth + 1 < Self.maximumDepth else { throw fail("expression nested too deeply") }
            return .not(try parseUnary(depth: depth + 1))
        }
        return try parsePrimary(depth: depth)
    }

    mutating func parsePrimary(depth: Int) throws(ExpressionSyntaxError) -> Expression {
        skipSpaces()
        guard let character = current else { throw fail("expected a value") }
        if character == "(" {
            index += 1
            let inner = try parseOr(depth: depth + 1)
            guard consume(")") else { throw fail("expected ')'") }
            return inner
        }
        if character == "'" { return .literal(.string(try parseString())) }
        if NameScalars.isDigit(character) || character == "-" {
            return .literal(try parseNumber())
        }
        if NameScalars.isStart(character) { return try parseNameOrPath(depth: depth) }
        throw fail("unexpected '\(character)'")
    }

    mutating func parseString() throws(ExpressionSyntaxError) -> String {
        index += 1
        var text = String.UnicodeScalarView()
        while let character = current {
            index += 1
            if character == "'" {
                // Two quotes in a row stand for one, as in GitHub Actions expressions.
                if current == "'" {
                    text.append("'")
                    index += 1
                    continue
                }
                return String(text)
            }
            text.append(character)
        }
        throw fail("unterminated string")
    }

    mutating func parseNumber() throws(ExpressionSyntaxError) -> JSON {
        let start = index
        if current == "-" { index += 1 }
        skipDigits(allowingPoint: true)
        // An exponent, as in 1e3 or 2.5E-4, the form numbers are printed in when they are large.
        if current == "e" || current == "E" {
            index += 1
            if current == "-" || current == "+" { index += 1 }
            skipDigits(allowingPoint: false)
        }
        let text = Self.string(scalars[start..<index])
        if let whole = Int64(text) { return .int(whole) }
        if let number = Double(text), number.isFinite { return .double(number) }
        index = start
        throw fail("invalid number '\(text)'")
    }

    private mutating func skipDigits(allowingPoint: Bool) {
        while let character = current,
            NameScalars.isDigit(character) || (allowingPoint && character == ".")
        {
            index += 1
        }
    }

    mutating func parseIdentifier() -> String {
        let start = index
        while let character = current, NameScalars.isPart(character) { index += 1 }
        return Self.string(scalars[start..<index])
    }

    static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    mutating func parseNameOrPath(depth: Int) throws(ExpressionSyntaxError) -> Expression {
        let name = parseIdentifier()
        switch name {
        case "true": return .literal(true)
        case "false": return .literal(false)
        case "null": return .literal(nil)
        default: break
        }
        if current == "(" {
            index += 1
            return .call(function: name, arguments: try parseArguments(depth: depth))
        }
        return .path(root: name, components: try parsePathComponents())
    }

    mutating func parseArguments(depth: Int) throws(ExpressionSyntaxError) -> [Expression] {
        var arguments: [Expression] = []
        if consume(")") { return arguments }
        repeat {
            arguments.append(try parseOr(depth: depth + 1))
        } while consume(",")
        guard consume(")") else { throw fail("expected ',' or ')'") }
        return arguments
    }

    mutating func parsePathComponents() throws(ExpressionSyntaxError) -> [Expression.PathComponent]
    {
        var components: [Expression.PathComponent] = []
        while let character = current {
            if character == "." {
                index += 1
                let name = parseIdentifier()
                guard !name.isEmpty else { throw fail("expected a name after '.'") }
                components.append(.member(name))
            } else if character == "[" {
                index += 1
                components.append(try parseBracket())
            } else {
                break
            }
        }
        return components
    }

    mutating func parseBracket() throws(ExpressionSyntaxError) -> Expression.PathComponent {
        skipSpaces()
        let component: Expression.PathComponent
        if current == "*" {
            index += 1
            component = .all
        } else if current == "'" {
            component = .member(try parseString())
        } else {
            let start = index
            while let character = current, NameScalars.isDigit(character) { index += 1 }
            guard let number = Int(Self.string(scalars[start..<index])) else {
                throw fail("expected an index, '*' or a quoted name")
            }
            component = .index(number)
        }
        guard consume("]") else { throw fail("expected ']'") }
        return component
    }
}
