import ChkflowCore

extension SimulatedAPI {
    /// `show-task`: one id or a list, any details level; `full` adds the fields clients
    /// rarely read (times, domain, type).
    func showTask(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(call.parameters, allowed: ["task-id", "details-level"])
        let ids = try Self.taskIDs(parameters)
        let full = try Self.detailsLevel(parameters) == "full"
        let tasks = try state.tasks(ids)
        return ["tasks": .array(tasks.map { taskObject($0, at: call.now, full: full) })]
    }

    /// `show-tasks`: every task, newest first, filtered by initiator, status and dates, paged.
    func showTasks(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(
            call.parameters,
            allowed: [
                "initiator", "status", "from-date", "to-date", "limit", "offset", "order",
                "details-level",
            ]
        )
        let filter = try TaskFilter(parameters, clock: clock)
        let page = try Page(parameters)
        let full = try Self.detailsLevel(parameters) == "full"
        let matching = state.allTasks().reversed().filter { filter.matches($0, at: call.now) }
        let objects = page.slice(matching).map { taskObject($0, at: call.now, full: full) }
        return page.reply(objects, total: matching.count, key: "tasks")
    }

    static func detailsLevel(_ parameters: Parameters) throws(APIError) -> String {
        let level = try parameters.string("details-level") ?? "standard"
        guard ["uid", "standard", "full"].contains(level) else {
            throw .invalidParameter("details-level")
        }
        return level
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
            "task-details": .array(task.detailEntries(status)),
        ]
        guard full else { return .object(object) }
        object["uid"] = .string(task.id)
        object["type"] = "CdmTaskNotification"
        object["domain"] = domainReference(task.domain)
        object["start-time"] = clock.timeObject(at: task.started)
        object["last-update-time"] = clock.timeObject(at: min(now, task.ends))
        object["comments"] = .string(task.comments(status))
        return .object(object)
    }
}

/// The filters of show-tasks.
private struct TaskFilter {
    var initiator: String?
    var statuses: Set<TaskStatus>
    var from: Double?
    var to: Double?

    init(_ parameters: Parameters, clock: SimulationClock) throws(APIError) {
        initiator = try parameters.string("initiator")
        switch try parameters.string("status") ?? "all" {
        case "all": statuses = Set(TaskStatus.allCases)
        case "successful": statuses = [.succeeded, .succeededWithWarnings]
        case "failed": statuses = [.failed, .partiallySucceeded]
        case "in-progress": statuses = [.inProgress]
        default: throw .invalidParameter("status")
        }
        from = try Self.moment("from-date", parameters, clock)
        to = try Self.moment("to-date", parameters, clock)
    }

    func matches(_ task: SimulatedTask, at now: Double) -> Bool {
        if let initiator, task.initiator != initiator { return false }
        if let from, task.started < from { return false }
        if let to, task.started > to { return false }
        return statuses.contains(task.progress(at: now).status)
    }

    /// A date parameter as a simulated moment.
    private static func moment(
        _ name: String,
        _ parameters: Parameters,
        _ clock: SimulationClock
    ) throws(APIError) -> Double? {
        guard let text = try parameters.string(name) else { return nil }
        guard let epoch = DateText.epochSeconds(text) else { throw .invalidParameter(name) }
        return Double(epoch) - clock.startWallSeconds
    }
}

extension SimulatedTask {
    var name: String {
        switch kind {
        case .export: "Export Management"
        case .preExportVerification: "Pre-Export Verification"
        case .importManagement: "Import Management"
        case .preImportVerification: "Pre-Import Verification"
        case .publish: "Publish operation"
        }
    }

    func progressDescription(_ status: TaskStatus) -> String {
        guard status == .inProgress else { return "Operation Complete" }
        switch kind {
        case .export: return "Exporting the management database"
        case .preExportVerification: return "Running the pre-export verifiers"
        case .importManagement: return "Importing the management database"
        case .preImportVerification: return "Running the pre-import verifiers"
        case .publish: return "Publishing the session"
        }
    }

    /// The task-level comments Ansible reads on failure.
    func comments(_ status: TaskStatus) -> String {
        status == .failed ? behaviour.blockingErrors.joined(separator: "; ") : ""
    }

    /// The `task-details` of the scenario once the task has ended, or the simulator's own.
    func detailEntries(_ status: TaskStatus) -> [JSON] {
        if status.isTerminal, let given = behaviour.taskDetails { return given }
        return [details(status)]
    }

    /// The task's one `task-details` entry.
    ///
    /// It has `statusCode` and `statusDescription` (what Ansible reads) and, on failure,
    /// `fault-message` (what the Go SDK reads). Warnings and blocking errors of the scenario
    /// appear once the task has ended.
    func details(_ status: TaskStatus) -> JSON {
        var entry: [String: JSON] = [
            "statusCode": .string(status.rawValue),
            "statusDescription": .string(describe(status)),
            "taskNotification": .string(id),
        ]
        switch kind {
        case .export(let filePath), .importManagement(let filePath):
            entry["file-path"] = .string(filePath)
        case .preImportVerification(let filePath):
            entry["file-path"] = .string(filePath)
            entry["verification-summary"] = verificationSummary(status)
        case .preExportVerification:
            entry["verification-summary"] = verificationSummary(status)
        case .publish:
            break
        }
        if status.isTerminal {
            if !behaviour.warnings.isEmpty {
                entry["warnings"] = .array(behaviour.warnings.map { ["message": .string($0)] })
            }
            if !behaviour.blockingErrors.isEmpty {
                entry["blocking-errors"] = .array(
                    behaviour.blockingErrors.map { ["message": .string($0)] }
                )
            }
        }
        if status == .failed { entry["fault-message"] = .string(faultMessage) }
        return .object(entry)
    }

    private var faultMessage: String {
        behaviour.blockingErrors.isEmpty
            ? describe(.failed) : behaviour.blockingErrors.joined(separator: "; ")
    }

    private func verificationSummary(_ status: TaskStatus) -> JSON {
        let ended = status.isTerminal
        let blocking = max(behaviour.blockingErrors.count, status == .failed ? 1 : 0)
        let warnings = max(behaviour.warnings.count, status == .succeededWithWarnings ? 1 : 0)
        return [
            "blocking-errors": .int(Int64(ended ? blocking : 0)),
            "warnings": .int(Int64(ended ? warnings : 0)),
        ]
    }

    private func describe(_ status: TaskStatus) -> String {
        switch (kind, status) {
        case (.export(let path), .inProgress): "Exporting to \(path)"
        case (.export(let path), .succeeded): "Exported to \(path)"
        case (.export(let path), .succeededWithWarnings): "Exported to \(path) with warnings"
        case (.export(let path), .partiallySucceeded): "Exported part of the database to \(path)"
        case (.export(let path), .failed): "Export to \(path) failed"
        case (.importManagement(let path), .inProgress): "Importing \(path)"
        case (.importManagement(let path), .failed): "Import of \(path) failed"
        case (.importManagement(let path), _): "Imported \(path)"
        case (.publish, .failed): "Publish failed"
        case (.publish, _): "Publish completed"
        case (_, .inProgress): "Running the verifiers"
        case (_, .succeeded): "Verification passed"
        case (_, .succeededWithWarnings): "Verification passed with warnings"
        case (_, .partiallySucceeded): "Verification completed partially"
        case (_, .failed): "Verification failed with blocking errors"
        }
    }
}
