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

/// A task wait that ran out of time while a task was still running on the server.
public struct TaskWaitTimeout: Error, Sendable, CustomStringConvertible {
    /// How the last show-task of the wait went.
    public enum LastPoll: Sendable {
        /// It was answered, and the task was still in progress.
        case answered
        /// It failed (a transport error, an invalid reply, a busy server) and was to be tried
        /// again.
        case failed(APIError)
        /// Its reply had not come when the time ran out; the request was given up.
        case unanswered
    }

    /// The task still running (the first of them, for a wait on several).
    public var taskID: String
    /// Seconds spent waiting.
    public var waited: Double
    /// The wait's timeout, in seconds.
    public var timeout: Double
    /// The last show-task entry seen of that task, if any poll succeeded.
    public var lastSeen: TaskInfo?
    /// Every task still in progress (or never seen) when the time ran out.
    public var taskIDs: [String]
    /// The last show-task entries seen of those tasks.
    public var allLastSeen: [TaskInfo]
    public var lastPoll: LastPoll

    public init(taskID: String, waited: Double, lastSeen: TaskInfo?) {
        self.init(taskIDs: [taskID], waited: waited, lastSeen: lastSeen.map { [$0] } ?? [])
    }

    public init(
        taskIDs: [String],
        waited: Double,
        timeout: Double? = nil,
        lastSeen: [TaskInfo],
        lastPoll: LastPoll = .answered
    ) {
        taskID = taskIDs.first ?? ""
        self.waited = waited
        self.timeout = timeout ?? waited
        self.lastSeen = lastSeen.first { $0.taskID == taskIDs.first }
        self.taskIDs = taskIDs
        allLastSeen = lastSeen
        self.lastPoll = lastPoll
    }

    /// The error of the last show-task, when it failed.
    public var lastError: APIError? {
        if case .failed(let error) = lastPoll { return error }
        return nil
    }

    public var description: String {
        let several = taskIDs.count > 1
        let advice =
            several
            ? "wait for them again with these task-ids" : "wait for it again with this task-id"
        let tasks = several ? "tasks \(taskIDs.joined(separator: ", "))" : "task \(taskID)"
        let ranOut = "the wait's timeout of \(DurationText.format(timeout)) ran out"
        let seen = lastSeen.map { " (last seen in progress at \($0.progress)%)" } ?? ""
        let mayRun = "\(tasks)\(several ? "" : seen) may still be running on the server: "
        switch lastPoll {
        case .answered:
            let after = DurationText.format(waited)
            guard !several else {
                return "\(tasks) are still in progress after \(after); they keep running on the"
                    + " server: \(advice)"
            }
            let progress = lastSeen.map { " at \($0.progress)%" } ?? ""
            return "\(tasks) is still in progress\(progress) after \(after); it keeps running on"
                + " the server: \(advice)"
        case .failed(let error):
            return "\(ranOut) after show-task failed: \(error.description); " + mayRun + advice
        case .unanswered:
            return "\(ranOut) before show-task was answered; " + mayRun + advice
        }
    }
}

/// A task's progress as one poll saw it.
public struct ProgressSample: Sendable, Equatable {
    /// The wait's clock reading when the reply came.
    public var time: Double
    public var progress: Int

    public init(time: Double, progress: Int) {
        self.time = time
        self.progress = progress
    }
}

/// How often a task wait polls show-task.
///
/// A task this session started is first polled `initialInterval` after it was started. While
/// the polls can narrow down when the task ends (see ``ProgressHistory``), the next poll aims
/// at the earliest moment it can have ended, or at the latest one once that is within
/// `1/100` of the time waited so far: a steady task is seen ending within about 1% of its
/// length, with three or four polls. Otherwise polling grows from `initialInterval` by
/// `factor`; once progress has moved, the pause is a quarter of the time the task still needs
/// by the progress made between the first and the latest poll, and never shorter than 1/40
/// of the time that progress was measured over. A pause is never longer than
/// `maximumInterval`, nor shorter than `minimumInterval` or 1/100 of the time waited.
public struct PollPolicy: Sendable, Equatable {
    public var initialInterval: Double
    public var factor: Double
    public var maximumInterval: Double
    public var minimumInterval: Double
    /// Failed show-task calls in a row tolerated before the wait gives up.
    public var showTaskAttempts: Int

    public init(
        initialInterval: Double = 0.25,
        factor: Double = 1.5,
        maximumInterval: Double = 5,
        minimumInterval: Double = 0.02,
        showTaskAttempts: Int = 5
    ) {
        self.initialInterval = initialInterval
        self.factor = factor
        self.maximumInterval = maximumInterval
        self.minimumInterval = minimumInterval
        self.showTaskAttempts = showTaskAttempts
    }

    /// The pause before the next poll of a task that can end at the earliest and the latest
    /// times of `end`, `waited` seconds after it started (or after the wait's first poll).
    public func interval(now: Double, end: ClosedRange<Double>, waited: Double) -> Double {
        let tolerance = max(minimumInterval, waited / 100)
        // Just past the latest end, so that a server rounding its clock has seen it too.
        let target = min(end.upperBound + minimumInterval / 4, end.lowerBound + tolerance)
        return min(maximumInterval, max(tolerance, target - now))
    }

    /// The pause after poll number `poll` (0 for the first), given the task's first and latest
    /// progress seen during the wait.
    public func interval(
        afterPoll poll: Int,
        first: ProgressSample?,
        latest: ProgressSample?
    )
        -> Double
    {
        var backoff = initialInterval
        for _ in 0..<min(poll, 64) { backoff = min(maximumInterval, backoff * factor) }
        guard let first, let latest, latest.progress > first.progress, latest.progress < 100,
            latest.time > first.time
        else { return backoff }
        let span = latest.time - first.time
        let remaining =
            span * Double(100 - latest.progress) / Double(latest.progress - first.progress)
        let floor = max(initialInterval, span / 40)
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
        let tasks = try await waitForTasks(
            [id],
            timeout: timeout,
            policy: policy,
            onProgress: onProgress
        )
        return tasks[0]
    }

    /// Polls several tasks with one show-task per round (as for the `tasks` reply of
    /// install-database or run-script) until all have ended; returns them in the order asked.
    public func waitForTasks(
        _ ids: [String],
        timeout: Double?,
        policy: PollPolicy = PollPolicy(),
        onProgress: @escaping @Sendable (TaskInfo) -> Void
    ) async throws -> [TaskInfo] {
        guard !ids.isEmpty else { return [] }
        let start = clock.now()
        let deadline = timeout.map { start + $0 }
        var poll = 0
        var failures = 0
        var lastPoll = TaskWaitTimeout.LastPoll.answered
        var latest: [String: TaskInfo] = [:]
        var firstSample: [String: ProgressSample] = [:]
        var latestSample: [String: ProgressSample] = [:]
        var history: [String: ProgressHistory] = [:]
        for id in ids { history[id] = ProgressHistory(origin: taskOrigins[id]) }
        func timedOut(_ lastPoll: TaskWaitTimeout.LastPoll) -> TaskWaitTimeout {
            let running = ids.filter { latest[$0]?.status.isTerminal != true }
            return TaskWaitTimeout(
                taskIDs: running,
                waited: clock.now() - start,
                timeout: timeout,
                lastSeen: running.compactMap { latest[$0] },
                lastPoll: lastPoll
            )
        }
        defer {
            for id in ids {
                plannedPolls[id] = nil
                lastPolled[id] = nil
            }
        }
        // A task started a moment ago cannot have got far: the first poll waits a little.
        var planned = start
        let origins = ids.compactMap { taskOrigins[$0]?.upperBound }
        if origins.count == ids.count, let started = origins.max() {
            let first = firstPoll(of: ids, startedBy: started, policy: policy)
            planned = deadline.map { min(first, $0) } ?? first
            for id in ids { plannedPolls[id] = planned }
            planned = try await sleepUntilPoll(planned, waitingFor: ids, before: deadline)
        }
        while true {
            do {
                guard let (round, seenAt) = try await pollOnce(ids, planned, before: deadline)
                else {
                    throw timedOut(.unanswered)
                }
                failures = 0
                lastPoll = .answered
                for info in round {
                    latest[info.taskID] = info
                    let sample = ProgressSample(time: seenAt, progress: info.progress)
                    if firstSample[info.taskID] == nil { firstSample[info.taskID] = sample }
                    latestSample[info.taskID] = sample
                    if !info.status.isTerminal, info.progress < 100 {
                        history[info.taskID]?.record(sample)
                    }
                    onProgress(info)
                }
                if round.allSatisfy(\.status.isTerminal) { return round }
            } catch let error as APIError where Self.isWorthRetrying(error) {
                failures += 1
                lastPoll = .failed(error)
                if failures >= policy.showTaskAttempts { throw error.about(tasks: ids) }
            } catch let error as APIError {
                throw error.about(tasks: ids)
            }
            let running = ids.filter { latest[$0]?.status.isTerminal != true }
            let now = clock.now()
            var ends: [String: ClosedRange<Double>] = [:]
            for id in running {
                guard let end = history[id]?.endRange() else { continue }
                ends[id] = end
                // Kept for `noteDurations`, which bounds the task's duration when it ends.
                if taskKinds[id] != nil { estimatedEnds[id] = end }
            }
            let pause =
                running.map { id in
                    if let end = ends[id] {
                        let began = taskOrigins[id]?.lowerBound ?? firstSample[id]?.time ?? start
                        return policy.interval(now: now, end: end, waited: now - began)
                    }
                    return policy.interval(
                        afterPoll: poll,
                        first: firstSample[id],
                        latest: latestSample[id]
                    )
                }.min() ?? policy.initialInterval
            planned = now + pause
            // A poll due at or after the deadline could not be answered in time.
            if let deadline, planned >= deadline {
                try await clock.sleep(until: deadline)
                throw timedOut(lastPoll)
            }
            for id in running { plannedPolls[id] = planned }
            planned = try await sleepUntilPoll(planned, waitingFor: running, before: deadline)
            poll += 1
        }
    }

    /// When to poll first for tasks this session started, the last of them at `started`: when
    /// tasks of the same kind ended, at the latest they can end if they take as long (but no
    /// later than the policy's longest pause), otherwise after the policy's first pause.
    private func firstPoll(
        of ids: [String],
        startedBy started: Double,
        policy: PollPolicy
    )
        -> Double
    {
        let ends = ids.compactMap { id -> Double? in
            guard let origin = taskOrigins[id], let kind = taskKinds[id],
                let expected = taskDurations[kind]?.expected
            else { return nil }
            return origin.upperBound + expected
        }
        guard ends.count == ids.count, let end = ends.max() else {
            return started + policy.initialInterval
        }
        return min(end + policy.minimumInterval / 4, started + policy.maximumInterval)
    }

    /// Sleeps until the poll planned for `planned` is due and returns when that is.
    ///
    /// When other waits of this session plan to poll within the shared slack after it, the
    /// poll waits for the last of them, so that one show-task serves them all (never past the
    /// deadline), and is woken by its reply; should that poll fail, it sends its own after
    /// another `sharedPollSlack`. A poll of another wait that reads these tasks makes it due
    /// at once.
    private func sleepUntilPoll(
        _ planned: Double,
        waitingFor ids: [String],
        before deadline: Double?
    ) async throws -> Double {
        try await sleepBetweenPolls(until: planned, waitingFor: ids)
        let now = clock.now()
        guard now >= planned else { return now }
        let own = Set(ids)
        let joined = plannedPolls.filter { entry in
            !own.contains(entry.key) && entry.value > planned
                && entry.value <= planned + Self.sharedPollSlack
        }.values.max()
        guard let joined, joined < deadline ?? .infinity else { return planned }
        for id in ids { plannedPolls[id] = joined }
        let grace = min(joined + Self.sharedPollSlack, deadline ?? .infinity)
        try await sleepBetweenPolls(until: grace, waitingFor: ids)
        return min(joined, clock.now())
    }

    /// Sleeps until `planned`, or until a poll of another wait reads one of these tasks.
    private func sleepBetweenPolls(until planned: Double, waitingFor ids: [String]) async throws {
        let sleeper = Task { [clock] in try await clock.sleep(until: planned) }
        for id in ids { pausedWaits[id] = sleeper }
        defer { for id in ids where pausedWaits[id] == sleeper { pausedWaits[id] = nil } }
        _ = await withTaskCancellationHandler {
            await sleeper.result
        } onCancel: {
            sleeper.cancel()
        }
        try Task.checkCancellation()
    }

    /// A poll this much earlier than planned serves as well: the waits of one session that
    /// are due within it share one show-task.
    static let sharedPollSlack = 0.05

    /// One show-task round planned for `planned`, given up when its reply has not come by
    /// `deadline`: nil then.
    private func pollOnce(
        _ ids: [String],
        _ planned: Double,
        before deadline: Double?
    ) async throws -> (round: [TaskInfo], seenAt: Double)? {
        guard let deadline else { return try await pollOnce(ids, planned) }
        return try await withThrowingTaskGroup(of: ([TaskInfo], Double)?.self) { group in
            group.addTask { try await self.pollOnce(ids, planned) }
            group.addTask {
                try await self.clock.sleepAwaitingReply(until: deadline)
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
    }

    /// One show-task round: an entry for every id, in the order asked, and when it was read.
    ///
    /// When other waits of this session have read all of these tasks since `planned` less the
    /// slack, their entries serve and nothing is sent; when a show-task of another wait that
    /// asks for all of them is on its way, its reply serves. Otherwise the round also asks for
    /// the tasks of other waits due within the slack, so that they need not send their own;
    /// should the server refuse the longer list, the round asks again for these tasks alone.
    private func pollOnce(
        _ ids: [String],
        _ planned: Double
    ) async throws -> (round: [TaskInfo], seenAt: Double) {
        if let shared = sharedRound(ids, since: planned) { return shared }
        if ids.allSatisfy({ pollsInFlight[$0] != nil }) {
            // Woken by that poll's end, answered or not; the hour only bounds the sleep.
            try await sleepBetweenPolls(until: clock.now() + 3600, waitingFor: ids)
            if let shared = sharedRound(ids, since: planned) { return shared }
        }
        let own = Set(ids)
        let soon = clock.now() + Self.sharedPollSlack
        let others = plannedPolls.filter { !own.contains($0.key) && $0.value <= soon }
            .keys.sorted().prefix(49)
        var tasks: [TaskInfo]
        let sentAt = clock.now()
        let asked = ids + others
        for id in asked { pollsInFlight[id, default: 0] += 1 }
        defer {
            for id in asked {
                let left = (pollsInFlight[id] ?? 1) - 1
                pollsInFlight[id] = left > 0 ? left : nil
                // A wait that counted on this poll and was not served sends its own.
                if !own.contains(id) { pausedWaits[id]?.cancel() }
            }
        }
        do {
            tasks = try await showTasks(ids + others)
        } catch let error as APIError where !others.isEmpty && error.kind == .server {
            tasks = try await showTasks(ids)
        }
        let seenAt = clock.now()
        noteDurations(of: tasks, sent: sentAt, seen: seenAt)
        for task in tasks where !own.contains(task.taskID) && plannedPolls[task.taskID] != nil {
            lastPolled[task.taskID] = (task, seenAt)
            pausedWaits[task.taskID]?.cancel()
        }
        let round = try ids.map { id in
            guard let info = tasks.first(where: { $0.taskID == id }) else {
                throw APIError.invalidReply(
                    "show-task",
                    status: 200,
                    "the reply does not list task \(id)"
                )
            }
            return info
        }
        return (round, seenAt)
    }

    /// Keeps what a poll tells of how long tasks of each kind take (see ``TaskDurations``).
    ///
    /// A task still running ends after the poll was `sent`; one found ended ended before it
    /// was answered (`seen`), or before the latest end its progress allowed, when that is
    /// earlier and still after the last poll that found it running. Only tasks that succeeded
    /// are counted.
    private func noteDurations(of tasks: [TaskInfo], sent: Double, seen: Double) {
        for task in tasks {
            let id = task.taskID
            guard let kind = taskKinds[id], let origin = taskOrigins[id] else { continue }
            guard task.status.isTerminal else {
                lastSeenRunning[id] = sent
                continue
            }
            taskKinds[id] = nil
            let running = lastSeenRunning.removeValue(forKey: id) ?? origin.upperBound
            let estimated = estimatedEnds.removeValue(forKey: id)
            guard task.status.isSuccessByDefault else { continue }
            var ended = seen
            if let latest = estimated?.upperBound, latest > running { ended = min(seen, latest) }
            let shortest = max(0, running - origin.upperBound)
            let longest = max(shortest, ended - origin.lowerBound)
            taskDurations[kind, default: TaskDurations()].record(shortest...longest)
        }
    }

    /// The entries other waits read of all these tasks since `planned` less the slack; nil,
    /// and the entries dropped, when some are missing or older.
    private func sharedRound(
        _ ids: [String],
        since planned: Double
    ) -> (
        round: [TaskInfo], seenAt: Double
    )? {
        // Each entry serves once: the next round of this wait needs a newer one.
        let shared = ids.compactMap { lastPolled.removeValue(forKey: $0) }
        guard shared.count == ids.count, let oldest = shared.map(\.time).min(),
            oldest >= planned - Self.sharedPollSlack
        else { return nil }
        return (shared.map(\.info), oldest)
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
    /// The same error, saying which tasks it was about and that they may still be running.
    func about(tasks ids: [String]) -> APIError {
        var copy = self
        copy.message +=
            ids.count == 1
            ? " (while waiting for task \(ids[0]), which may still be running on the server)"
            : " (while waiting for tasks \(ids.joined(separator: ", ")), which may still be"
                + " running on the server)"
        return copy
    }
}
