import ChkflowCore

extension SimulatedAPI {
    /// `show-task`: one id or a list, any details level; `full` adds the fields clients
    /// rarely read (times, domain, type).
    func showTask(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(call.parameters, allowed: ["task-id", "details-level"])
        let ids = try Self.taskIDs(parameters)
        let level = try parameters.string("details-level") ?? "standard"
        guard ["uid", "standard", "full"].contains(level) else {
            throw .invalidParameter("details-level")
        }
        let tasks = try state.tasks(ids)
        return ["tasks": .array(tasks.map { taskObject($0, at: call.now, full: level == "full") })]
    }

    private static func taskIDs(_ parameters: Parameters) throws(APIError) -> [String] {
        guard let value = parameters.values["task-id"] else { throw .missingParameter("task-id") }
        let ids: [String]
        switch value {
        case .string(let id): ids = [id]
        case .array(let items) where !items.isEmpty:
            ids = items.compactMap(\.stringValue)
            guard ids.count == items.count else { throw .invalidParameter("task-id") }
        default: throw .invalidParameter("task-id")
        }
        guard ids.allSatisfy(Identifiers.isUUID) else { throw .invalidParameter("task-id") }
        return ids
    }

    func taskObject(_ task: SimulatedTask, at now: Double, full: Bool) -> JSON {
        let (status, percentage) = task.progress(at: now)
        var object: [String: JSON] = [
            "task-id": .string(task.id),
            "task-name": .string(task.name),
            "status": .string(status.rawValue),
            "progress-percentage": .int(Int64(percentage)),
            "progress-description": .string(task.progressDescription(status)),
            "suppressed": false,
            "task-details": .array([task.details(status)]),
        ]
        guard full else { return .object(object) }
        object["uid"] = .string(task.id)
        object["type"] = "CdmTaskNotification"
        object["domain"] = ["name": .string(task.domain), "domain-type": "mds"]
        object["start-time"] = clock.timeObject(at: task.started)
        object["last-update-time"] = clock.timeObject(at: min(now, task.ends))
        object["comments"] = ""
        return .object(object)
    }
}

extension SimulatedTask {
    var name: String {
        switch kind {
        case .export: "Export Management"
        case .preExportVerification: "Pre-Export Verification"
        }
    }

    func progressDescription(_ status: TaskStatus) -> String {
        guard status == .inProgress else { return "Operation Complete" }
        switch kind {
        case .export: return "Exporting the management database"
        case .preExportVerification: return "Running the pre-export verifiers"
        }
    }

    /// One entry with `statusCode` and `statusDescription` (what Ansible reads) and, on
    /// failure, `fault-message` (what the Go SDK reads).
    func details(_ status: TaskStatus) -> JSON {
        var entry: [String: JSON] = [
            "statusCode": .string(status.rawValue),
            "statusDescription": .string(describe(status)),
            "taskNotification": .string(id),
        ]
        switch kind {
        case .export(let filePath):
            entry["file-path"] = .string(filePath)
        case .preExportVerification:
            entry["verification-summary"] = [
                "blocking-errors": .int(status == .failed ? 1 : 0),
                "warnings": .int(status == .succeededWithWarnings ? 1 : 0),
            ]
        }
        if status == .failed { entry["fault-message"] = .string(describe(status)) }
        return .object(entry)
    }

    private func describe(_ status: TaskStatus) -> String {
        switch (kind, status) {
        case (.export(let path), .inProgress): "Exporting to \(path)"
        case (.export(let path), .succeeded): "Exported to \(path)"
        case (.export(let path), .succeededWithWarnings): "Exported to \(path) with warnings"
        case (.export(let path), .partiallySucceeded): "Exported part of the database to \(path)"
        case (.export(let path), .failed): "Export to \(path) failed"
        case (.preExportVerification, .inProgress): "Running the pre-export verifiers"
        case (.preExportVerification, .succeeded): "Pre-export verification passed"
        case (.preExportVerification, .succeededWithWarnings):
            "Pre-export verification passed with 1 warning"
        case (.preExportVerification, .partiallySucceeded):
            "Pre-export verification completed partially"
        case (.preExportVerification, .failed):
            "Pre-export verification failed with 1 blocking error"
        }
    }
}
