import ChkflowCore

extension Expression {
    static func call(
        _ function: String,
        _ arguments: [Expression],
        in scope: EvaluationScope
    ) throws(EvaluationError) -> Value {
        if ExpressionFunctions.statusFunctions.contains(function) {
            return Value(.bool(scope.statusFunctions[function] ?? (function == "always")))
        }
        var values: [Value] = []
        for argument in arguments { values.append(try argument.evaluate(in: scope)) }
        let secret = values.contains(where: \.isSecret)
        let json = try apply(function, values.map(\.json))
        return Value(json, isSecret: secret)
    }

    private static func apply(_ function: String, _ args: [JSON]) throws(EvaluationError) -> JSON {
        switch function {
        case "contains":
            if let items = args[0].arrayValue {
                return .bool(items.contains { equal($0, args[1]) })
            }
            return .bool(
                args[0].interpolated.lowercased().contains(args[1].interpolated.lowercased())
            )
        case "startsWith":
            return .bool(
                args[0].interpolated.lowercased().hasPrefix(args[1].interpolated.lowercased())
            )
        case "endsWith":
            return .bool(
                args[0].interpolated.lowercased().hasSuffix(args[1].interpolated.lowercased())
            )
        case "format":
            return .string(try format(args[0].interpolated, Array(args.dropFirst())))
        case "join":
            let separator = args.count > 1 ? args[1].interpolated : ","
            let items = args[0].arrayValue ?? [args[0]]
            return .string(items.map(\.interpolated).joined(separator: separator))
        case "length":
            switch args[0] {
            case .array(let items): return .int(Int64(items.count))
            case .object(let members): return .int(Int64(members.count))
            case .string(let text): return .int(Int64(text.count))
            default:
                throw EvaluationError(
                    "length() needs a string, an array or an object, not \(args[0].typeName)"
                )
            }
        case "toJSON":
            return .string(args[0].serialized())
        case "fromJSON":
            do {
                return try JSON.parse(args[0].interpolated)
            } catch {
                throw EvaluationError("fromJSON(): \(error.description)")
            }
        default:
            throw EvaluationError("unknown function '\(function)'")
        }
    }

    /// `format('{0} of {1}', a, b)`; `{{` and `}}` stand for literal braces.
    private static func format(_ pattern: String, _ args: [JSON]) throws(EvaluationError) -> String
    {
        var output = ""
        var characters = pattern[...]
        while let character = characters.popFirst() {
            if character == "{", characters.first == "{" {
                characters.removeFirst()
                output.append("{")
            } else if character == "}", characters.first == "}" {
                characters.removeFirst()
                output.append("}")
            } else if character == "{" {
                let digits = characters.prefix { $0.isNumber }
                characters.removeFirst(digits.count)
                guard let position = Int(digits), characters.popFirst() == "}" else {
                    throw EvaluationError("format(): invalid placeholder in '\(pattern)'")
                }
                guard args.indices.contains(position) else {
                    throw EvaluationError("format(): no argument for {\(position)}")
                }
                output += args[position].interpolated
            } else {
                output.append(character)
            }
        }
        return output
    }
}
