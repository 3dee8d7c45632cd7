import ChkflowCore
import PlaybookYAML

/// Builds the graph of a playbook and checks what spans steps: references, sessions, cycles.
///
/// A `for-each` step's steps form a graph of their own, planned in a nested scope that also sees
/// the outer steps.
struct Planner {
    let playbook: Playbook
    /// What the decoder could not read; references to it are not reported again.
    let gaps: DecodingGaps
    var diagnostics: [Diagnostic] = []
    /// The kind of every step at any depth by id, and the for-each step around it.
    ///
    /// Kinds, loops and positions are small numbers, not whole steps or strings, which keeps
    /// the index at 24 bytes a step with the id on large playbooks.
    let stepsByID: StepIndex
    /// The ids of the for-each steps, which `Place.loop` counts.
    let loopIDs: [String]
    /// The number `Place.loop` gives each for-each step's own steps, by the step's id.
    let loopNumbers: [String: Int32]

    /// Where a step is: its kind, as an index into `PlaybookDecoder.stepKinds`, and the
    /// for-each step around it, as an index into `loopIDs` (-1 at the top).
    struct Place {
        let loop: Int32
        /// The kind in the low 4 bits, the position above them.
        private let kindAndIndex: UInt32

        init(kind: UInt8, loop: Int32, index: Int32) {
            self.loop = loop
            kindAndIndex = UInt32(kind) & 0xF | UInt32(truncatingIfNeeded: index) << 4
        }

        var kind: UInt8 { UInt8(kindAndIndex & 0xF) }
        /// The step's position in the list of steps of its graph.
        var index: Int32 { Int32(kindAndIndex >> 4) }
    }

    func kind(of id: String) -> String? {
        stepsByID[id].map { PlaybookDecoder.stepKinds[Int($0.kind)] }
    }

    func loop(of id: String) -> String? {
        guard let loop = stepsByID[id]?.loop, loop >= 0 else { return nil }
        return loopIDs[Int(loop)]
    }

    /// The steps of one graph: the top level, or the steps of one for-each step.
    ///
    /// Membership is read from the planner's index of steps, so a graph costs no table of its
    /// own.
    struct Graph {
        let index: StepIndex
        /// The for-each step whose steps these are, as `Place.loop` counts; -1 at the top.
        let loop: Int32

        func contains(_ id: String) -> Bool { index[id]?.loop == loop }
    }

    /// Every step's place by id, in one list sorted by id and searched by halves.
    ///
    /// A dictionary of 10,000 steps keeps 16,384 slots of 28 bytes; the list keeps 24 bytes a
    /// step, and a search costs about 14 comparisons of short ids.
    struct StepIndex {
        /// Sorted by id; ids are unique.
        let entries: [(id: String, place: Place)]

        init(_ entries: [(id: String, place: Place)]) {
            self.entries = entries.sorted { $0.id < $1.id }
        }

        subscript(id: String) -> Place? {
            var low = 0
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].id < id {
                    low = middle + 1
                } else {
                    high = middle
                }
            }
            return low < entries.count && entries[low].id == id ? entries[low].place : nil
        }
    }

    /// What the steps being planned can see around them.
    struct Scope {
        /// The steps in this graph.
        var ids: Graph
        /// The steps of each enclosing graph, outermost first.
        var outerGraphs: [Graph] = []

        /// Whether a step of an enclosing graph has this id.
        func isOuter(_ id: String) -> Bool { outerGraphs.contains { $0.contains(id) } }

        /// Every id visible here, for suggestions.
        var visibleIDs: [String] {
            let loops = Set(([ids] + outerGraphs).map(\.loop))
            return ids.index.entries.compactMap { loops.contains($0.place.loop) ? $0.id : nil }
        }
        /// Login steps visible here: this graph's and the enclosing ones'.
        var loginIDs: [String]
        /// Names of loop variables in scope.
        var loopVariables: Set<String> = []
    }

    init(playbook: Playbook, gaps: DecodingGaps = DecodingGaps()) {
        self.playbook = playbook
        self.gaps = gaps
        var entries: [(id: String, place: Place)] = []
        var seen: Set<String> = []
        var loops: [String] = []
        func visit(_ steps: [Step], loop: Int32) {
            for (position, step) in steps.enumerated() where seen.insert(step.id).inserted {
                let kind = PlaybookDecoder.stepKinds.firstIndex(of: step.kindName) ?? 0
                let place = Place(kind: UInt8(kind), loop: loop, index: Int32(position))
                entries.append((step.id, place))
                if case .forEach(let inner) = step.kind {
                    loops.append(step.id)
                    visit(inner.steps, loop: Int32(loops.count - 1))
                }
            }
        }
        visit(playbook.steps, loop: -1)
        seen = []
        self.stepsByID = StepIndex(entries)
        self.loopIDs = loops
        self.loopNumbers = Dictionary(
            loops.enumerated().map { ($1, Int32($0)) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    mutating func report(_ mark: Mark, _ message: String) {
        diagnostics.append(Diagnostic(file: playbook.file, mark: mark, message: message))
    }

    mutating func plan() -> Plan {
        let steps = playbook.steps
        let top = Graph(index: stepsByID, loop: -1)
        let scope = Scope(ids: top, loginIDs: Self.loginIDs(steps))
        let (nodes, _) = planGraph(steps, scope: scope)
        return Plan(playbook: playbook, nodes: nodes)
    }

    static func loginIDs(_ steps: [Step]) -> [String] {
        steps.filter { if case .login = $0.kind { true } else { false } }.map(\.id)
    }

    /// Plans one graph; returns its nodes in order and the outer steps it reads.
    private mutating func planGraph(_ steps: [Step], scope: Scope) -> ([Plan.Node], Set<String>) {
        var nodes: [Plan.Node] = []
        nodes.reserveCapacity(steps.count)
        var outerReads: Set<String> = []
        for step in steps {
            var node = planNode(step, scope: scope, outerReads: &outerReads)
            if case .forEach(let loop) = step.kind {
                // Ids are unique in the whole playbook, so no inner id hides an outer one.
                let inner = Scope(
                    ids: Graph(index: stepsByID, loop: loopNumbers[step.id] ?? -2),
                    outerGraphs: scope.outerGraphs + [scope.ids],
                    loginIDs: scope.loginIDs + Self.loginIDs(loop.steps),
                    loopVariables: scope.loopVariables.union([loop.variable])
                )
                let (children, reads) = planGraph(loop.steps, scope: inner)
                node.children = children
                for read in reads {
                    if scope.ids.contains(read) {
                        if read != step.id { node.addDependency(read, .reference) }
                    } else {
                        outerReads.insert(read)
                    }
                }
            }
            nodes.append(node)
        }
        addLogoutEdges(&nodes)
        checkServers(nodes)
        for index in nodes.indices { nodes[index].sortDependencies() }
        order(&nodes)
        return (nodes, outerReads)
    }

    private mutating func planNode(
        _ step: Step,
        scope: Scope,
        outerReads: inout Set<String>
    )
        -> Plan.Node
    {
        let session = resolveSession(step, scope: scope)
        var node = Plan.Node(step: step, session: session)
        for (index, need) in step.needs.enumerated() {
            if scope.ids.contains(need), need != step.id {
                node.addDependency(need, .needs)
            } else if scope.isOuter(need) {
                outerReads.insert(need)
            } else if need == step.id || !gaps.lost("steps", need) {
                let mark = index < step.needMarks.count ? step.needMarks[index] : step.mark
                report(mark, unknownStepMessage(need, in: step, scope: scope, what: "needs"))
            }
        }
        for referenced in checkReferences(step, scope: scope)
        where !node.dependencies.contains(referenced) {
            if scope.ids.contains(referenced) {
                node.addDependency(referenced, .reference)
            } else {
                outerReads.insert(referenced)
            }
        }
        if let session, session != step.id, !node.dependencies.contains(session) {
            if scope.ids.contains(session) {
                node.addDependency(session, .session)
            } else {
                outerReads.insert(session)
            }
        }
        return node
    }

    private mutating func resolveSession(_ step: Step, scope: Scope) -> String? {
        if case .login = step.kind { return step.id }
        guard step.usesSession else { return nil }
        if let session = step.session {
            guard scope.loginIDs.contains(session) else {
                if !gaps.lost("steps", session) {
                    report(step.sessionMark ?? step.mark, unknownSessionMessage(session, step))
                }
                return nil
            }
            return session
        }
        if gaps.lostLogin { return scope.loginIDs.count == 1 ? scope.loginIDs[0] : nil }
        switch scope.loginIDs.count {
        case 1: return scope.loginIDs[0]
        case 0:
            report(
                step.mark,
                "step '\(step.id)' sends requests, but the playbook has no login step to start a session"
            )
        default:
            report(
                step.mark,
                "step '\(step.id)' must say which session it uses with 'session': \(Self.list(scope.loginIDs, "or"))"
            )
        }
        return nil
    }

    private func unknownSessionMessage(_ session: String, _ step: Step) -> String {
        guard let kind = kind(of: session) else {
            return "step '\(step.id)' uses session '\(session)', but there is no step '\(session)'"
        }
        if kind == "login" {
            return
                "step '\(step.id)' uses session '\(session)', which it cannot see: that login runs inside a for-each step"
        }
        return
            "step '\(step.id)' uses session '\(session)', but '\(session)' is \(Self.article(kind)) \(kind) step, not a login step"
    }

    /// A logout waits for every other step of its session in the same graph.
    private func addLogoutEdges(_ nodes: inout [Plan.Node]) {
        let logouts = nodes.indices.filter {
            if case .logout = nodes[$0].step.kind { nodes[$0].session != nil } else { false }
        }
        for index in logouts {
            guard let session = nodes[index].session else { continue }
            // The users are found first, so the nodes are not copied while one of them changes.
            let users = nodes.indices.filter { other in
                if case .logout = nodes[other].step.kind { return false }
                return nodes[other].usesSession(session)
            }
            // The users are distinct steps, so only the logout's own edges can repeat one; a
            // table of them is built only when there are many.
            let existing = nodes[index].dependencies
            let table = existing.count > 16 ? Set(existing) : []
            nodes[index].dependencies.reserveCapacity(existing.count + users.count)
            for other in users {
                let id = nodes[other].step.id
                let isKnown = existing.count > 16 ? table.contains(id) : existing.contains(id)
                if !isKnown { nodes[index].appendDependency(id, .session) }
            }
        }
    }

    private mutating func checkServers(_ nodes: [Plan.Node]) {
        for node in nodes {
            guard case .login(let login) = node.step.kind else { continue }
            let id = node.step.id
            if gaps.wholeSections.contains("servers") || !gaps.servers.isEmpty { continue }
            if let server = login.server {
                guard playbook.servers[server] == nil else { continue }
                let names = playbook.servers.keys.sorted()
                var message =
                    "step '\(id)' logs in to server '\(server)', which 'servers' does not define"
                if let close = suggestion(for: server, among: names) {
                    message += "; did you mean '\(close)'?"
                }
                report(login.serverMark ?? node.step.mark, message)
            } else if playbook.servers.isEmpty {
                report(
                    node.step.mark,
                    "step '\(id)' logs in, but the playbook defines no 'servers' to log in to"
                )
            } else if playbook.servers.count > 1 {
                let names = Self.list(playbook.servers.keys.sorted(), "or")
                report(node.step.mark, "step '\(id)' must name its 'server': \(names)")
            }
        }
    }

    /// Checks every path in the step's expressions; returns the steps it reads from.
    private mutating func checkReferences(_ step: Step, scope: Scope) -> [String] {
        var referenced: [String] = []
        for template in step.templates {
            for (expression, expressionMark) in template.expressionsWithMarks {
                let mark = expressionMark ?? step.mark
                checkCalls(expression, step: step, at: mark)
                for (root, components) in expression.paths {
                    let target = checkPath(root, components, step: step, scope: scope, at: mark)
                    if let target { referenced.append(target) }
                }
            }
        }
        return referenced
    }

    /// Reports unknown functions and wrong numbers of arguments.
    private mutating func checkCalls(_ expression: Expression, step: Step, at mark: Mark) {
        switch expression {
        case .literal, .path: return
        case .not(let inner): checkCalls(inner, step: step, at: mark)
        case .binary(_, let left, let right):
            checkCalls(left, step: step, at: mark)
            checkCalls(right, step: step, at: mark)
        case .call(let name, let arguments):
            if let arity = ExpressionFunctions.arities[name] {
                if !arity.contains(arguments.count) {
                    report(
                        mark,
                        "step '\(step.id)' calls \(name)() with \(Self.count(arguments.count)); it takes \(Self.describe(arity))"
                    )
                }
            } else {
                var message = "step '\(step.id)' calls unknown function '\(name)()'"
                let names = ExpressionFunctions.arities.keys.sorted()
                if let close = suggestion(for: name, among: names) {
                    message += "; did you mean '\(close)()'?"
                }
                report(mark, message)
            }
            for argument in arguments { checkCalls(argument, step: step, at: mark) }
        }
    }

    private static func count(_ number: Int) -> String {
        switch number {
        case 0: "no arguments"
        case 1: "1 argument"
        default: "\(number) arguments"
        }
    }

    private static func describe(_ arity: ClosedRange<Int>) -> String {
        if arity.lowerBound == arity.upperBound { return count(arity.lowerBound) }
        return "\(arity.lowerBound) to \(arity.upperBound) arguments"
    }

    private mutating func checkPath(
        _ root: String,
        _ components: [Expression.PathComponent],
        step: Step,
        scope: Scope,
        at mark: Mark
    ) -> String? {
        let first: String? = if case .member(let name)? = components.first { name } else { nil }
        if scope.loopVariables.contains(root) { return nil }
        switch root {
        case "env": return nil
        case "inputs":
            let names = playbook.inputs.map(\.name)
            if let name = first, !names.contains(name), !gaps.lost("inputs", name) {
                report(mark, undeclared("input", name, step: step, among: names))
            }
        case "secrets":
            let names = playbook.secrets.keys.sorted()
            if let name = first, playbook.secrets[name] == nil, !gaps.lost("secrets", name) {
                report(mark, undeclared("secret", name, step: step, among: names))
            }
        case "steps":
            guard let target = first else {
                report(mark, "step '\(step.id)' reads 'steps' without naming a step")
                return nil
            }
            return checkStepPath(target, components: components, step: step, scope: scope, at: mark)
        default:
            let roots = ["inputs", "env", "secrets", "steps"] + scope.loopVariables.sorted()
            var message =
                "step '\(step.id)' reads '\(root)', which is not \(Self.list(roots, "or"))"
            if let close = suggestion(for: root, among: roots) {
                message += "; did you mean '\(close)'?"
            }
            report(mark, message)
        }
        return nil
    }

    private func undeclared(
        _ what: String,
        _ name: String,
        step: Step,
        among names: [String]
    )
        -> String
    {
        var message = "step '\(step.id)' reads \(what) '\(name)', which '\(what)s' does not declare"
        if let close = suggestion(for: name, among: names) {
            message += "; did you mean '\(close)'?"
        }
        return message
    }

    static func article(_ word: String) -> String {
        guard let first = word.first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }

    static func list(_ names: [String], _ conjunction: String) -> String {
        guard names.count > 1 else { return names.first ?? "" }
        return names.dropLast().joined(separator: ", ") + " \(conjunction) " + (names.last ?? "")
    }

    private mutating func checkStepPath(
        _ target: String,
        components: [Expression.PathComponent],
        step: Step,
        scope: Scope,
        at mark: Mark
    ) -> String? {
        guard target != step.id else {
            report(mark, "step '\(step.id)' reads its own outputs; use an earlier step")
            return nil
        }
        guard scope.ids.contains(target) || scope.isOuter(target),
            let kind = kind(of: target)
        else {
            if !gaps.lost("steps", target) {
                report(mark, unknownStepMessage(target, in: step, scope: scope, what: "reads"))
            }
            return nil
        }
        let outputs = Step.outputNames(ofKind: kind)
        if components.count > 1, case .member(let output) = components[1],
            !outputs.contains(output)
        {
            let list = outputs.joined(separator: ", ")
            report(
                mark,
                "step '\(step.id)' reads 'steps.\(target).\(output)', but a \(kind) step has no output '\(output)' (it has \(list))"
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
        if let loop = loop(of: name) {
            return
                "step '\(step.id)' \(what) step '\(name)', which runs inside the for-each step '\(loop)' and cannot be seen from outside it"
        }
        var message = "step '\(step.id)' \(what) step '\(name)', which does not exist"
        let candidates = scope.visibleIDs
        if let close = suggestion(for: name, among: candidates) {
            message += "; did you mean '\(close)'?"
        }
        return message
    }

    /// A topological order that keeps the file's order among independent steps (Kahn's
    /// algorithm, always taking the earliest ready step); a cycle is reported with its path.
    private mutating func order(_ nodes: inout [Plan.Node]) {
        var waiting = nodes.map { Int32($0.dependencies.count) }
        // The dependents of each node in one flat list, those of node k at
        // `dependents[starts[k]..<starts[k + 1]]`: a list per node costs 50 bytes or more each.
        // Counted first, then filled from the end of each range down, so that neither a list
        // of the edges nor a second table of positions is needed.
        var starts = [Int32](repeating: 0, count: nodes.count + 1)
        for (index, node) in nodes.enumerated() {
            for dependency in node.dependencies {
                if let source = position(of: dependency, in: nodes) {
                    starts[source] += 1
                } else {
                    waiting[index] -= 1
                }
            }
        }
        for index in nodes.indices { starts[index + 1] += starts[index] }
        var dependents = [Int32](repeating: 0, count: Int(starts[nodes.count]))
        for (index, node) in nodes.enumerated() {
            for dependency in node.dependencies {
                guard let source = position(of: dependency, in: nodes) else { continue }
                starts[source] -= 1
                dependents[Int(starts[source])] = Int32(index)
            }
        }
        var ready = IndexHeap(nodes.indices.filter { waiting[$0] == 0 })
        var order: [Int] = []
        order.reserveCapacity(nodes.count)
        while let next = ready.pop() {
            order.append(next)
            for slot in Int(starts[next])..<Int(starts[next + 1]) {
                let dependent = Int(dependents[slot])
                waiting[dependent] -= 1
                if waiting[dependent] == 0 { ready.push(dependent) }
            }
        }
        if order.count < nodes.count {
            let remaining = nodes.indices.filter { waiting[$0] > 0 }
            reportCycle(remaining.map { nodes[$0] })
            order += remaining
        }
        Self.permute(&nodes, into: order)
    }

    /// Where the step `id` is among `nodes`, the graph being ordered; nil when it is elsewhere.
    ///
    /// The index of steps knows each step's place in its own graph, so the graph needs no table
    /// of its own.
    private func position(of id: String, in nodes: [Plan.Node]) -> Int? {
        guard let index = stepsByID[id].map({ Int($0.index) }), index < nodes.count,
            nodes[index].step.id == id
        else { return nil }
        return index
    }

    /// Puts `nodes[order[k]]` at position k, in place, so a large graph is not held twice.
    private static func permute(_ nodes: inout [Plan.Node], into order: [Int]) {
        var placed = [Bool](repeating: false, count: order.count)
        for start in order.indices where !placed[start] {
            let first = nodes[start]
            var target = start
            while true {
                placed[target] = true
                let source = order[target]
                if source == start {
                    nodes[target] = first
                    break
                }
                nodes[target] = nodes[source]
                target = source
            }
        }
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
            guard let next = node.dependencies.first(where: { byID[$0] != nil }) else {
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
