import ChkflowCore
import PlaybookYAML

/// The parts of a playbook that were written but could not be decoded.
///
/// The planner still runs on the rest, so every problem of a file is reported at once; these
/// keep it from calling a reference unknown when only its target was broken.
struct DecodingGaps {
    /// Sections lost as a whole: `inputs`, `secrets`, `servers` or `steps`.
    var wholeSections: Set<String> = []
    var inputs: Set<String> = []
    var secrets: Set<String> = []
    var servers: Set<String> = []
    var steps: Set<String> = []
    /// A step was lost before its id was known.
    var unknownStep = false
    /// A step that may have been a login was lost.
    var lostLogin = false

    func lost(_ section: String, _ name: String) -> Bool {
        if wholeSections.contains(section) { return true }
        switch section {
        case "inputs": return inputs.contains(name)
        case "secrets": return secrets.contains(name)
        case "servers": return servers.contains(name)
        default: return unknownStep || steps.contains(name)
        }
    }
}

/// Turns a YAML node tree into a typed playbook, collecting every problem instead of stopping at
/// the first.
struct PlaybookDecoder {
    let file: String
    var diagnostics: [Diagnostic] = []
    /// Every step id seen so far, at any depth: ids are unique in the whole playbook.
    var stepIDs: [String: Mark] = [:]
    /// The item names of the for-each steps around the steps being decoded.
    var loopVariables: [String] = []
    /// What could not be decoded, so that checks across the playbook stay quiet about it.
    var gaps = DecodingGaps()
    /// Top-level steps decoded while the file was read (`decodeStreamedStep`).
    var streamedSteps: [Step] = []
    /// Entries of the top-level `steps` seen while the file was read, decodable or not.
    var streamedCount = 0
    /// The first template texts met, so that the steps that repeat one share its storage.
    ///
    /// Bounded: repeated texts (`${{ inputs.target-version }}` in every export) show up early,
    /// and a table of every text would cost more than it saves.
    private var sharedTexts: Set<String> = []
    private static let sharedTextLimit = 256
    /// The first matcher lists and actions of `on-error` rules, shared in the same way.
    var sharedMatchers: [[ErrorMatcher]] = []
    var sharedActions: [ErrorRule.Action] = []
    /// The steps with an `attempt-timeout` and no `timeout` of their own, to check against the
    /// `timeout` of `defaults` once it is read.
    var inheritingAttemptTimeouts: [(stepID: String, seconds: Double, text: String, mark: Mark)] =
        []

    init(file: String) { self.file = file }

    mutating func report(_ node: Node, _ message: String) {
        diagnostics.append(Diagnostic(file: file, mark: node.mark, message: message))
    }

    mutating func report(at mark: Mark, _ message: String) {
        diagnostics.append(Diagnostic(file: file, mark: mark, message: message))
    }

    // MARK: - Shapes

    /// The members of a mapping by key; unknown keys are reported with a suggestion.
    mutating func mapping(_ node: Node, allowed: [String], in context: String) -> [String: Node]? {
        guard let pairs = node.pairs else {
            report(node, "\(context) must be a mapping, not \(describe(node))")
            return nil
        }
        var members: [String: Node] = [:]
        for pair in pairs {
            guard let key = pair.key.text else {
                report(pair.key, "keys in \(context) must be plain names")
                continue
            }
            guard allowed.contains(key) else {
                var message = "unknown key '\(key)' in \(context)"
                if let close = suggestion(for: key, among: allowed) {
                    message += "; did you mean '\(close)'?"
                }
                report(pair.key, message)
                continue
            }
            members[key] = pair.value
        }
        return members
    }

    func describe(_ node: Node) -> String {
        switch node.content {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar):
            if node.isNull { return "nothing" }
            guard scalar.style == .plain else { return "the string '\(scalar.text)'" }
            switch json(of: node) {
            case .int?, .double?, .bool?: return scalar.text
            default: return "'\(scalar.text)'"
            }
        }
    }

    /// A scalar's JSON value: plain scalars are typed as YAML 1.2 core does, quoted ones are
    /// strings.
    func json(of node: Node) -> JSON? { node.scalarValue }

    mutating func string(_ node: Node, _ what: String) -> String? {
        guard let scalar = node.scalar, !node.isNull else {
            report(node, "\(what) must be a string, not \(describe(node))")
            return nil
        }
        return scalar.text
    }

    mutating func integer(_ node: Node, _ what: String, minimum: Int64 = 1) -> Int? {
        guard let value = json(of: node), let number = value.exactInteger, number >= minimum else {
            report(
                node,
                "\(what) must be a whole number of at least \(minimum), not \(describe(node))"
            )
            return nil
        }
        return Int(number)
    }

    mutating func number(_ node: Node, _ what: String) -> Double? {
        guard let value = json(of: node), let number = value.doubleValue, value.isNumber, number > 0
        else {
            report(node, "\(what) must be a positive number, not \(describe(node))")
            return nil
        }
        return number
    }

    mutating func boolean(_ node: Node, _ what: String) -> Bool? {
        guard let value = json(of: node), case .bool(let flag) = value else {
            report(node, "\(what) must be true or false, not \(describe(node))")
            return nil
        }
        return flag
    }

    mutating func duration(_ node: Node, _ what: String) -> Double? {
        guard let text = node.text, let seconds = DurationText.seconds(text) else {
            report(node, "\(what) must be a duration such as 90s, 20m or 3h, not \(describe(node))")
            return nil
        }
        guard seconds > 0 else {
            report(node, "\(what) must be longer than zero, not \(describe(node))")
            return nil
        }
        return seconds
    }

    /// A list of strings; a single string counts as a list of one.
    mutating func stringList(_ node: Node, _ what: String) -> [(String, Node)] {
        let nodes = node.items ?? [node]
        var values: [(String, Node)] = []
        for item in nodes {
            if let text = string(item, what) { values.append((text, item)) }
        }
        return values
    }

    // MARK: - Templates

    /// A scalar as a template; expressions are parsed now so syntax errors surface at validation.
    mutating func template(_ node: Node, _ what: String) -> Template? {
        guard let value = json(of: node) else {
            report(node, "\(what) must be a single value, not \(describe(node))")
            return nil
        }
        let start = Mark(line: node.mark.line, column: node.mark.column + quoteOffset(node))
        guard case .string(var text) = value else {
            var template = Template(literal: value)
            template.mark = start
            return template
        }
        text = shared(text)
        do {
            var template = try Template.parse(text)
            template.mark = start
            template.isOneLine = isOneLine(node)
            return template
        } catch {
            let column = node.mark.column + error.offset + quoteOffset(node)
            report(
                at: Mark(line: node.mark.line, column: column),
                "invalid expression: \(error.message)"
            )
            return nil
        }
    }

    /// The copy of `text` met first, when there was one; texts of up to 15 bytes take no storage.
    private mutating func shared(_ text: String) -> String {
        guard text.utf8.count > 15 else { return text }
        if let index = sharedTexts.firstIndex(of: text) { return sharedTexts[index] }
        if sharedTexts.count < Self.sharedTextLimit { sharedTexts.insert(text) }
        return text
    }

    /// Whether a scalar's characters map one to one onto columns of one line of the file.
    private func isOneLine(_ node: Node) -> Bool {
        guard let scalar = node.scalar, !scalar.text.contains("\n") else { return false }
        switch scalar.style {
        case .plain: return true
        case .singleQuoted: return !scalar.text.contains("'")
        case .doubleQuoted: return !scalar.text.contains("\"") && !scalar.text.contains("\\")
        case .literal, .folded: return false
        }
    }

    private func quoteOffset(_ node: Node) -> Int {
        switch node.scalar?.style {
        case .singleQuoted, .doubleQuoted: 1
        default: 0
        }
    }

    /// Any YAML value as a tree of templates, for the body of a `call` step.
    mutating func templateTree(_ node: Node, _ what: String, depth: Int = 0) -> TemplateTree? {
        switch node.content {
        case .scalar:
            return template(node, what).map(TemplateTree.leaf)
        case .sequence(let items):
            return .array(items.compactMap { templateTree($0, what, depth: depth + 1) })
        case .mapping(let pairs):
            var members: [(String, TemplateTree)] = []
            for pair in pairs {
                guard let key = pair.key.text else {
                    report(pair.key, "keys in \(what) must be plain names")
                    continue
                }
                if let value = templateTree(pair.value, what, depth: depth + 1) {
                    members.append((key, value))
                }
            }
            return .object(members)
        }
    }
}
