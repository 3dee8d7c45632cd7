import ChkflowCore
import PlaybookYAML

extension PlaybookDecoder {
    static let stepKinds = [
        "login", "logout", "verify", "export", "wait", "call", "assert", "for-each",
    ]
    static let loopKeys = ["as", "max-parallel", "fail-fast", "steps"]
    static let stepKeys =
        ["id", "needs", "when", "if", "session", "on-error", "retry", "timeout", "expect"]
        + stepKinds + loopKeys

    mutating func decodeSteps(_ node: Node) -> [Step] {
        guard let items = node.items else {
            report(node, "'steps' must be a list, not \(describe(node))")
            return []
        }
        if items.isEmpty { report(node, "'steps' is empty; a playbook needs at least one step") }
        var steps: [Step] = []
        for item in items {
            guard let step = decodeStep(item) else { continue }
            if let first = stepIDs[step.id] {
                report(
                    item,
                    "duplicate step id '\(step.id)' (first at \(first.line):\(first.column))"
                )
                continue
            }
            stepIDs[step.id] = step.mark
            steps.append(step)
        }
        return steps
    }

    private mutating func decodeStep(_ node: Node) -> Step? {
        guard let members = mapping(node, allowed: Self.stepKeys, in: "a step") else { return nil }
        let kinds = Self.stepKinds.filter { members[$0] != nil }
        guard let idNode = members["id"], let id = string(idNode, "a step id") else {
            if members["id"] == nil { report(node, "every step needs an 'id'") }
            return nil
        }
        if !Self.isValidID(id) {
            report(
                idNode,
                "step id '\(id)' must start with a letter and hold only letters, digits, '-' and '_'"
            )
        }
        guard kinds.count == 1, let kindNode = members[kinds[0]] else {
            let list = Self.stepKinds.joined(separator: ", ")
            let problem = kinds.isEmpty ? "says what to do with none of" : "has more than one of"
            report(node, "step '\(id)' \(problem): \(list)")
            return nil
        }
        if kinds[0] != "for-each" {
            for key in Self.loopKeys where members[key] != nil {
                report(node, "step '\(id)' has '\(key)', which belongs to a 'for-each' step")
            }
        }
        if members["when"] != nil, members["if"] != nil {
            report(node, "step '\(id)' has both 'when' and 'if'; they mean the same, keep one")
        }
        let decoded =
            kinds[0] == "for-each"
            ? decodeLoop(kindNode, members, stepID: id, node: node)
            : decodeKind(kinds[0], kindNode, stepID: id)
        guard let kind = decoded else { return nil }
        return Step(
            id: id,
            kind: kind,
            needs: members["needs"].map { stringList($0, "'needs'").map(\.0) } ?? [],
            condition: (members["when"] ?? members["if"]).flatMap { template($0, "a condition") },
            session: members["session"].flatMap { string($0, "'session'") },
            onError: members["on-error"].map { decodeErrorRules($0) } ?? [],
            retry: members["retry"].flatMap { decodeRetry($0) },
            timeout: members["timeout"].flatMap { duration($0, "'timeout'") },
            expect: members["expect"].flatMap { duration($0, "'expect'") },
            mark: node.mark
        )
    }

    private mutating func decodeLoop(
        _ itemsNode: Node,
        _ members: [String: Node],
        stepID: String,
        node: Node
    ) -> Step.Kind? {
        let items = templateTree(itemsNode, "'for-each'")
        if case .leaf(let template)? = items, template.soleExpression == nil {
            report(itemsNode, "'for-each' must be a list or an expression that gives one")
        }
        let variable = members["as"].flatMap { string($0, "'as'") } ?? "item"
        if ["inputs", "env", "secrets", "steps"].contains(variable) || !Self.isValidID(variable) {
            report(
                members["as"] ?? node,
                "'as' must be a plain name other than inputs, env, secrets or steps"
            )
        }
        guard let stepsNode = members["steps"] else {
            report(node, "the for-each step '\(stepID)' needs 'steps', the steps to run per item")
            return nil
        }
        let inner = decodeSteps(stepsNode)
        guard let items else { return nil }
        return .forEach(
            ForEach(
                items: items,
                variable: variable,
                maxParallel: members["max-parallel"].flatMap { integer($0, "'max-parallel'") } ?? 1,
                failFast: members["fail-fast"].flatMap { boolean($0, "'fail-fast'") } ?? false,
                steps: inner
            )
        )
    }

    static func isValidID(_ id: String) -> Bool {
        guard let first = id.first, first.isASCII, first.isLetter else { return false }
        return id.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")
        }
    }

    private mutating func decodeKind(_ kind: String, _ node: Node, stepID: String) -> Step.Kind? {
        let context = "the \(kind) of step '\(stepID)'"
        switch kind {
        case "login": return decodeLogin(node, context: context).map(Step.Kind.login)
        case "logout":
            if !node.isNull { _ = mapping(node, allowed: [], in: context) }
            return .logout
        case "verify":
            return decodeExport(node, verifying: true, context: context).map(Step.Kind.verify)
        case "export":
            return decodeExport(node, verifying: false, context: context).map(Step.Kind.export)
        case "wait": return decodeWait(node, context: context).map(Step.Kind.wait)
        case "call": return decodeCall(node, context: context).map(Step.Kind.call)
        default: return decodeAssert(node, context: context).map(Step.Kind.assert)
        }
    }

    private mutating func decodeLogin(_ node: Node, context: String) -> Login? {
        let keys = [
            "server", "user", "password", "api-key", "domain", "read-only", "session-name",
            "session-timeout",
        ]
        guard let members = mapping(node, allowed: keys, in: context) else { return nil }
        var login = Login()
        login.server = members["server"].flatMap { string($0, "'server'") }
        login.user = members["user"].flatMap { template($0, "'user'") }
        login.password = members["password"].flatMap { template($0, "'password'") }
        login.apiKey = members["api-key"].flatMap { template($0, "'api-key'") }
        login.domain = members["domain"].flatMap { template($0, "'domain'") }
        login.readOnly = members["read-only"].flatMap { template($0, "'read-only'") }
        login.sessionName = members["session-name"].flatMap { template($0, "'session-name'") }
        login.sessionTimeout = members["session-timeout"].flatMap {
            template($0, "'session-timeout'")
        }
        if login.apiKey != nil, login.user != nil || login.password != nil {
            report(node, "\(context) takes 'api-key' or 'user' and 'password', not both")
        } else if login.apiKey == nil, login.user == nil || login.password == nil {
            report(node, "\(context) needs 'user' and 'password', or 'api-key'")
        }
        if let timeoutNode = members["session-timeout"], let value = json(of: timeoutNode),
            value.exactInteger.map({ !(10...3600).contains($0) }) ?? false
        {
            report(timeoutNode, "'session-timeout' must be between 10 and 3600 seconds")
        }
        return login
    }

    private mutating func decodeExport(
        _ node: Node,
        verifying: Bool,
        context: String
    )
        -> ExportRequest?
    {
        let names = ExportRules.fields.map(\.name).filter { $0 != "pre-export-verification-only" }
        guard let pairs = node.isNull ? [] : node.pairs else {
            report(node, "\(context) must be a mapping, not \(describe(node))")
            return nil
        }
        var request = ExportRequest(fields: [])
        var known: [String: JSON] = [:]
        for pair in pairs {
            guard let key = pair.key.text else { continue }
            guard names.contains(key) else {
                reportUnknownExportField(key, pair.key, names: names, context: context)
                continue
            }
            guard let value = template(pair.value, "'\(key)'") else { continue }
            if let literal = value.literal {
                if let problem = ExportRules.problem(field: key, value: literal) {
                    report(pair.value, problem)
                    continue
                }
                known[key] = literal
            }
            request.fields.append((key, value, pair.key.mark))
        }
        let present = Set(request.fields.map(\.name))
        for problem in ExportRules.ruleProblems(
            known: known,
            present: present,
            verifying: verifying
        ) {
            report(node, problem)
        }
        return request
    }

    private mutating func reportUnknownExportField(
        _ key: String,
        _ node: Node,
        names: [String],
        context: String
    ) {
        if key == "pre-export-verification-only" {
            report(node, "use a 'verify' step for a pre-export verification, not this field")
            return
        }
        var message = "export-management has no field '\(key)' (in \(context))"
        if let close = suggestion(for: key, among: names) {
            message += "; did you mean '\(close)'?"
        }
        report(node, message)
    }

    private mutating func decodeWait(_ node: Node, context: String) -> Wait? {
        guard let members = mapping(node, allowed: ["task", "timeout"], in: context) else {
            return nil
        }
        guard let taskNode = members["task"] else {
            report(node, "\(context) needs 'task', the task-id to wait for")
            return nil
        }
        guard let task = template(taskNode, "'task'") else { return nil }
        return Wait(task: task, timeout: members["timeout"].flatMap { duration($0, "'timeout'") })
    }

    private mutating func decodeCall(_ node: Node, context: String) -> Call? {
        let keys = ["command", "body", "wait-for-task"]
        guard let members = mapping(node, allowed: keys, in: context) else { return nil }
        guard let commandNode = members["command"], let command = string(commandNode, "'command'")
        else {
            if members["command"] == nil { report(node, "\(context) needs 'command'") }
            return nil
        }
        if ["login", "logout", "export-management"].contains(command) {
            let kind = command == "export-management" ? "export' or 'verify" : command
            report(commandNode, "use a '\(kind)' step for \(command), not 'call'")
        }
        let body = members["body"].flatMap { templateTree($0, "'body'") } ?? .object([])
        let wait = members["wait-for-task"].flatMap { boolean($0, "'wait-for-task'") } ?? false
        return Call(command: command, body: body, waitForTask: wait)
    }

    private mutating func decodeAssert(_ node: Node, context: String) -> Assertion? {
        guard let members = mapping(node, allowed: ["that", "message"], in: context) else {
            return nil
        }
        guard let thatNode = members["that"], let condition = template(thatNode, "'that'") else {
            if members["that"] == nil {
                report(node, "\(context) needs 'that', the condition to hold")
            }
            return nil
        }
        return Assertion(
            condition: condition,
            message: members["message"].flatMap { template($0, "'message'") }
        )
    }
}
