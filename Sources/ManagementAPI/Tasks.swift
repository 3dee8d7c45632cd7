import ChkflowCore

/// One entry of a show-task reply.
public struct TaskInfo: Sendable {
    public var taskID: String
    public var name: String?
    public var status: TaskStatus
    /// `progress-percentage`, 0 when the server leaves it out.
    public var progress: Int
    /// The `task-details` array, empty when absent.
    public var details: JSON
    /// The whole entry as the server sent it.
    public var raw: JSON

    public init(
        taskID: String,
        name: String?,
        status: TaskStatus,
        progress: Int,
        details: JSON,
        raw: JSON
    ) {
        self.taskID = taskID
        self.name = name
        self.status = status
        self.progress = progress
        self.details = details
        self.raw = raw
    }

    /// Reads one task entry; nil when it lacks a task-id or a known status.
    init?(_ entry: JSON) {
        guard let id = entry["task-id"]?.stringValue,
            let statusText = entry["status"]?.stringValue,
            let status = TaskStatus(rawValue: statusText)
        else { return nil }
        let progress = entry["progress-percentage"]?.intValue ?? 0
        self.init(
            taskID: id,
            name: entry["task-name"]?.stringValue,
            status: status,
            progress: Int(max(0, min(100, progress))),
            details: entry["task-details"] ?? [],
            raw: entry
        )
    }
}

/// A task wait that ran out of time while the task was still running on the server.
public struct TaskWaitTimeout: Error, Sendable, CustomStringConvertible {
    public var taskID: String
    /// Seconds spent waiting.
    public var waited: Double
    /// The last show-task entry seen, if any poll succeeded.
    public var lastSeen: TaskInfo?

    public init(taskID: String, waited: Double, lastSeen: TaskInfo?) {
        self.taskID = taskID
        self.waited = waited
        self.lastSeen = lastSeen
    }

    public var description: String {
        let progress = lastSeen.map { " at \($0.progress)%" } ?? ""
        return
            "task \(taskID) is still in progress\(progress) after \(DurationText.format(waited));"
            + " it keeps running on the server: wait for it again with this task-id"
    }
}

/// How often a task wait polls show-task.
///
/// Polling starts at `initialInterval` and grows by `factor` up to `maximumInterval`. Once the
/// task reports progress, the interval follows the estimated time left instead: a quarter of
/// it, so a task far from done is polled rarely and one near its end quickly, but never more
/// often than once per `elapsed / 40` seconds, so a task stuck at 99% is not hammered.
public struct PollPolicy: Sendable, Equatable {
    public var initialInterval: Double
    public var factor: Double
    public var maximumInterval: Double
    /// Failed show-task calls in a row tolerated before the wait gives up.
    public var showTaskAttempts: Int

    public init(
        initialInterval: Double = 0.25,
        factor: Double = 1.5,
        maximumInterval: Double = 5,
        showTaskAttempts: Int = 5
    ) {
        self.initialInterval = initialInterval
        self.factor = factor
        self.maximumInterval = maximumInterval
        self.showTaskAttempts = showTaskAttempts
    }

    /// The pause after poll number `poll` (0 for the first), `elapsed` seconds into the wait,
    /// when the task last reported `progress` percent.
    public func interval(afterPoll poll: Int, elapsed: Double, progress: Int) -> Double {
        var backoff = initialInterval
        for _ in 0..<min(poll, 64) { backoff = min(maximumInterval, backoff * factor) }
        guard progress > 0, progress < 100, elapsed > 0 else { return backoff }
        let remaining = elapsed * Double(100 - progress) / Double(progress)
        let floor = max(initialInterval, elapsed / 40)
        return min(maximumInterval, max(floor, remaining / 4))
    }
}

extension Session {
    /// show-task with `details-level: full` for one or more task-ids.
    public func showTasks(_ ids: [String]) async throws -> [TaskInfo] {
        let taskID: JSON = ids.count == 1 ? .string(ids[0]) : .array(ids.map { .string($0) })
        let reply = try await call("show-task", ["task-id": taskID, "details-level": "full"])
        guard let entries = reply["tasks"]?.arrayValue else {
            throw APIError.invalidReply("show-task", status: 200, "the reply has no tasks array")
        }
        return try entries.map { entry in
            guard let info = TaskInfo(entry) else {
                throw APIError.invalidReply(
                    "show-task",
                    status: 200,
                    "a task entry lacks a task-id or a known status: \(entry.serialized())"
                )
            }
            return info
        }
    }

    /// Polls show-task until the task reaches a terminal status and returns its last entry.
    ///
    /// A failed show-task is tried again (up to the policy's attempts) with the same task-id; a
    /// session error logs in again on the way. When `timeout` seconds pass first, the wait
    /// throws ``TaskWaitTimeout`` and the task keeps running on the server.
    public func waitForTask(
        _ id: String,
        timeout: Double?,
        onProgress: @escaping @Sendable (TaskInfo) -> Void
    ) async throws -> TaskInfo {
        try await waitForTask(id, timeout: timeout, policy: PollPolicy(), onProgress: onProgress)
    }

    /// ``waitForTask(_:timeout:onProgress:)`` with a polling policy of the caller's choice.
    public func waitForTask(
        _ id: String,
        timeout: Double?,
        policy: PollPolicy,
        onProgress: @escaping @Sendable (TaskInfo) -> Void
    ) async throws -> TaskInfo {
        let start = clock.now()
        var poll = 0
        var failures = 0
        var last: TaskInfo?
        while true {
            do {
                let info = try await pollOnce(id)
                failures = 0
                last = info
                onProgress(info)
                if info.status.isTerminal { return info }
            } catch let error as APIError where Self.isWorthRetrying(error) {
                failures += 1
                if failures >= policy.showTaskAttempts { throw error.about(task: id) }
            } catch let error as APIError {
                throw error.about(task: id)
            }
            let now = clock.now()
            let elapsed = now - start
            let pause = policy.interval(
                afterPoll: poll,
                elapsed: elapsed,
                progress: last?.progress ?? 0
            )
            var wakeUp = now + pause
            if let timeout {
                guard elapsed < timeout else {
                    throw TaskWaitTimeout(taskID: id, waited: elapsed, lastSeen: last)
                }
                wakeUp = min(wakeUp, start + timeout)
            }
            try await clock.sleep(until: wakeUp)
            poll += 1
        }
    }

    private func pollOnce(_ id: String) async throws -> TaskInfo {
        let tasks = try await showTasks([id])
        guard let info = tasks.first(where: { $0.taskID == id }) else {
            throw APIError.invalidReply(
                "show-task",
                status: 200,
                "the reply does not list task \(id)"
            )
        }
        return info
    }

    /// Failures a later show-task may not meet: no reply, a busy or starting server.
    static func isWorthRetrying(_ error: APIError) -> Bool {
        switch error.kind {
        case .transport, .invalidReply: return true
        case .server: return error.errorClass == .transient || (error.httpStatus ?? 0) >= 500
        case .tls, .usage: return false
        }
    }
}

extension APIError {
    /// The same error, saying which task it was about and that the task may still be running.
    func about(task id: String) -> APIError {
        var copy = self
        copy.message += " (while waiting for task \(id), which may still be running on the server)"
        return copy
    }
}
