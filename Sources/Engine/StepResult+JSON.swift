import ChkflowCore
import ManagementAPI
import Playbook

/// The JSON form of step results, shared by the journal (which reads it back on resume) and the
/// report.
extension StepResult {
    public var json: JSON {
        var members: [String: JSON] = [
            "id": .string(id), "kind": .string(kind), "status": .string(status.rawValue),
            "attempts": .array(attempts.map(\.json)),
        ]
        if let reason { members["reason"] = .string(reason) }
        if let started { members["started"] = .string(RFC3339.format(started)) }
        if let ended { members["ended"] = .string(RFC3339.format(ended)) }
        if let duration { members["duration-seconds"] = .double(rounded(duration)) }
        if let taskID { members["task-id"] = .string(taskID) }
        if let task {
            members["task"] = [
                "status": .string(task.status.rawValue), "progress": .int(Int64(task.progress)),
                "details": task.details,
            ]
        }
        if let error { members["error"] = error.json }
        if !items.isEmpty { members["items"] = .array(items.map(\.json)) }
        let visible = outputs.filter { $0.key != "response" && $0.key != "task" }
        if !visible.isEmpty { members["outputs"] = .object(visible) }
        return .object(members)
    }

    /// Reads back what ``json`` wrote; nil when the value is not a step result.
    ///
    /// Outputs the report leaves out (`response`, `task`) come back from the journal's own
    /// `outputs` record, so that resumed steps see what they saw the first time.
    public init?(json: JSON) {
        guard let id = json["id"]?.stringValue, let kind = json["kind"]?.stringValue,
            let status = json["status"]?.stringValue.flatMap(StepStatus.init(rawValue:))
        else { return nil }
        self.init(id: id, kind: kind, status: status)
        reason = json["reason"]?.stringValue
        started = json["started"]?.stringValue.flatMap(RFC3339.seconds)
        ended = json["ended"]?.stringValue.flatMap(RFC3339.seconds)
        attempts = (json["attempts"]?.arrayValue ?? []).compactMap(Attempt.init(json:))
        taskID = json["task-id"]?.stringValue
        if let task = json["task"],
            let status = task["status"]?.stringValue.flatMap(TaskStatus.init(rawValue:))
        {
            self.task = TaskInfo(
                taskID: taskID ?? "",
                name: nil,
                status: status,
                progress: Int(task["progress"]?.intValue ?? 0),
                details: task["details"] ?? [],
                raw: task
            )
        }
        error = json["error"].flatMap(ErrorSummary.init(json:))
        items = (json["items"]?.arrayValue ?? []).compactMap(ItemResult.init(json:))
        outputs = json["outputs"]?.objectValue ?? [:]
    }
}

extension Attempt {
    public var json: JSON {
        var members: [String: JSON] = [
            "number": .int(Int64(number)), "started": .string(RFC3339.format(started)),
            "ended": .string(RFC3339.format(ended)),
            "outcome": .string(error == nil ? "succeeded" : "failed"),
        ]
        if let error { members["error"] = error.json }
        if let waitBefore { members["wait-before-seconds"] = .double(rounded(waitBefore)) }
        if timedOut { members["timed-out"] = true }
        return .object(members)
    }

    init?(json: JSON) {
        guard let number = json["number"]?.intValue,
            let started = json["started"]?.stringValue.flatMap(RFC3339.seconds),
            let ended = json["ended"]?.stringValue.flatMap(RFC3339.seconds)
        else { return nil }
        self.init(
            number: Int(number),
            started: started,
            ended: ended,
            error: json["error"].flatMap(ErrorSummary.init(json:)),
            waitBefore: json["wait-before-seconds"]?.doubleValue,
            timedOut: json["timed-out"] == true
        )
    }
}

extension ErrorSummary {
    public var json: JSON {
        var members: [String: JSON] = ["message": .string(message)]
        if let code { members["code"] = .string(code) }
        if let httpStatus { members["http-status"] = .int(Int64(httpStatus)) }
        if !errors.isEmpty { members["errors"] = .array(errors.map(JSON.string)) }
        if !warnings.isEmpty { members["warnings"] = .array(warnings.map(JSON.string)) }
        if !blockingErrors.isEmpty {
            members["blocking-errors"] = .array(blockingErrors.map(JSON.string))
        }
        return .object(members)
    }

    init?(json: JSON) {
        guard let message = json["message"]?.stringValue else { return nil }
        self.init(
            message: message,
            code: json["code"]?.stringValue,
            httpStatus: json["http-status"]?.intValue.map(Int.init)
        )
        errors = (json["errors"]?.arrayValue ?? []).compactMap(\.stringValue)
        warnings = (json["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        blockingErrors = (json["blocking-errors"]?.arrayValue ?? []).compactMap(\.stringValue)
    }
}

extension ItemResult {
    public var json: JSON {
        [
            "index": .int(Int64(index)), "item": item, "status": .string(status.rawValue),
            "steps": .array(steps.map(\.json)),
        ]
    }

    init?(json: JSON) {
        guard let index = json["index"]?.intValue,
            let status = json["status"]?.stringValue.flatMap(StepStatus.init(rawValue:))
        else { return nil }
        self.init(
            index: Int(index),
            item: json["item"] ?? .null,
            status: status,
            steps: (json["steps"]?.arrayValue ?? []).compactMap(StepResult.init(json:))
        )
    }
}

private func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
