import ChkflowCore
import PlaybookYAML

extension PlaybookDecoder {
    /// A retry policy; inside an `on-error` rule the rule says what it matches, so `on` is out.
    mutating func decodeRetry(_ node: Node, inRule: Bool = false) -> RetryPolicy? {
        let keys = ["on", "attempts", "backoff", "budget"]
        guard let members = mapping(node, allowed: keys, in: "'retry'") else { return nil }
        var policy = RetryPolicy(on: [], attempts: 3)
        if let onNode = members["on"] {
            if inRule {
                report(
                    onNode,
                    "the retry of an 'on-error' rule takes no 'on': the rule's 'code', 'status' or 'transport' say what it retries"
                )
            } else {
                policy.on = matchers(onNode)
            }
        } else if !inRule {
            report(
                node,
                "'retry' needs 'on', the errors to retry (codes, HTTP statuses or transport)"
            )
        }
        if let attempts = members["attempts"] {
            policy.attempts = integer(attempts, "'attempts'") ?? policy.attempts
        }
        policy.budget = members["budget"].flatMap { duration($0, "'budget'") }
        if let backoff = members["backoff"] { decodeBackoff(backoff, into: &policy) }
        return policy
    }

    private mutating func decodeBackoff(_ node: Node, into policy: inout RetryPolicy) {
        let keys = ["initial", "factor", "max", "jitter"]
        guard let members = mapping(node, allowed: keys, in: "'backoff'") else { return }
        policy.initialDelay =
            members["initial"].flatMap { duration($0, "'initial'") } ?? policy.initialDelay
        policy.factor = members["factor"].flatMap { number($0, "'factor'") } ?? policy.factor
        policy.maximumDelay =
            members["max"].flatMap { duration($0, "'max'") } ?? policy.maximumDelay
        if let jitter = members["jitter"] {
            switch jitter.text {
            case "full": policy.jitter = true
            case "none": policy.jitter = false
            default: report(jitter, "'jitter' must be 'full' or 'none', not \(describe(jitter))")
            }
        }
        if let factor = members["factor"], policy.factor < 1 {
            report(factor, "'factor' must be at least 1, not \(describe(factor))")
        }
        if let max = members["max"], policy.maximumDelay < policy.initialDelay {
            report(max, "'max' must not be shorter than 'initial'")
        }
    }

    /// Codes, code prefixes (`generic_err_session_*`), HTTP statuses and `transport`.
    mutating func matchers(_ node: Node) -> [ErrorMatcher] {
        var result: [ErrorMatcher] = []
        for item in node.items ?? [node] {
            if let value = json(of: item), let status = value.exactInteger {
                guard (400...599).contains(status) else {
                    report(
                        item,
                        "an HTTP status to match must be between 400 and 599, not \(status)"
                    )
                    continue
                }
                result.append(.httpStatus(Int(status)))
                continue
            }
            guard let text = string(item, "an error to match") else { continue }
            if text == "transport" {
                result.append(.transport)
            } else if let matcher = codeMatcher(text, item) {
                result.append(matcher)
            }
        }
        return result
    }

    private mutating func codeMatcher(_ text: String, _ node: Node) -> ErrorMatcher? {
        guard ErrorCatalogue.matchesAny(text) else {
            var message: String
            if text.hasSuffix("*") {
                message = "the pattern '\(text)' matches no error code Check Point lists"
            } else {
                message = "'\(text)' is not an error code Check Point lists"
                let codes = ErrorCatalogue.entries.map(\.code)
                if let close = suggestion(for: text, among: codes) {
                    message += "; did you mean '\(close)'?"
                }
            }
            report(node, message + " (see 'chkflow codes')")
            return nil
        }
        guard !text.hasSuffix("*") else { return .codePrefix(String(text.dropLast())) }
        // The catalogue's own copy of the code: one string for the many rules that name it.
        return .code(ErrorCatalogue.entry(for: text)?.code ?? text)
    }

    mutating func decodeErrorRules(_ node: Node) -> [ErrorRule] {
        guard let items = node.items else {
            report(node, "'on-error' must be a list of rules, not \(describe(node))")
            return []
        }
        return items.compactMap { decodeErrorRule($0) }
    }

    private mutating func decodeErrorRule(_ node: Node) -> ErrorRule? {
        let keys = ["code", "status", "transport", "then", "retry"]
        guard let members = mapping(node, allowed: keys, in: "an 'on-error' rule") else {
            return nil
        }
        var matchers: [ErrorMatcher] = []
        if let code = members["code"] { matchers += self.matchers(code) }
        if let status = members["status"] { matchers += self.matchers(status) }
        if let transport = members["transport"], boolean(transport, "'transport'") == true {
            matchers.append(.transport)
        }
        if matchers.isEmpty, members["code"] == nil, members["status"] == nil {
            report(node, "an 'on-error' rule needs 'code', 'status' or 'transport: true'")
        }
        let retry = members["retry"].flatMap { decodeRetry($0, inRule: true) }
        if let retryNode = members["retry"], let then = members["then"], then.text != "retry" {
            report(
                retryNode,
                "an 'on-error' rule with 'retry' retries; it cannot also say 'then: \(then.text ?? "")'"
            )
        }
        let action: ErrorRule.Action
        switch members["then"]?.text ?? (retry != nil ? "retry" : nil) {
        case "retry": action = .retry(retry ?? RetryPolicy(on: [], attempts: 3))
        case "relogin": action = .relogin
        case "continue": action = .continue
        case "fail": action = .fail
        case nil:
            report(
                node,
                "an 'on-error' rule needs 'then' (retry, relogin, continue or fail) or 'retry'"
            )
            return nil
        default:
            let thenNode = members["then"] ?? node
            report(
                thenNode,
                "'then' must be retry, relogin, continue or fail, not \(describe(thenNode))"
            )
            return nil
        }
        return ErrorRule(matchers: shared(matchers), action: shared(action), mark: node.mark)
    }

    /// An earlier equal list of matchers, when there is one, so that the rules share storage.
    private mutating func shared(_ matchers: [ErrorMatcher]) -> [ErrorMatcher] {
        if let earlier = sharedMatchers.first(where: { $0 == matchers }) { return earlier }
        if sharedMatchers.count < 16 { sharedMatchers.append(matchers) }
        return matchers
    }

    /// An earlier equal action, when there is one: a retry action is a box of 90 bytes.
    private mutating func shared(_ action: ErrorRule.Action) -> ErrorRule.Action {
        if let earlier = sharedActions.first(where: { $0 == action }) { return earlier }
        if sharedActions.count < 16 { sharedActions.append(action) }
        return action
    }
}
