import ChkflowCore
import ManagementAPI
import Playbook

/// What a finished step hands back to the scheduler.
struct StepOutcome: Sendable {
    var result: StepResult
    /// The session a login step opened.
    var openedSession: (any Connection)?
    /// Whether that session logged in `read-only`, so that it can have no changes to discard.
    var openedReadOnly = false
    var server: ServerSummary?
    /// The login step whose session a logout step closed.
    var closedSession: String?
    /// The once-only command whose intent is in the journal and whose reply was not read: the
    /// server may have started its work.
    var unansweredOnceOnly: String?
    /// When the last attempt's `attempt-timeout` runs out, on the run's clock; a `call` that
    /// waits for its task waits within it.
    var attemptDeadline: Double?
}

/// Everything a running step needs, copied out of the run's state.
struct StepContext: Sendable {
    var step: Step
    var node: Plan.Node
    var scope: EvaluationScope
    var session: (any Connection)?
    /// Every session open around the step, for the steps of a `for-each`.
    var sessions: [String: any Connection]
    /// Loop variables in scope, for nested `for-each` steps.
    var loopValues: [String: JSON]
    /// Outputs of outer steps, for the steps of a `for-each`.
    var outerSteps: [String: JSON]
    /// A label such as `each-domain[3]` for the steps of one item, or nil at the top.
    var label: String?
    var shared: RunShared

    var playbook: Playbook { shared.playbook }
}

/// What every graph of one run shares.
struct RunShared: Sendable {
    var playbook: Playbook
    var values: RunValues
    var environment: JSON
}

/// The scheduler's bookkeeping for one graph (the playbook, or one item of a `for-each`); owned
/// by one task, never shared.
///
/// Every operation is proportional to the step's own edges, not to the size of the graph, so
/// that a playbook of ten thousand steps schedules in linear time.
struct RunState {
    let shared: RunShared
    let nodes: [Plan.Node]
    let label: String?
    private var index: [String: Int] = [:]
    private var waiting: [Int]
    private var dependents: [[Int]]
    /// Ready steps by plan position, earliest first.
    private var ready: IndexHeap
    private var results: [StepResult?]
    /// Whether each finished step, and everything it depends on, succeeded (or was ignored).
    private var healthy: [Bool]
    /// Whether each finished step, or anything it depends on, failed.
    private var failedBefore: [Bool]
    private var outputs: [String: JSON]
    /// The outputs of the steps around a `for-each` item, as they were when the item started.
    private let outerSteps: [String: JSON]
    private let loopValues: [String: JSON]
    var sessions: [String: any Connection]
    private(set) var opened: [any Connection] = []
    private(set) var servers: [ServerSummary] = []
    private(set) var cancelled = false
    private(set) var unfinished: Int

    init(
        nodes: [Plan.Node],
        shared: RunShared,
        label: String? = nil,
        outerSteps: [String: JSON] = [:],
        loopValues: [String: JSON] = [:],
        sessions: [String: any Connection] = [:]
    ) {
        self.shared = shared
        self.nodes = nodes
        self.label = label
        self.outputs = outerSteps
        self.outerSteps = outerSteps
        self.loopValues = loopValues
        self.sessions = sessions
        unfinished = nodes.count
        waiting = Array(repeating: 0, count: nodes.count)
        dependents = Array(repeating: [], count: nodes.count)
        results = Array(repeating: nil, count: nodes.count)
        healthy = Array(repeating: true, count: nodes.count)
        failedBefore = Array(repeating: false, count: nodes.count)
        for (position, node) in nodes.enumerated() { index[node.step.id] = position }
        var initial: [Int] = []
        for (position, node) in nodes.enumerated() {
            for dependency in node.dependencies {
                guard let source = index[dependency] else { continue }
                waiting[position] += 1
                dependents[source].append(position)
            }
            if waiting[position] == 0 { initial.append(position) }
        }
        ready = IndexHeap(initial)
    }

    /// The next step whose dependencies have all ended, or nil.
    mutating func nextReady() -> Int? {
        while let position = ready.pop() {
            if results[position] == nil { return position }
        }
        return nil
    }

    /// Puts back a ready step the scheduler had no room for.
    mutating func deferReady(_ position: Int) { ready.push(position) }

    var hasReady: Bool { !ready.isEmpty }

    mutating func cancelPending() { cancelled = true }

    /// The labelled id of the step at a position, as the journal and events name it.
    func labelledID(_ position: Int) -> String {
        label.map { "\($0).\(nodes[position].step.id)" } ?? nodes[position].step.id
    }

    mutating func finish(_ position: Int, _ outcome: StepOutcome) {
        guard results[position] == nil else { return }
        let result = outcome.result
        results[position] = result
        unfinished -= 1
        let dependencies = nodes[position].dependencies.compactMap { index[$0] }
        let statusHealthy = result.status == .succeeded || result.status == .ignored
        healthy[position] = statusHealthy && dependencies.allSatisfy { healthy[$0] }
        failedBefore[position] =
            result.status.failsRun || dependencies.contains { failedBefore[$0] }
        var visible = result.outputs
        visible["status"] = .string(result.status.rawValue)
        visible["outcome"] = .string(result.status.rawValue)
        outputs[result.id] = .object(visible)
        if let session = outcome.openedSession {
            sessions[result.id] = session
            opened.append(session)
        }
        if let server = outcome.server { servers.append(server) }
        if let closed = outcome.closedSession { sessions[closed] = nil }
        for dependent in dependents[position] {
            waiting[dependent] -= 1
            if waiting[dependent] == 0 { ready.push(dependent) }
        }
    }

    /// What the step's expressions can see: only the steps it depends on (validation makes sure
    /// it reads no others), outer steps and loop variables.
    func scope(for position: Int) -> EvaluationScope {
        let node = nodes[position]
        var steps: [String: JSON] = [:]
        for dependency in node.dependencies { steps[dependency] = outputs[dependency] }
        // Outer steps, walked from their own list: walking every finished step here would
        // make a graph of N steps cost N² (found by the engine benchmark).
        for (id, value) in outerSteps where index[id] == nil { steps[id] = value }
        let dependencies = node.dependencies.compactMap { index[$0] }
        var roots: [String: JSON] = [
            "inputs": .object(shared.values.inputs), "secrets": .object(shared.values.secrets),
            "env": shared.environment, "steps": .object(steps),
        ]
        for (name, value) in loopValues { roots[name] = value }
        return EvaluationScope(
            roots: roots,
            statusFunctions: [
                "success": !cancelled && dependencies.allSatisfy { healthy[$0] },
                "failure": dependencies.contains { failedBefore[$0] }, "always": true,
                "cancelled": cancelled,
            ]
        )
    }

    /// A result when the step must not run: its condition is false, a dependency did not
    /// succeed, or the run was cancelled.
    func decideSkip(_ position: Int) -> StepResult? {
        let step = nodes[position].step
        var result = StepResult(id: step.id, kind: step.kindName, status: .skipped)
        let scope = scope(for: position)
        // As in GitHub Actions, a condition that calls no status function runs only after its
        // dependencies succeeded: `success() && condition`.
        let callsStatus =
            step.condition?.expressions.contains { expression in
                expression.functionNames.contains {
                    ExpressionFunctions.statusFunctions.contains($0)
                }
            } ?? false
        guard let condition = step.condition,
            callsStatus || scope.statusFunctions["success"] == true
        else {
            if cancelled {
                result.status = .cancelled
                result.reason = "the run was cancelled before this step started"
                return result
            }
            if scope.statusFunctions["success"] == true { return nil }
            result.reason = skipReason(for: position)
            return result
        }
        do {
            if try condition.evaluate(in: scope).json.isTruthy { return nil }
            result.reason = "its condition is false"
        } catch {
            result.status = .failed
            result.reason = "its condition could not be evaluated: \(error.message)"
        }
        return result
    }

    private func skipReason(for position: Int) -> String {
        let blockers = nodes[position].dependencies.compactMap { dependency -> String? in
            guard let source = index[dependency], let status = results[source]?.status else {
                return nil
            }
            if status == .succeeded || status == .ignored {
                return healthy[source] ? nil : "'\(dependency)', which did not run fully"
            }
            return
                "'\(dependency)' \(status == .skipped ? "was skipped" : "ended \(status.rawValue)")"
        }
        if blockers.isEmpty { return "an earlier step did not succeed" }
        return "it depends on " + blockers.joined(separator: " and ")
    }

    func context(for position: Int) -> StepContext {
        let node = nodes[position]
        return StepContext(
            step: node.step,
            node: node,
            scope: scope(for: position),
            session: node.session.flatMap { sessions[$0] },
            sessions: sessions,
            loopValues: loopValues,
            outerSteps: node.children.isEmpty ? [:] : outputs,
            label: label,
            shared: shared
        )
    }

    /// The results of every step, in plan order.
    var orderedResults: [StepResult] { results.compactMap { $0 } }
}
