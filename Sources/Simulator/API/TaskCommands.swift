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
            "task-details": .array([task.details(status)]),
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

/// `limit` and `offset` of a show-<plural> command, and the paged reply.
struct Page {
    var limit: Int
    var offset: Int

    /// The largest page a server gives.
    static let maximumLimit = 500

    init(_ parameters: Parameters) throws(APIError) {
        let limit = try parameters.integer("limit") ?? 50
        guard (1...Int64(Self.maximumLimit)).contains(limit) else {
            throw .invalidParameter("limit", "Value must be between 1 and \(Self.maximumLimit)")
        }
        let offset = try parameters.integer("offset") ?? 0
        guard offset >= 0 else { throw .invalidParameter("offset", "Value must not be negative") }
        if let order = parameters.values["order"], order.arrayValue == nil {
            throw .invalidParameter("order")
        }
        self.limit = Int(limit)
        self.offset = Int(min(offset, Int64(Int32.max)))
    }

    func slice<Item>(_ items: [Item]) -> [Item] {
        guard offset < items.count else { return [] }
        return Array(items[offset..<min(items.count, offset + limit)])
    }

    /// `{from, to, total, <key>}`, with from and to 1-based and left out when the page is empty.
    func reply(_ objects: [JSON], total: Int, key: String) -> JSON {
        var reply: [String: JSON] = ["total": .int(Int64(total)), key: .array(objects)]
        if !objects.isEmpty {
            reply["from"] = .int(Int64(offset + 1))
            reply["to"] = .int(Int64(offset + objects.count))
        }
        return .object(reply)
    }
}

/// Dates as show-tasks takes them: `YYYY-MM-DD`, optionally `THH:MM` and `:SS`, in UTC.
enum DateText {
    static func epochSeconds(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= bytes.count else { return nil }
            let digits = bytes[start..<start + length]
            guard digits.allSatisfy(ASCII.isDigit) else { return nil }
            return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        guard [10, 16, 19].contains(bytes.count), let year = number(0, 4),
            let month = number(5, 2), let day = number(8, 2), (1...12).contains(month),
            (1...31).contains(day)
        else { return nil }
        let hour = bytes.count > 10 ? number(11, 2) : 0
        let minute = bytes.count > 10 ? number(14, 2) : 0
        let second = bytes.count > 16 ? number(17, 2) : 0
        guard let hour, let minute, let second, hour < 24, minute < 60, second < 61 else {
            return nil
        }
        return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    private static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
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
