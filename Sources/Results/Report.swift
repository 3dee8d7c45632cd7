import ChkflowCore
import Engine
import ManagementAPI
import Playbook

/// The JSON report of a run, as `schemas/report.schema.json` describes it.
public enum Report {
    /// The version of the report format; bumped on any incompatible change.
    public static let formatVersion = 1

    /// The report as a JSON value.
    public static func json(_ run: RunResult, exitCode: Int) -> JSON {
        [
            "chkflow-report": .int(Int64(formatVersion)),
            "run-id": .string(run.runID),
            "playbook": [
                "name": .string(run.playbookName), "file": .string(run.playbookFile),
                "sha256": .string(run.playbookSHA256),
            ],
            "started": .string(RFC3339.format(run.started)),
            "ended": .string(RFC3339.format(run.ended)),
            "duration-seconds": seconds(run.ended - run.started),
            "outcome": .string(run.outcome.rawValue),
            "exit-code": .int(Int64(exitCode)),
            "servers": .array(run.servers.map(server)),
            "steps": .array(run.steps.map(step)),
            "totals": totals(run),
        ]
    }

    private static func totals(_ run: RunResult) -> JSON {
        var counts: [String: JSON] = [:]
        for status in [
            "succeeded", "failed", "skipped", "refused", "timed-out", "cancelled", "ignored",
        ] {
            counts[status] = .int(Int64(run.steps.filter { $0.status.rawValue == status }.count))
        }
        return [
            "steps": .object(counts), "api-calls": .int(Int64(run.apiCalls)),
            "logins": .int(Int64(run.logins)), "waiting-seconds": seconds(run.waitingSeconds),
            "cleanup-logouts": .array(run.cleanupLogouts.map(JSON.string)),
        ]
    }

    private static func server(_ server: ServerSummary) -> JSON {
        [
            "name": .string(server.name), "url": .string(server.url),
            "api-server-version": server.apiServerVersion.map(JSON.string) ?? .null,
            "simulated": .bool(server.simulated),
        ]
    }

    private static func step(_ step: StepResult) -> JSON {
        var members: [String: JSON] = [
            "id": .string(step.id), "kind": .string(step.kind),
            "status": .string(step.status.rawValue),
            "attempts": .array(step.attempts.map(attempt)),
        ]
        if let reason = step.reason { members["reason"] = .string(reason) }
        if let started = step.started { members["started"] = .string(RFC3339.format(started)) }
        if let ended = step.ended { members["ended"] = .string(RFC3339.format(ended)) }
        if let duration = step.duration { members["duration-seconds"] = seconds(duration) }
        if let taskID = step.taskID { members["task-id"] = .string(taskID) }
        if let task = step.task {
            members["task"] = [
                "status": .string(task.status.rawValue), "progress": .int(Int64(task.progress)),
                "details": task.details,
            ]
        }
        if let error = step.error { members["error"] = self.error(error) }
        if !step.items.isEmpty { members["items"] = .array(step.items.map(item)) }
        let outputs = step.outputs.filter { $0.key != "response" && $0.key != "task" }
        if !outputs.isEmpty { members["outputs"] = .object(outputs) }
        return .object(members)
    }

    private static func item(_ item: ItemResult) -> JSON {
        [
            "index": .int(Int64(item.index)), "item": item.item,
            "status": .string(item.status.rawValue), "steps": .array(item.steps.map(step)),
        ]
    }

    private static func attempt(_ attempt: Attempt) -> JSON {
        var members: [String: JSON] = [
            "number": .int(Int64(attempt.number)),
            "started": .string(RFC3339.format(attempt.started)),
            "ended": .string(RFC3339.format(attempt.ended)),
            "outcome": .string(attempt.error == nil ? "succeeded" : "failed"),
        ]
        if let error = attempt.error { members["error"] = self.error(error) }
        if let wait = attempt.waitBefore { members["wait-before-seconds"] = seconds(wait) }
        return .object(members)
    }

    private static func error(_ error: ErrorSummary) -> JSON {
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

    private static func seconds(_ value: Double) -> JSON {
        .double((value * 1000).rounded() / 1000)
    }
}
