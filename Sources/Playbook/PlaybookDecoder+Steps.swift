import ChkflowCore
import PlaybookYAML

extension PlaybookDecoder {
    static let stepKinds = [
        "login", "logout", "verify", "export", "wait", "call", "assert", "for-each",
    ]
    static let loopKeys = ["as", "max-parallel", "fail-fast", "steps"]
    static let stepKeys =
        [
            "id", "needs", "when", "if", "session", "on-error", "retry", "timeout",
            "attempt-timeout", "expect",
        ]
        + stepKinds + loopKeys

    /// The steps of the playbook, or of the for-each step `owner`.
    ///
    /// With `releasingEach`, the list is consumed and each step's nodes are given back once the
    /// step is decoded (the caller must hold no other copy of the list for that to save memory).
    /// The top-level steps that `decodeStreamedStep` decoded while the file was read come first.
    mutating func decodeSteps(
        _ node: consuming Node,
        owner: String? = nil,
        releasingEach: Bool = false
    ) -> [Step] {
        guard var items = node.items else {
            report(node, "'steps' must be a list, not \(describe(node))")
            if owner == nil { gaps.wholeSections.insert("steps") }
            return []
        }
        var steps: [Step] = []
        if owner == nil { swap(&steps, &streamedSteps) }
        if items.isEmpty, owner != nil || streamedCount == 0 {
            if let owner {
                report(node, "the for-each step '\(owner)' has no steps")
            } else {
                report(node, "'steps' is empty; a playbook needs at least one step")
            }
        }
        _ = consume node
        steps.reserveCapacity(steps.count + items.count)
        let placeholder = Node(content: .sequence([]), mark: Mark(line: 0, column: 0))
        for index in items.indices {
            let item = items[index]
            if releasingEach { items[index] = placeholder }
            if let step = decodeEntry(item) { steps.append(step) }
        }
        return steps
    }

    /// Decodes one entry of the top-level `steps` while the file is still being read, so that
    /// its nodes can be given back at once; `decodeSteps` collects the result.
    mutating func decodeStreamedStep(_ node: consuming Node) {
        streamedCount += 1
        if let step = decodeEntry(node) { streamedSteps.append(step) }
    }

    /// The step an entry of a list of steps stands for, nil when it is broken or its id taken.
    private mutating func decodeEntry(_ item: Node) -> Step? {
        guard let step = decodeStep(item) else { return nil }
        if let first = stepIDs[step.id] {
            report(
                item,
                "duplicate step id '\(step.id)' (first at \(first.line):\(first.column))"
            )
            return nil
        }
        stepIDs[step.id] = step.mark
        return step
    }

    private mutating func decodeStep(_ node: Node) -> Step? {
        guard let members = mapping(node, allowed: Self.stepKeys, in: "a step") else {
            gaps.unknownStep = true
            return nil
        }
        let kinds = Self.stepKinds.filter { members[$0] != nil }
        guard let idNode = members["id"], let id = string(idNode, "a step id") else {
            if members["id"] == nil { report(node, "every step needs an 'id'") }
            gaps.unknownStep = true
            return nil
        }
        if !Self.isValidID(id) { report(idNode, Self.nameRule("step id", id)) }
        guard kinds.count == 1, let kindNode = members[kinds[0]] else {
            let list = Self.stepKinds.joined(separator: ", ")
            let problem = kinds.isEmpty ? "says what to do with none of" : "has more than one of"
            report(node, "step '\(id)' \(problem): \(list)")
            noteLost(id, kinds: kinds)
            return nil
        }
        checkKeys(members, kind: kinds[0], stepID: id, node: node)
        let decoded =
            kinds[0] == "for-each"
            ? decodeLoop(kindNode, members, stepID: id, node: node)
            : decodeKind(kinds[0], kindNode, stepID: id)
        guard let kind = decoded else {
            noteLost(id, kinds: kinds)
            return nil
        }
        let needs = members["needs"].map { stringList($0, "'needs'") } ?? []
        let timeout = members["timeout"].flatMap { duration($0, "'timeout'") }
        let attemptTimeout = decodeAttemptTimeout(
            members,
            timeout: timeout,
            stepID: id,
            kind: kinds[0]
        )
        return Step(
            id: id,
            kind: kind,
            needs: needs.map(\.0),
            condition: members["when"].flatMap { condition($0, "when") }
                ?? members["if"].flatMap { condition($0, "if") },
            session: members["session"].flatMap { string($0, "'session'") },
            onError: members["on-error"].map { decodeErrorRules($0) } ?? [],
            retry: members["retry"].flatMap { decodeRetry($0) },
            timeout: timeout,
            attemptTimeout: attemptTimeout,
            expect: members["expect"].flatMap { duration($0, "'expect'") },
            mark: node.mark,
            needMarks: needs.map(\.1.mark),
            sessionMark: members["session"]?.mark
        )
    }

    /// A step's `attempt-timeout`, checked against its own `timeout`; the one it may take from
    /// `defaults` is checked once the whole playbook is read (`checkInheritedTimeouts`).
    private mutating func decodeAttemptTimeout(
        _ members: [String: Node],
        timeout: Double?,
        stepID id: String,
        kind: String
    ) -> Double? {
        guard let node = members["attempt-timeout"],
            let seconds = duration(node, "'attempt-timeout'")
        else { return nil }
        // A kind that cannot have one is reported as such in `checkKeys`, and only that.
        guard !["wait", "assert", "for-each"].contains(kind), let text = node.text else {
            return seconds
        }
        guard let timeout, let limit = members["timeout"]?.text else {
            if members["timeout"] == nil {
                inheritingAttemptTimeouts.append((id, seconds, text, node.mark))
            }
            return seconds
        }
        if seconds > timeout {
            report(
                node,
                "step '\(id)' has an 'attempt-timeout' of \(text), longer than its 'timeout' of \(limit); \(Self.attemptOutlastsStep)"
            )
        }
        return seconds
    }

    static let attemptOutlastsStep = "an attempt cannot outlast its step"

    /// Reports the steps whose own `attempt-timeout` is longer than the `timeout` they take
    /// from `defaults`, once both are read (`defaults` may come after `steps`).
    mutating func checkInheritedTimeouts(defaults: Defaults, timeoutText: String?) {
        guard let limit = defaults.timeout, let limitText = timeoutText else { return }
        for pending in inheritingAttemptTimeouts where pending.seconds > limit {
            report(
                at: pending.mark,
                "step '\(pending.stepID)' has an 'attempt-timeout' of \(pending.text), longer than the 'timeout' of \(limitText) it takes from 'defaults'; \(Self.attemptOutlastsStep)"
            )
        }
    }

    /// Remembers a step that could not be decoded, so the planner does not miss it.
    private mutating func noteLost(_ id: String, kinds: [String]) {
        gaps.steps.insert(id)
        if kinds.isEmpty || kinds.contains("login") { gaps.lostLogin = true }
    }

    /// Checks the keys that only some kinds of step may have.
    private mutating func checkKeys(
        _ members: [String: Node],
        kind: String,
        stepID id: String,
        node: Node
    ) {
        if kind != "for-each" {
            for key in Self.loopKeys where members[key] != nil {
                report(node, "step '\(id)' has '\(key)', which belongs to a 'for-each' step")
            }
        }
        if members["when"] != nil, members["if"] != nil {
            report(node, "step '\(id)' has both 'when' and 'if'; they mean the same, keep one")
        }
        if let session = members["session"], ["login", "assert", "for-each"].contains(kind) {
            let reason =
                kind == "login" ? "a login step starts its own session" : "it sends no request"
            report(session, "step '\(id)' cannot have 'session': \(reason)")
        }
        if let limit = members["attempt-timeout"], ["wait", "assert", "for-each"].contains(kind) {
            let reason =
                kind == "wait"
                ? "a wait sends no request to try again; its own 'timeout' limits the wait"
                : "it sends no request"
            report(limit, "step '\(id)' cannot have 'attempt-timeout': \(reason)")
        }
    }

    /// A `when`, `if` or assert `that`: true, false or an expression.
    mutating func condition(_ node: Node, _ key: String) -> Template? {
        guard let template = template(node, "'\(key)'") else { return nil }
        switch template.literal {
        case nil:
            guard template.soleExpression == nil else { return template }
            report(
                node,
                "'\(key)' mixes text with expressions, which makes text that is always true; put the whole condition inside one ${{ }}"
            )
        case .bool?:
            return template
        case .string(let text)?:
            report(
                node,
                "'\(key)' is plain text, which is always true; write it as an expression: ${{ \(text) }}"
            )
        case let other?:
            report(
                node,
                "'\(key)' must be true, false or an expression, not \(other.describedForError)"
            )
        }
        return nil
    }

    private mutating func decodeLoop(
        _ itemsNode: Node,
        _ members: [String: Node],
        stepID: String,
        node: Node
    ) -> Step.Kind? {
        let items = loopItems(itemsNode)
        let variable = members["as"].flatMap { string($0, "'as'") } ?? "item"
        if ["inputs", "env", "secrets", "steps"].contains(variable) || !Self.isValidID(variable) {
            report(
                members["as"] ?? node,
                "'as' must be a plain name other than inputs, env, secrets or steps, not '\(variable)'"
            )
        } else if loopVariables.contains(variable) {
            report(
                members["as"] ?? node,
                "the for-each step '\(stepID)' names its item '\(variable)', as an enclosing for-each step does; give it another name with 'as'"
            )
        }
        guard let stepsNode = members["steps"] else {
            report(node, "the for-each step '\(stepID)' needs 'steps', the steps to run per item")
            return nil
        }
        loopVariables.append(variable)
        let inner = decodeSteps(stepsNode, owner: stepID)
        loopVariables.removeLast()
        let maxParallel = members["max-parallel"].flatMap { integer($0, "'max-parallel'") }
        let failFast = members["fail-fast"].flatMap { boolean($0, "'fail-fast'") }
        guard let items else { return nil }
        return .forEach(
            ForEach(
                items: items,
                variable: variable,
                maxParallel: maxParallel ?? 1,
                failFast: failFast ?? false,
                steps: inner
            )
        )
    }

    /// The list a for-each step runs over: a literal list or one expression that gives a list.
    private mutating func loopItems(_ node: Node) -> TemplateTree? {
        let problem = "'for-each' must be a list or one expression that gives a list"
        switch node.content {
        case .sequence:
            return templateTree(node, "'for-each'")
        case .mapping:
            report(node, "\(problem), not a mapping")
            return nil
        case .scalar:
            guard let template = template(node, "'for-each'") else { return nil }
            guard template.soleExpression != nil else {
                report(node, "\(problem), not \(describe(node))")
                return nil
            }
            return .leaf(template)
        }
    }

    static func isValidID(_ id: String) -> Bool {
        guard let first = id.first, first.isASCII, first.isLetter else { return false }
        return id.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_")
        }
    }

    /// The message for a name that breaks the naming rule.
    static func nameRule(_ what: String, _ name: String) -> String {
        "\(what) '\(name)' must start with a letter and hold only letters, digits, '-' and '_'"
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
        login.serverMark = members["server"]?.mark
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
        if let node = members["session-timeout"], let value = login.sessionTimeout?.literal,
            value.exactInteger.map({ !(10...3600).contains($0) }) ?? true
        {
            report(
                node,
                "'session-timeout' must be a whole number of seconds from 10 to 3600, not \(value.describedForError)"
            )
        }
        if let node = members["read-only"], let value = login.readOnly?.literal,
            !value.isBoolean
        {
            report(node, "'read-only' must be true or false, not \(value.describedForError)")
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
        // Fields written with a wrong value count as present, so their rules do not fire twice.
        var present: Set<String> = []
        for pair in pairs {
            guard let key = pair.key.text else { continue }
            // The rules' own copy of the name, so that the fields of many steps share it.
            guard let key = names.first(where: { $0 == key }) else {
                reportUnknownExportField(key, pair.key, names: names, context: context)
                continue
            }
            present.insert(key)
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
            let kind =
                command == "export-management" ? "an 'export' or a 'verify'" : "a '\(command)'"
            report(commandNode, "use \(kind) step for \(command), not 'call'")
        } else if !Self.isCommandName(command) {
            report(
                commandNode,
                "'command' must be a management API command name such as show-domains, not \(describe(commandNode))"
            )
        }
        var body = TemplateTree.object([])
        if let bodyNode = members["body"] {
            if bodyNode.pairs == nil {
                report(bodyNode, "'body' must be a mapping, not \(describe(bodyNode))")
            } else if let tree = templateTree(bodyNode, "'body'") {
                body = tree
            }
        }
        let wait = members["wait-for-task"].flatMap { boolean($0, "'wait-for-task'") } ?? false
        return Call(command: command, body: body, waitForTask: wait)
    }

    private mutating func decodeAssert(_ node: Node, context: String) -> Assertion? {
        guard let members = mapping(node, allowed: ["that", "message"], in: context) else {
            return nil
        }
        guard let thatNode = members["that"], let condition = condition(thatNode, "that") else {
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

    /// Whether text reads like an API command: lower-case words joined by '-'.
    static func isCommandName(_ text: String) -> Bool {
        guard let first = text.first, first.isASCII, first.isLowercase, text.last != "-" else {
            return false
        }
        return text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }
}
