import ChkflowCore
import PlaybookYAML

/// Builds the graph of a playbook and checks everything that spans steps: references, sessions
/// and cycles.
struct Planner {
    let playbook: Playbook
    var diagnostics: [Diagnostic] = []

    init(playbook: Playbook) { self.playbook = playbook }

    mutating func report(_ mark: Mark, _ message: String) {
        diagnostics.append(Diagnostic(file: playbook.file, mark: mark, message: message))
    }

    mutating func plan() -> Plan {
        let steps = playbook.steps
        let ids = Set(steps.map(\.id))
        let loginIDs = steps.filter { if case .login = $0.kind { true } else { false } }.map(\.id)
        var nodes: [Plan.Node] = []
        for step in steps {
            let session = resolveSession(step, loginIDs: loginIDs, ids: ids)
            var reasons: [String: String] = [:]
            for need in step.needs {
                if ids.contains(need), need != step.id {
                    reasons[need] = "needs"
                } else {
                    report(step.mark, unknownStepMessage(need, in: step, ids: ids, what: "needs"))
                }
            }
            for referenced in checkReferences(step, ids: ids) where reasons[referenced] == nil {
                reasons[referenced] = "reference"
            }
            if let session, session != step.id, reasons[session] == nil {
                reasons[session] = "session"
            }
            nodes.append(
                Plan.Node(
                    step: step,
                    dependencies: [],
                    reasons: reasons,
                    commandClass: step.commandClass,
                    session: session
                )
            )
        }
        addLogoutEdges(&nodes)
        checkServers(nodes)
        for index in nodes.indices {
            nodes[index].dependencies = nodes[index].reasons.keys.sorted()
        }
        return Plan(playbook: playbook, nodes: ordered(nodes))
    }

    private mutating func resolveSession(
        _ step: Step,
        loginIDs: [String],
        ids: Set<String>
    )
        -> String?
    {
        if case .login = step.kind { return step.id }
        guard step.usesSession else { return nil }
        if let session = step.session {
            guard loginIDs.contains(session) else {
                report(
                    step.mark,
                    "step '\(step.id)' uses session '\(session)', which is not a login step"
                )
                return nil
            }
            return session
        }
        switch loginIDs.count {
        case 1: return loginIDs[0]
        case 0:
            report(
                step.mark,
                "step '\(step.id)' needs a session, but the playbook has no login step"
            )
        default:
            let list = loginIDs.joined(separator: ", ")
            report(
                step.mark,
                "step '\(step.id)' must say which session it uses ('session:' one of \(list))"
            )
        }
        return nil
    }

    /// A logout waits for every other step of its session.
    private func addLogoutEdges(_ nodes: inout [Plan.Node]) {
        for index in nodes.indices {
            guard case .logout = nodes[index].step.kind, let session = nodes[index].session else {
                continue
            }
            for other in nodes
            where other.session == session && other.step.id != nodes[index].step.id {
                if case .logout = other.step.kind { continue }
                if nodes[index].reasons[other.step.id] == nil {
                    nodes[index].reasons[other.step.id] = "session"
                }
            }
        }
    }

    private mutating func checkServers(_ nodes: [Plan.Node]) {
        for node in nodes {
            guard case .login(let login) = node.step.kind else { continue }
            if let server = login.server {
                if playbook.servers[server] == nil {
                    let names = playbook.servers.keys.sorted()
                    var message =
                        "step '\(node.step.id)' logs in to server '\(server)', which 'servers' does not define"
                    if let close = suggestion(for: server, among: names) {
                        message += "; did you mean '\(close)'?"
                    }
                    report(node.step.mark, message)
                }
            } else if playbook.servers.count != 1 {
                report(
                    node.step.mark,
                    "step '\(node.step.id)' must name its 'server' (the playbook defines \(playbook.servers.count))"
                )
            }
        }
    }

    /// Checks every path in the step's expressions; returns the steps it reads from.
    private mutating func checkReferences(_ step: Step, ids: Set<String>) -> [String] {
        var referenced: [String] = []
        for template in step.templates {
            for expression in template.expressions {
                for function in expression.functionNames
                where ExpressionFunctions.arities[function] == nil {
                    report(step.mark, "step '\(step.id)' calls unknown function '\(function)()'")
                }
                checkArities(expression, step: step)
                for (root, components) in expression.paths {
                    if let target = checkPath(
                        root: root,
                        components: components,
                        step: step,
                        ids: ids
                    ) {
                        referenced.append(target)
                    }
                }
            }
        }
        return referenced
    }

    private mutating func checkArities(_ expression: Expression, step: Step) {
        switch expression {
        case .literal, .path: return
        case .not(let inner): checkArities(inner, step: step)
        case .binary(_, let left, let right):
            checkArities(left, step: step)
            checkArities(right, step: step)
        case .call(let name, let arguments):
            if let arity = ExpressionFunctions.arities[name], !arity.contains(arguments.count) {
                report(step.mark, "\(name)() takes \(Self.describe(arity)), not \(arguments.count)")
            }
            for argument in arguments { checkArities(argument, step: step) }
        }
    }

    private static func describe(_ arity: ClosedRange<Int>) -> String {
        if arity.lowerBound == arity.upperBound {
            return arity.lowerBound == 1 ? "1 argument" : "\(arity.lowerBound) arguments"
        }
        return "\(arity.lowerBound) to \(arity.upperBound) arguments"
    }

    private mutating func checkPath(
        root: String,
        components: [Expression.PathComponent],
        step: Step,
        ids: Set<String>
    ) -> String? {
        let first: String? = if case .member(let name)? = components.first { name } else { nil }
        switch root {
        case "env": return nil
        case "inputs":
            if let name = first, !playbook.inputs.contains(where: { $0.name == name }) {
                report(
                    step.mark,
                    "step '\(step.id)' reads input '\(name)', which 'inputs' does not declare"
                )
            }
        case "secrets":
            if let name = first, playbook.secrets[name] == nil {
                report(
                    step.mark,
                    "step '\(step.id)' reads secret '\(name)', which 'secrets' does not declare"
                )
            }
        case "steps":
            guard let target = first else {
                report(step.mark, "step '\(step.id)' reads 'steps' without naming a step")
                return nil
            }
            return checkStepPath(target, components: components, step: step, ids: ids)
        default:
            var message =
                "step '\(step.id)' reads '\(root)', which is not inputs, env, secrets or steps"
            if let close = suggestion(for: root, among: ["inputs", "env", "secrets", "steps"]) {
                message += "; did you mean '\(close)'?"
            }
            report(step.mark, message)
        }
        return nil
    }

    private mutating func checkStepPath(
        _ target: String,
        components: [Expression.PathComponent],
        step: Step,
        ids: Set<String>
    ) -> String? {
        guard let other = playbook.step(withID: target), target != step.id else {
            let what = target == step.id ? "itself" : nil
            if let what {
                report(
                    step.mark,
                    "step '\(step.id)' reads its own outputs (\(what)); use an earlier step"
                )
            } else {
                report(step.mark, unknownStepMessage(target, in: step, ids: ids, what: "reads"))
            }
            return nil
        }
        if components.count > 1, case .member(let output) = components[1],
            !other.outputNames.contains(output)
        {
            let list = other.outputNames.joined(separator: ", ")
            report(
                step.mark,
                "step '\(step.id)' reads 'steps.\(target).\(output)', but a \(other.kindName) step has no output '\(output)' (it has \(list))"
            )
        }
        return target
    }

    private func unknownStepMessage(
        _ name: String,
        in step: Step,
        ids: Set<String>,
        what: String
    )
        -> String
    {
        var message = "step '\(step.id)' \(what) step '\(name)', which does not exist"
        if name == step.id { message = "step '\(step.id)' \(what) itself" }
        if let close = suggestion(for: name, among: ids.sorted()), name != step.id {
            message += "; did you mean '\(close)'?"
        }
        return message
    }

    /// A topological order that keeps the file's order among independent steps; a cycle is
    /// reported with its path.
    private mutating func ordered(_ nodes: [Plan.Node]) -> [Plan.Node] {
        var remaining = nodes
        var done: Set<String> = []
        var result: [Plan.Node] = []
        while !remaining.isEmpty {
            guard
                let next = remaining.firstIndex(where: { $0.reasons.keys.allSatisfy(done.contains) }
                )
            else {
                reportCycle(remaining)
                return result + remaining
            }
            done.insert(remaining[next].step.id)
            result.append(remaining.remove(at: next))
        }
        return result
    }

    private mutating func reportCycle(_ remaining: [Plan.Node]) {
        let byID = Dictionary(uniqueKeysWithValues: remaining.map { ($0.step.id, $0) })
        var path: [String] = []
        var current = remaining[0].step.id
        while !path.contains(current), let node = byID[current] {
            path.append(current)
            guard let next = node.reasons.keys.sorted().first(where: { byID[$0] != nil }) else {
                break
            }
            current = next
        }
        let start = path.firstIndex(of: current) ?? 0
        let cycle = Array(path[start...]) + [current]
        let first = byID[cycle[0]]?.step.mark ?? Mark(line: 1, column: 1)
        report(
            first,
            "the steps wait for each other in a cycle: \(cycle.joined(separator: " -> "))"
        )
    }
}
