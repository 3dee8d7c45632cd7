import ChkflowCore
import Engine
import Playbook

/// One engine event as a line of the NDJSON event stream (`schemas/events.schema.json`).
///
/// Every line has `time`, `run-id` and `type`; the rest depends on the type. An attempt that
/// fails with another attempt to come is a `retry`, one that fails for good is an
/// `attempt-failed`. Lines carry ids, statuses, codes and task progress, never outputs or server
/// replies, so no session id can reach them.
public enum EventLine {
    /// The version of the event format, the same as the report's.
    public static let formatVersion = Report.formatVersion

    /// The event as a JSON object; `now` dates the end of a step that never started.
    public static func json(_ event: EngineEvent, runID: String, now: Double) -> JSON {
        var (time, type, members) = parts(event)
        members["time"] = Report.time(time ?? now)
        members["run-id"] = .string(runID)
        members["type"] = .string(type)
        return .object(members)
    }

    /// The event as a JSON object, dated with the current time when it has no time of its own.
    public static func json(_ event: EngineEvent, runID: String) -> JSON {
        json(event, runID: runID, now: EventWriter.systemClock())
    }

    private static func parts(_ event: EngineEvent) -> (Double?, String, [String: JSON]) {
        switch event {
        case .stepStarted(let id, let kind, let at):
            return (at, "step-started", ["step": .string(id), "kind": .string(kind)])
        case .attemptFailed(let id, let attempt, let retryAfter):
            var members = self.attempt(attempt)
            members["step"] = .string(id)
            guard let retryAfter else { return (attempt.ended, "attempt-failed", members) }
            members["retry-after-seconds"] = Report.seconds(retryAfter)
            members["next-attempt"] = .int(Int64(attempt.number + 1))
            return (attempt.ended, "retry", members)
        case .stepProgress(let id, let taskID, let percent, let status, let at):
            let members: [String: JSON] = [
                "step": .string(id), "task-id": .string(taskID),
                "progress": .int(Int64(percent)), "task-status": .string(status),
            ]
            return (at, "progress", members)
        case .stepEnded(let result):
            return (result.ended, "step-ended", ended(result))
        case .notice(let text, let at):
            return (at, "notice", ["message": .string(text)])
        }
    }

    private static func attempt(_ attempt: Attempt) -> [String: JSON] {
        var members: [String: JSON] = [
            "attempt": .int(Int64(attempt.number)), "started": Report.time(attempt.started),
            "ended": Report.time(attempt.ended),
        ]
        if let error = attempt.error { members["error"] = Report.error(error) }
        if attempt.timedOut { members["timed-out"] = true }
        return members
    }

    private static func ended(_ result: StepResult) -> [String: JSON] {
        var members: [String: JSON] = [
            "step": .string(result.id), "kind": .string(result.kind),
            "status": .string(result.status.rawValue),
            "attempts": .int(Int64(result.attempts.count)),
        ]
        if let reason = result.reason { members["reason"] = .string(reason) }
        if let started = result.started { members["started"] = Report.time(started) }
        if let duration = result.duration { members["duration-seconds"] = Report.seconds(duration) }
        if let taskID = result.taskID { members["task-id"] = .string(taskID) }
        if let task = result.task {
            members["task-status"] = .string(task.status.rawValue)
            members["progress"] = .int(Int64(task.progress))
        }
        if let error = result.error { members["error"] = Report.error(error) }
        if !result.items.isEmpty {
            members["items"] = Report.counts(result.items.map(\.status))
        }
        return members
    }
}
