import ChkflowCore

/// A value produced by evaluating a template, marked secret when any secret went into it.
public struct Value: Sendable, Equatable {
    public var json: JSON
    public var isSecret: Bool

    public init(_ json: JSON, isSecret: Bool = false) {
        self.json = json
        self.isSecret = isSecret
    }
}

/// Why an expression could not be evaluated at run time.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// What expressions can see while a step runs.
public struct EvaluationScope: Sendable {
    /// Values under each root name, such as `inputs`, `env` and `steps`.
    public var roots: [String: JSON]
    /// Roots whose values are secret (always `secrets`).
    public var secretRoots: Set<String> = ["secrets"]
    /// The answers of `success()`, `failure()`, `always()` and `cancelled()` for this step.
    public var statusFunctions: [String: Bool]

    public init(roots: [String: JSON], statusFunctions: [String: Bool] = [:]) {
        self.roots = roots
        self.statusFunctions = statusFunctions
    }
}

extension Template {
    /// The value of the template in a scope: a sole expression keeps its JSON type, anything else
    /// becomes a string.
    public func evaluate(in scope: EvaluationScope) throws(EvaluationError) -> Value {
        if let literal { return Value(literal) }
        let parts = parts
        if parts.count == 1, case .expression(let sole, _) = parts[0] {
            return try sole.evaluate(in: scope)
        }
        var text = ""
        var isSecret = false
        for part in parts {
            switch part {
            case .text(let piece): text += piece
            case .expression(let expression, _):
                let value = try expression.evaluate(in: scope)
                text += value.json.interpolated
                isSecret = isSecret || value.isSecret
            }
        }
        return Value(.string(text), isSecret: isSecret)
    }
}

extension JSON {
    /// The text of a value inside a string: strings bare, everything else as JSON.
    public var interpolated: String {
        switch self {
        case .string(let text): text
        case .null: ""
        default: serialized()
        }
    }

    /// Truthiness as expressions see it: false, null, 0, "" and empty collections are false.
    public var isTruthy: Bool {
        switch self {
        case .null: false
        case .bool(let flag): flag
        case .int(let number): number != 0
        case .double(let number): number != 0
        case .string(let text): !text.isEmpty
        case .array(let items): !items.isEmpty
        case .object: true
        }
    }
}

extension Expression {
    /// Evaluates the expression; secret taint flows through every operator and function.
    public func evaluate(in scope: EvaluationScope) throws(EvaluationError) -> Value {
        switch self {
        case .literal(let json):
            return Value(json)
        case .path(let root, let components):
            return try Self.resolve(root: root, components: components, in: scope)
        case .not(let inner):
            let value = try inner.evaluate(in: scope)
            return Value(.bool(!value.json.isTruthy), isSecret: value.isSecret)
        case .binary(let op, let left, let right):
            return try Self.apply(op, left, right, in: scope)
        case .call(let function, let arguments):
            return try Self.call(function, arguments, in: scope)
        }
    }

    private static func resolve(
        root: String,
        components: [PathComponent],
        in scope: EvaluationScope
    ) throws(EvaluationError) -> Value {
        guard let base = scope.roots[root] else { throw EvaluationError("unknown name '\(root)'") }
        var current: [JSON] = [base]
        var spread = false
        for component in components {
            switch component {
            case .member(let name): current = current.map { $0[name] ?? .null }
            case .index(let position): current = current.map { $0[position] ?? .null }
            case .all:
                spread = true
                current = current.flatMap { $0.arrayValue ?? [] }
            }
        }
        let json = spread ? JSON.array(current) : current.first ?? .null
        return Value(json, isSecret: scope.secretRoots.contains(root))
    }

    private static func apply(
        _ op: BinaryOperator,
        _ left: Expression,
        _ right: Expression,
        in scope: EvaluationScope
    ) throws(EvaluationError) -> Value {
        let lhs = try left.evaluate(in: scope)
        // && and || return an operand, as in GitHub Actions, and short-circuit.
        if op == .and, !lhs.json.isTruthy { return lhs }
        if op == .or, lhs.json.isTruthy { return lhs }
        let rhs = try right.evaluate(in: scope)
        let secret = lhs.isSecret || rhs.isSecret
        switch op {
        case .and, .or: return Value(rhs.json, isSecret: secret)
        case .equal: return Value(.bool(equal(lhs.json, rhs.json)), isSecret: secret)
        case .notEqual: return Value(.bool(!equal(lhs.json, rhs.json)), isSecret: secret)
        default:
            let order = try compare(lhs.json, rhs.json, op)
            return Value(.bool(order), isSecret: secret)
        }
    }

    /// Equality as `==` sees it: numbers by value (a numeric string too), strings without case.
    static func equal(_ left: JSON, _ right: JSON) -> Bool {
        if let a = left.doubleValue, let b = right.doubleValue, left.isNumber || right.isNumber {
            return a == b
        }
        if case .string(let a) = left, case .string(let b) = right {
            return a.lowercased() == b.lowercased()
        }
        return left == right
    }

    private static func compare(
        _ left: JSON,
        _ right: JSON,
        _ op: BinaryOperator
    ) throws(EvaluationError) -> Bool {
        let result: Bool
        if let a = left.doubleValue, let b = right.doubleValue {
            result =
                op == .less ? a < b : op == .lessOrEqual ? a <= b : op == .greater ? a > b : a >= b
        } else if case .string(let a) = left, case .string(let b) = right {
            result =
                op == .less ? a < b : op == .lessOrEqual ? a <= b : op == .greater ? a > b : a >= b
        } else {
            throw EvaluationError(
                "cannot compare \(left.typeName) with \(right.typeName) using '\(op.rawValue)'"
            )
        }
        return result
    }
}

extension JSON {
    var isNumber: Bool {
        switch self {
        case .int, .double: true
        default: false
        }
    }
}
