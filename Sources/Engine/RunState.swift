import ChkflowCore
import ManagementAPI
import Playbook

/// What a finished step hands back to the scheduler.
struct StepOutcome: Sendable {
    var result: StepResult
    /// The session a login step opened.
    var openedSession: Session?
    var server: ServerSummary?
    /// The login step whose session a logout step closed.
    var closedSession: String?
}

/// Everything a running step needs, copied out of the run's state.
struct StepContext: Sendable {
    var step: Step
    var node: Plan.Node
    var scope: EvaluationScope
    var session: Session?
    var playbook: Playbook
}

/// The scheduler's bookkeeping; owned by one task, never shared.
struct RunState {
    let plan: Plan
    let values: RunValues
    let environment: [String: String]
    private var nodes: [String: Plan.Node] = [:]
    private var pending: [String]
    private var running: Set<String> = []
    private var results: [String: StepResult] = [:]
    var sessions: [String: Session] = [:]
    private var everySession: [Session] = []
    private var servers: [ServerSummary] = []
    private var cancelled = false

    init(plan: Plan, values: RunValues, environment: [String: String]) {
        self.plan = plan
        self.values = values
        self.environment = environment
        self.pending = plan.nodes.map(\.step.id)
        for node in plan.nodes { nodes[node.step.id] = node }
    }

    /// Pending steps whose dependencies have all ended, in plan order.
    func readySteps() -> [String] {
        pending.filter { id in
            nodes[id]?.dependencies.allSatisfy { results[$0] != nil } ?? false
        }
    }

    mutating func markRunning(_ id: String) {
        pending.removeAll { $0 == id }
        running.insert(id)
    }

    mutating func cancelPending() { cancelled = true }

    mutating func finish(_ outcome: StepOutcome) {
        let id = outcome.result.id
        pending.removeAll { $0 == id }
        running.remove(id)
        results[id] = outcome.result
        if let session = outcome.openedSession {
            sessions[id] = session
            everySession.append(session)
        }
        if let server = outcome.server { servers.append(server) }
        if let closed = outcome.closedSession { sessions[closed] = nil }
    }

    /// The statuses of every step this one depends on, directly or not.
    private func ancestorStatuses(of id: String) -> [StepStatus] {
        var seen: Set<String> = []
        var stack = nodes[id]?.dependencies ?? []
        var statuses: [StepStatus] = []
        while let next = stack.popLast() {
            guard seen.insert(next).inserted else { continue }
            if let status = results[next]?.status { statuses.append(status) }
            stack += nodes[next]?.dependencies ?? []
        }
        return statuses
    }

    func scope(for id: String) -> EvaluationScope {
        var steps: [String: JSON] = [:]
        for (stepID, result) in results {
            var outputs = result.outputs
            outputs["status"] = .string(result.status.rawValue)
            outputs["outcome"] = .string(result.status.rawValue)
            steps[stepID] = .object(outputs)
        }
        let statuses = ancestorStatuses(of: id)
        let failed = statuses.contains { $0.failsRun }
        let succeeded = statuses.allSatisfy { $0 == .succeeded || $0 == .ignored }
        return EvaluationScope(
            roots: [
                "inputs": .object(values.inputs), "secrets": .object(values.secrets),
                "env": .object(environment.mapValues(JSON.string)), "steps": .object(steps),
            ],
            statusFunctions: [
                "success": succeeded && !cancelled, "failure": failed, "always": true,
                "cancelled": cancelled,
            ]
        )
    }

    /// A result when the step must not run: its condition is false, or the run was cancelled.
    func decideSkip(_ id: String) -> StepResult? {
        guard let node = nodes[id] else { return nil }
        let step = node.step
        var result = StepResult(id: id, kind: step.kindName, status: .skipped)
        let scope = scope(for: id)
        guard let condition = step.condition else {
            if cancelled {
                result.status = .cancelled
                result.reason = "the run was cancelled before this step started"
                return result
            }
            if scope.statusFunctions["success"] == true { return nil }
            result.reason = skipReason(for: id)
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

    private func skipReason(for id: String) -> String {
        let blockers = (nodes[id]?.dependencies ?? []).compactMap { dependency -> String? in
            guard let status = results[dependency]?.status, status != .succeeded, status != .ignored
            else { return nil }
            return
                "'\(dependency)' \(status == .skipped ? "was skipped" : "ended \(status.rawValue)")"
        }
        if blockers.isEmpty { return "an earlier step did not succeed" }
        return "it depends on " + blockers.joined(separator: " and ")
    }

    func context(for id: String) -> StepContext {
        let node = nodes[id]!
        return StepContext(
            step: node.step,
            node: node,
            scope: scope(for: id),
            session: node.session.flatMap { sessions[$0] },
            playbook: plan.playbook
        )
    }

    func result(
        runID: String,
        started: Double,
        ended: Double,
        cleanup: [String],
        simulated: Bool
    )
        -> RunResult
    {
        let ordered = plan.nodes.compactMap { results[$0.step.id] }
        let outcome: RunResult.Outcome =
            cancelled ? .cancelled : ordered.contains { $0.status.failsRun } ? .failed : .succeeded
        let waiting = ordered.filter { $0.kind == "wait" }.compactMap(\.duration).reduce(0, +)
        return RunResult(
            runID: runID,
            playbookName: plan.playbook.name,
            playbookFile: plan.playbook.file,
            playbookSHA256: plan.playbook.sha256,
            started: started,
            ended: ended,
            outcome: outcome,
            steps: ordered,
            servers: servers,
            apiCalls: 0,
            logins: 0,
            waitingSeconds: waiting,
            cleanupLogouts: cleanup
        )
    }

    /// Every session the run opened, for the call totals.
    var openedSessions: [Session] { everySession }
}
