import ChkflowCore
import Engine
import ManagementAPI
import Playbook

/// The change window as the report records it.
public struct ReportWindow: Sendable, Equatable {
    /// Seconds since 1970 (UTC).
    public var closes: Double
    /// Seconds kept free before `closes`.
    public var reserve: Double

    public init(closes: Double, reserve: Double) {
        self.closes = closes
        self.reserve = reserve
    }

    /// The playbook's window.
    public init(_ window: Window) {
        self.init(closes: window.closes, reserve: window.reserve)
    }
}

/// The JSON report of a run, as `schemas/report.schema.json` describes it.
public enum Report {
    /// The version of the report format; bumped on any incompatible change.
    public static let formatVersion = 1

    /// The statuses a step or item can end with, in the order reports list them.
    static let statuses: [StepStatus] = [
        .succeeded, .failed, .skipped, .refused, .timedOut, .cancelled, .ignored,
    ]

    /// The report as a JSON value.
    ///
    /// - Parameters:
    ///   - run: the engine's result.
    ///   - exitCode: the status the process exits with.
    ///   - window: the playbook's change window, if it has one.
    ///   - chkflowVersion: the version of the program that ran the playbook.
    /// - Returns: the report, ready for `prettyPrinted()`.
    public static func json(
        _ run: RunResult,
        exitCode: Int,
        window: ReportWindow? = nil,
        chkflowVersion: String? = nil
    ) -> JSON {
        var members: [String: JSON] = [
            "chkflow-report": .int(Int64(formatVersion)),
            "run-id": .string(run.runID),
            "playbook": [
                "name": .string(run.playbookName), "file": .string(run.playbookFile),
                "sha256": .string(run.playbookSHA256),
            ],
            "started": time(run.started),
            "ended": time(run.ended),
            "duration-seconds": seconds(run.ended - run.started),
            "outcome": .string(run.outcome.rawValue),
            "exit-code": .int(Int64(exitCode)),
            "servers": .array(run.servers.map(server)),
            "steps": .array(run.steps.map(step)),
            "totals": totals(run),
        ]
        if let chkflowVersion { members["chkflow-version"] = .string(chkflowVersion) }
        if let window {
            members["window"] = [
                "closes": time(window.closes), "reserve-seconds": seconds(window.reserve),
                "latest-end": time(window.closes - window.reserve),
            ]
        }
        return .object(members)
    }

    static func time(_ value: Double) -> JSON { .string(RFC3339.format(value)) }

    /// Seconds rounded to the millisecond, the precision of every time in the report.
    static func seconds(_ value: Double) -> JSON {
        .double((value * 1000).rounded() / 1000)
    }

    private static func server(_ server: ServerSummary) -> JSON {
        [
            "name": .string(server.name), "url": .string(server.url),
            "api-server-version": server.apiServerVersion.map(JSON.string) ?? .null,
            "simulated": .bool(server.simulated),
        ]
    }
}

// MARK: - Steps, items and attempts

extension Report {
    /// Outputs that the report shows elsewhere (`task`, `items`) or never (`response`, the raw
    /// reply, which holds the session id of a login).
    static let hiddenOutputs: Set<String> = ["response", "task", "items"]

    static func step(_ step: StepResult) -> JSON {
        var members: [String: JSON] = [
            "id": .string(step.id), "kind": .string(step.kind),
            "status": .string(step.status.rawValue),
            "attempts": .array(
                step.attempts.enumerated().map { position, attempt in
                    self.attempt(attempt, isLast: position == step.attempts.count - 1, of: step)
                }
            ),
        ]
        if let reason = step.reason { members["reason"] = .string(reason) }
        if let started = step.started { members["started"] = time(started) }
        if let ended = step.ended { members["ended"] = time(ended) }
        if let duration = step.duration { members["duration-seconds"] = seconds(duration) }
        if let taskID = step.taskID { members["task-id"] = .string(taskID) }
        if let task = step.task { members["task"] = self.task(task) }
        if let error = step.error { members["error"] = self.error(error) }
        if !step.items.isEmpty { members["items"] = .array(step.items.map(item)) }
        let outputs = step.outputs.filter { !hiddenOutputs.contains($0.key) }
        if !outputs.isEmpty { members["outputs"] = Redaction.redacted(.object(outputs)) }
        return .object(members)
    }

    private static func task(_ task: TaskInfo) -> JSON {
        var members: [String: JSON] = [
            "task-id": .string(task.taskID), "status": .string(task.status.rawValue),
            "progress": .int(Int64(task.progress)), "details": Redaction.redacted(task.details),
        ]
        if let name = task.name { members["name"] = .string(name) }
        return .object(members)
    }

    private static func item(_ item: ItemResult) -> JSON {
        var members: [String: JSON] = [
            "index": .int(Int64(item.index)), "item": Redaction.redacted(item.item),
            "status": .string(item.status.rawValue), "steps": .array(item.steps.map(step)),
        ]
        let starts = item.steps.compactMap(\.started)
        let ends = item.steps.compactMap(\.ended)
        if let first = starts.min() { members["started"] = time(first) }
        if let last = ends.max() { members["ended"] = time(last) }
        if let first = starts.min(), let last = ends.max() {
            members["duration-seconds"] = seconds(last - first)
        }
        return .object(members)
    }

    /// An attempt without an error succeeded, unless it is the last one of a step that timed out
    /// or was cancelled while it ran (a wait is one long attempt).
    private static func attempt(_ attempt: Attempt, isLast: Bool, of step: StepResult) -> JSON {
        var outcome = attempt.error == nil ? "succeeded" : "failed"
        if attempt.error == nil, isLast, step.status == .timedOut || step.status == .cancelled {
            outcome = step.status.rawValue
        }
        var members: [String: JSON] = [
            "number": .int(Int64(attempt.number)),
            "started": time(attempt.started),
            "ended": time(attempt.ended),
            "outcome": .string(outcome),
        ]
        if let error = attempt.error { members["error"] = self.error(error) }
        if let wait = attempt.waitBefore { members["wait-before-seconds"] = seconds(wait) }
        if attempt.timedOut { members["timed-out"] = true }
        return .object(members)
    }

    static func error(_ error: ErrorSummary) -> JSON {
        var members: [String: JSON] = ["message": .string(error.message)]
        if let code = error.code { members["code"] = .string(code) }
        if let status = error.httpStatus { members["http-status"] = .int(Int64(status)) }
        if !error.errors.isEmpty { members["errors"] = .array(error.errors.map(JSON.string)) }
        if !error.warnings.isEmpty { members["warnings"] = .array(error.warnings.map(JSON.string)) }
        if !error.blockingErrors.isEmpty {
            members["blocking-errors"] = .array(error.blockingErrors.map(JSON.string))
        }
        return .object(members)
    }
}

// MARK: - Totals

extension Report {
    private static func totals(_ run: RunResult) -> JSON {
        var items: [ItemResult] = []
        var itemSteps: [StepResult] = []
        collect(run.steps, items: &items, itemSteps: &itemSteps)
        var totals: [String: JSON] = [
            "steps": counts(run.steps.map(\.status)),
            "items": counts(items.map(\.status)),
            "item-steps": counts(itemSteps.map(\.status)),
            "api-calls": .int(Int64(run.apiCalls)),
            "logins": .int(Int64(run.logins)),
            "waiting-seconds": seconds(run.waitingSeconds),
            "cleanup-logouts": .array(run.cleanupLogouts.map(JSON.string)),
        ]
        if !run.sessionsLeftOpen.isEmpty {
            totals["sessions-left-open"] = .array(run.sessionsLeftOpen.map(JSON.string))
        }
        if !run.discardsFailed.isEmpty {
            totals["discards-failed"] = .array(run.discardsFailed.map(JSON.string))
        }
        return .object(totals)
    }

    /// Every item of every loop, and every step run inside an item, however deeply nested.
    private static func collect(
        _ steps: [StepResult],
        items: inout [ItemResult],
        itemSteps: inout [StepResult]
    ) {
        for step in steps {
            for item in step.items {
                items.append(item)
                itemSteps.append(contentsOf: item.steps)
                collect(item.steps, items: &items, itemSteps: &itemSteps)
            }
        }
    }

    static func counts(_ statuses: [StepStatus]) -> JSON {
        var result: [String: JSON] = [:]
        for status in Self.statuses {
            result[status.rawValue] = .int(Int64(statuses.filter { $0 == status }.count))
        }
        return .object(result)
    }
}

/// Masks members that carry credentials, whatever object they appear in.
///
/// The engine keeps secrets and session ids out of results; this is a second line for values the
/// report copies from server replies (outputs, task details, loop items).
enum Redaction {
    /// Member names whose values are replaced.
    static let keys: Set<String> = ["sid", "password", "api-key", "x-chkp-sid", "new-password"]
    static let mask: JSON = "(redacted)"

    static func redacted(_ value: JSON) -> JSON {
        switch value {
        case .array(let items): return .array(items.map(redacted))
        case .object(let members):
            var copy: [String: JSON] = [:]
            for (key, member) in members {
                copy[key] = keys.contains(key.lowercased()) ? mask : redacted(member)
            }
            return .object(copy)
        default: return value
        }
    }
}
