import ChkflowCore
import PlaybookYAML

/// Builds the graph of a playbook and checks what spans steps: references, sessions, cycles.
///
/// A `for-each` step's steps form a graph of their own, planned in a nested scope that also sees
/// the outer steps.
struct Planner {
    let playbook: Playbook
    var diagnostics: [Diagnostic] = []

    /// What the steps being planned can see around them.
    struct Scope {
        /// Ids of the steps in this graph.
        var ids: Set<String>
        /// Ids of steps in enclosing graphs, by the depth they live at.
        var outerIDs: Set<String> = []
        /// Login steps visible here: this graph's and the enclosing ones'.
        var loginIDs: [String]
        /// Names of loop variables in scope.
        var loopVariables: Set<String> = []
    }

    init(playbook: Playbook) { self.playbook = playbook }

    mutating func report(_ mark: Mark, _ message: String) {
        diagnostics.append(Diagnostic(file: playbook.file, mark: mark, message: message))
    }

    mutating func plan() -> Plan {
        let steps = playbook.steps
        let scope = Scope(ids: Set(steps.map(\.id)), loginIDs: Self.loginIDs(steps))
        let (nodes, _) = planGraph(steps, scope: scope)
        return Plan(playbook: playbook, nodes: nodes)
    }

    static func loginIDs(_ steps: [Step]) -> [String] {
        steps.filter { if case .login = $0.kind { true } else { false } }.map(\.id)
    }

    /// Plans one graph; returns its nodes in order and the outer steps it reads.
    private mutating func planGraph(_ steps: [Step], scope: Scope) -> ([Plan.Node], Set<String>) {
        var nodes: [Plan.Node] = []
        var outerReads: Set<String> = []
        for step in steps {
            var node = planNode(step, scope: scope, outerReads: &outerReads)
            if case .forEach(let loop) = step.kind {
                var inner = Scope(
                    ids: Set(loop.steps.map(\.id)),
                    outerIDs: scope.outerIDs.union(scope.ids),
                    loginIDs: scope.loginIDs + Self.loginIDs(loop.steps),
                    loopVariables: scope.loopVariables.union([loop.variable])
                )
                inner.outerIDs.subtract(inner.ids)
                let (children, reads) = planGraph(loop.steps, scope: inner)
                node.children = children
                for read in reads {
                    if scope.ids.contains(read) {
                        if node.reasons[read] == nil, read != step.id {
                            node.reasons[read] = "reference"
                        }
                    } else {
                        outerReads.insert(read)
                    }
                }
            }
            nodes.append(node)
        }
        addLogoutEdges(&nodes)
        checkServers(nodes)
        for index in nodes.indices {
            nodes[index].dependencies = nodes[index].reasons.keys.sorted()
        }
        return (ordered(nodes), outerReads)
    }

    private mutating func planNode(
        _ step: Step,
        scope: Scope,
        outerReads: inout Set<String>
    )
        -> Plan.Node
    {
        let session = resolveSession(step, scope: scope)
        var reasons: [String: String] = [:]
        for need in step.needs {
            if scope.ids.contains(need), need != step.id {
                reasons[need] = "needs"
            } else if scope.outerIDs.contains(need) {
                outerReads.insert(need)
            } else {
                report(step.mark, unknownStepMessage(need, in: step, scope: scope, what: "needs"))
            }
        }
        for referenced in checkReferences(step, scope: scope) where reasons[referenced] == nil {
            if scope.ids.contains(referenced) {
                reasons[referenced] = "reference"
            } else {
                outerReads.insert(referenced)
            }
        }
        if let session, session != step.id, reasons[session] == nil {
            if scope.ids.contains(session) {
                reasons[session] = "session"
            } else {
                outerReads.insert(session)
            }
        }
        return Plan.Node(
            step: step,
            dependencies: [],
            reasons: reasons,
            commandClass: step.commandClass,
            session: session
        )
    }

    private mutating func resolveSession(_ step: Step, scope: Scope) -> String? {
        if case .login = step.kind { return step.id }
        guard step.usesSession else { return nil }
        if let session = step.session {
            guard scope.loginIDs.contains(session) else {
                report(
                    step.mark,
                    "step '\(step.id)' uses session '\(session)', which is not a login step"
                )
                return nil
            }
            return session
        }
        switch scope.loginIDs.count {
        case 1: return scope.loginIDs[0]
        case 0:
            report(
                step.mark,
                "step '\(step.id)' needs a session, but the playbook has no login step"
            )
        default:
            let list = scope.loginIDs.joined(separator: ", ")
            report(
                step.mark,
                "step '\(step.id)' must say which session it uses ('session:' one of \(list))"
            )
        }
        return nil
    }

    /// A logout waits for every other step of its session in the same graph.
    private func addLogoutEdges(_ nodes: inout [Plan.Node]) {
        for index in nodes.indices {
            guard case .logout = nodes[index].step.kind, let session = nodes[index].session else {
                continue
            }
            for other in nodes
            where other.step.id != nodes[index].step.id && other.usesSession(session) {
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
                guard playbook.servers[server] == nil else { continue }
                let names = playbook.servers.keys.sorted()
                var message =
                    "step '\(node.step.id)' logs in to server '\(server)', which 'servers' does not define"
                if let close = suggestion(for: server, among: names) {
                    message += "; did you mean '\(close)'?"
                }
                report(node.step.mark, message)
            } else if playbook.servers.count != 1 {
                report(
                    node.step.mark,
                    "step '\(node.step.id)' must name its 'server' (the playbook defines \(playbook.servers.count))"
                )
            }
        }
    }

    /// Checks every path in the step's expressions; returns the steps it reads from.
    private mutating func checkReferences(_ step: Step, scope: Scope) -> [String] {
        var referenced: [String] = []
        for template in step.templates {
            for expression in template.expressions {
                for function in expression.functionNames
                where ExpressionFunctions.arities[function] == nil {
                    report(step.mark, "step '\(step.id)' calls unknown function '\(function)()'")
                }
                checkArities(expression, step: step)
                for (root, components) in expression.paths {
                    if let target = checkPath(root, components, step: step, scope: scope) {
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
        _ root: String,
        _ components: [Expression.PathComponent],
        step: Step,
        scope: Scope
    ) -> String? {
        let first: String? = if case .member(let name)? = components.first { name } else { nil }
        if scope.loopVariables.contains(root) { return nil }
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
            return checkStepPath(target, components: components, step: step, scope: scope)
        default:
            let roots = ["inputs", "env", "secrets", "steps"] + scope.loopVariables.sorted()
            var message =
                "step '\(step.id)' reads '\(root)', which is not \(Self.list(roots))"
            if let close = suggestion(for: root, among: roots) {
                message += "; did you mean '\(close)'?"
            }
            report(step.mark, message)
        }
        return nil
    }

    private static func list(_ names: [String]) -> String {
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " or " + (names.last ?? "")
    }

    private mutating func checkStepPath(
        _ target: String,
        components: [Expression.PathComponent],
        step: Step,
        scope: Scope
    ) -> String? {
        guard target != step.id else {
            report(step.mark, "step '\(step.id)' reads its own outputs; use an earlier step")
            return nil
        }
        guard scope.ids.contains(target) || scope.outerIDs.contains(target),
            let other = playbook.anyStep(withID: target)
        else {
            report(step.mark, unknownStepMessage(target, in: step, scope: scope, what: "reads"))
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
        scope: Scope,
        what: String
    )
        -> String
    {
        if name == step.id { return "step '\(step.id)' \(what) itself" }
        var message = "step '\(step.id)' \(what) step '\(name)', which does not exist"
        let candidates = scope.ids.union(scope.outerIDs).sorted()
        if let close = suggestion(for: name, among: candidates) {
            message += "; did you mean '\(close)'?"
        }
        return message
    }

    /// A topological order that keeps the file's order among independent steps (Kahn's
    /// algorithm, always taking the earliest ready step); a cycle is reported with its path.
    private mutating func ordered(_ nodes: [Plan.Node]) -> [Plan.Node] {
        let position = Dictionary(
            nodes.enumerated().map { ($1.step.id, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        var waiting = nodes.map { $0.reasons.count }
        var dependents = [[Int]](repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for dependency in node.reasons.keys {
                guard let source = position[dependency] else {
                    waiting[index] -= 1
                    continue
                }
                dependents[source].append(index)
            }
        }
        var ready = IndexHeap(nodes.indices.filter { waiting[$0] == 0 })
        var result: [Plan.Node] = []
        result.reserveCapacity(nodes.count)
        while let next = ready.pop() {
            result.append(nodes[next])
            for dependent in dependents[next] {
                waiting[dependent] -= 1
                if waiting[dependent] == 0 { ready.push(dependent) }
            }
        }
        if result.count < nodes.count {
            let placed = Set(result.map(\.step.id))
            let remaining = nodes.filter { !placed.contains($0.step.id) }
            reportCycle(remaining)
            return result + remaining
        }
        return result
    }

    private mutating func reportCycle(_ remaining: [Plan.Node]) {
        let byID = Dictionary(
            remaining.map { ($0.step.id, $0) },
            uniquingKeysWith: { first, _ in first }
        )
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
