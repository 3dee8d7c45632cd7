import ChkflowCore

/// The fields and rules of export-management (API 2.0.1), checked before any call.
public enum ExportRules {
    public enum FieldType: Sendable {
        case string, boolean, positiveInteger, version
    }

    /// Every request field of export-management, with its type.
    public static let fields: [(name: String, type: FieldType)] = [
        ("file-path", .string), ("domain-name", .string), ("version", .version),
        ("include-logs", .boolean), ("include-logs-indexes", .boolean),
        ("days-of-logs", .positiveInteger), ("include-endpoint-configuration", .boolean),
        ("include-endpoint-database", .boolean), ("is-domain-backup", .boolean),
        ("is-smc-to-mds", .boolean), ("pre-export-verification-only", .boolean),
        ("verify-all-servers", .boolean), ("ignore-warnings", .boolean),
    ]

    static let typeByName = Dictionary(uniqueKeysWithValues: fields.map { ($0.name, $0.type) })

    /// What is wrong with one field's value, or nil when it fits its type.
    public static func problem(field: String, value: JSON) -> String? {
        guard let type = typeByName[field] else { return nil }
        switch type {
        case .string:
            guard case .string(let text) = value, !text.isEmpty else {
                return "'\(field)' must be a non-empty string, not \(value.describedForError)"
            }
        case .boolean:
            guard case .bool = value else {
                return "'\(field)' must be true or false, not \(value.describedForError)"
            }
        case .positiveInteger:
            guard let number = value.exactInteger, number > 0 else {
                return
                    "'\(field)' must be a positive whole number of days, not \(value.describedForError)"
            }
        case .version:
            guard case .string(let text) = value, isTargetVersion(text) else {
                return
                    "'version' must be a target version such as R81.20 or R82, not \(value.describedForError)"
            }
        }
        return nil
    }

    /// Whether text reads like `R81.20` or `R82`.
    public static func isTargetVersion(_ text: String) -> Bool {
        let characters = Array(text)
        guard characters.first == "R", characters.count >= 3 else { return false }
        let rest = String(characters.dropFirst())
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false)
        return (1...2).contains(parts.count)
            && parts.allSatisfy {
                !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber)
            }
    }

    /// The rules that tie fields together; `known` holds the fields whose value is known now.
    public static func ruleProblems(
        known: [String: JSON],
        present: Set<String>,
        verifying: Bool
    )
        -> [String]
    {
        var problems: [String] = []
        if !verifying, !present.contains("file-path") {
            problems.append(
                "an export needs 'file-path' (only a pre-export verification may leave it out)"
            )
        }
        if known["is-domain-backup"] == .bool(true), !present.contains("domain-name") {
            problems.append("'is-domain-backup' needs 'domain-name' (the domain to back up)")
        }
        if known["is-domain-backup"] == .bool(true), known["is-smc-to-mds"] == .bool(true) {
            problems.append("'is-domain-backup' and 'is-smc-to-mds' cannot both be true")
        }
        return problems
    }

    /// Every problem of a complete, evaluated request body.
    public static func problems(body: [String: JSON], verifying: Bool) -> [String] {
        var problems = body.keys.sorted().compactMap { key in
            typeByName[key] == nil ? "export-management has no field '\(key)'" : nil
        }
        problems += body.keys.sorted().compactMap {
            problem(field: $0, value: body[$0, default: .null])
        }
        problems += ruleProblems(known: body, present: Set(body.keys), verifying: verifying)
        return problems
    }
}

extension JSON {
    /// The value as written in an error message.
    var describedForError: String {
        switch self {
        case .string(let text): "'\(text)'"
        case .null: "null"
        default: serialized()
        }
    }

    /// Whether the value is true or false.
    var isBoolean: Bool {
        if case .bool = self { return true }
        return false
    }

    /// A whole number given as a number (not a string).
    var exactInteger: Int64? {
        switch self {
        case .int(let number): number
        case .double(let number) where number.rounded() == number: Int64(exactly: number)
        default: nil
        }
    }
}
