import ChkflowCore

extension Expression: CustomStringConvertible {
    /// The expression written back as text, fully parenthesised where operators nest.
    public var description: String {
        switch self {
        case .literal(let value):
            if case .string(let text) = value {
                return "'" + text.map { $0 == "'" ? "''" : String($0) }.joined() + "'"
            }
            let text = value.serialized()
            // A whole double keeps a point, so that it reads back as a double and not an integer.
            if case .double = value, !text.contains(where: { ".en".contains($0) }) {
                return text + ".0"
            }
            return text
        case .path(let root, let components):
            return root + components.map(Self.describe).joined()
        case .not(let inner):
            return "!" + inner.nested
        case .binary(let op, let left, let right):
            // `a && b && c` reads back as it was parsed, from the left: a chain of the same
            // `&&` or `||` needs no parentheses, which would nest as deep as it is long.
            if case .binary(op, _, _) = left, op == .and || op == .or {
                return "\(left.description) \(op.rawValue) \(right.nested)"
            }
            return "\(left.nested) \(op.rawValue) \(right.nested)"
        case .call(let function, let arguments):
            return function + "(" + arguments.map(\.description).joined(separator: ", ") + ")"
        }
    }

    private var nested: String {
        if case .binary = self { return "(\(description))" }
        return description
    }

    private static func describe(_ component: PathComponent) -> String {
        switch component {
        case .member(let name):
            if NameScalars.isName(name) {
                "." + name
            } else {
                "['" + name.map { $0 == "'" ? "''" : String($0) }.joined() + "']"
            }
        case .index(let position): "[\(position)]"
        case .all: "[*]"
        }
    }
}

extension Template: CustomStringConvertible {
    /// The template written back with `${{ … }}` around each expression.
    public var description: String {
        if let literal { return literal.interpolated }
        return parts.map { part in
            switch part {
            case .text(let text): text
            case .expression(let expression, _): "${{ \(expression) }}"
            }
        }.joined()
    }
}
