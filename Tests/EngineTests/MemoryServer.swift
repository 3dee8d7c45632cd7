import ChkflowCore
import Engine
import ManagementAPI
import Playbook
import Synchronization

/// A management server in memory whose replies and tasks take their time on a virtual clock, so
/// that a run against it waits on nothing but that clock.
actor MemoryServer {
    /// How the server answers one request of a command.
    enum Reply: Sendable {
        /// Success after `seconds`.
        case success(after: Double = 0)
        /// An error with this code and HTTP status after `seconds`.
        case error(String, status: Int = 500, after: Double = 0)
    }

    /// A request as the server saw it: the command and the virtual time it came.
    struct Request: Equatable, CustomStringConvertible {
        var command: String
        var time: Double
        var description: String { "\(command)@\(time)" }
    }

    private struct RunningTask {
        var started: Double
        var duration: Double
        /// The command that started it, which show-tasks gives as the task's name.
        var command = ""
    }

    let clock: VirtualClock
    /// Seconds each task a command starts takes.
    private let taskDuration: Double
    /// The replies still to come of each command, in order; then every request succeeds at once.
    private var script: [String: [Reply]]
    private var tasks: [String: RunningTask] = [:]
    private(set) var requests: [Request] = []

    init(clock: VirtualClock, taskDuration: Double = 60, script: [String: [Reply]] = [:]) {
        self.clock = clock
        self.taskDuration = taskDuration
        self.script = script
    }

    /// Options for a run against this server on its clock, with full jitter drawn from a
    /// generator seeded with `seed`.
    nonisolated func options(seed: UInt64 = 1) -> RunOptions {
        var options = RunOptions()
        options.clock = clock
        options.connectionFactory = { _, _, _ in MemoryConnection(server: self) }
        options.retryJitter = SeededJitter(seed: seed).draw
        return options
    }

    /// Answers a request as the script says; a command that starts a task replies its task-id.
    func handle(_ command: String) async throws -> JSON {
        // A request of a cancelled task never leaves, as with a real session.
        try Task.checkCancellation()
        let arrived = clock.now()
        requests.append(Request(command: command, time: arrived))
        var replies = script[command] ?? []
        let reply = replies.isEmpty ? .success() : replies.removeFirst()
        script[command] = replies
        switch reply {
        case .success(let delay):
            if command == "show-tasks" { return tasksInProgress() }
            guard Self.startsTask(command) else {
                try await clock.sleep(until: arrived + delay)
                return [:]
            }
            // The task starts when the request arrives, as on a real server: a reply that is
            // slow, or never read, does not stop the work.
            let id = "task-\(tasks.count + 1)"
            tasks[id] = RunningTask(started: arrived, duration: taskDuration, command: command)
            try await clock.sleep(until: arrived + delay)
            return ["task-id": .string(id)]
        case .error(let code, let status, let delay):
            try await clock.sleep(until: arrived + delay)
            throw APIError(
                kind: .server,
                command: command,
                httpStatus: status,
                code: code,
                message: "the script says \(code)",
                requestMayHaveReachedServer: true
            )
        }
    }

    /// The reply of show-tasks: the tasks still in progress, each named after its command.
    private func tasksInProgress() -> JSON {
        let now = clock.now()
        let running = tasks.filter { now - $0.value.started < $0.value.duration }
        return [
            "tasks": .array(
                running.keys.sorted().map { id in
                    ["task-id": .string(id), "task-name": .string(tasks[id]?.command ?? "")]
                }
            )
        ]
    }

    private static func startsTask(_ command: String) -> Bool {
        ["export-management", "install-policy", "run-script"].contains(command)
    }

    /// The task as a show-task at this moment would give it.
    func task(_ id: String) -> TaskInfo {
        let task = tasks[id] ?? RunningTask(started: 0, duration: 0)
        let elapsed = clock.now() - task.started
        let ended = elapsed >= task.duration
        let progress = ended ? 100 : Int(100 * elapsed / task.duration)
        let status: TaskStatus = ended ? .succeeded : .inProgress
        let raw: JSON = [
            "task-id": .string(id), "status": .string(status.rawValue),
            "progress-percentage": .int(Int64(progress)),
        ]
        return TaskInfo(
            taskID: id,
            name: nil,
            status: status,
            progress: progress,
            details: [],
            raw: raw
        )
    }

    /// Waits for a task to end, or for `timeout` to run out, as ``Session`` does.
    func waitForTask(_ id: String, timeout: Double?) async throws -> TaskInfo {
        let start = clock.now()
        let end = (tasks[id]?.started ?? 0) + (tasks[id]?.duration ?? 0)
        try await clock.sleep(until: min(end, timeout.map { start + $0 } ?? end))
        let info = task(id)
        guard info.status.isTerminal else {
            throw TaskWaitTimeout(
                taskIDs: [id],
                waited: clock.now() - start,
                timeout: timeout,
                lastSeen: [info]
            )
        }
        return info
    }
}

/// One session with a ``MemoryServer``.
actor MemoryConnection: Connection {
    let server: MemoryServer
    private var loggedIn = false
    private var sent = CallStatistics()

    init(server: MemoryServer) { self.server = server }

    func login(_ credentials: Credentials, options: LoginOptions) async throws -> JSON {
        sent.calls += 1
        let reply = try await server.handle("login")
        loggedIn = true
        sent.logins += 1
        return reply
    }

    func call(_ command: String, _ body: JSON) async throws -> JSON {
        sent.calls += 1
        return try await server.handle(command)
    }

    func showTasks(_ ids: [String]) async throws -> [TaskInfo] {
        sent.calls += 1
        var found: [TaskInfo] = []
        for id in ids { found.append(await server.task(id)) }
        return found
    }

    func waitForTask(
        _ id: String,
        timeout: Double?,
        onProgress: @escaping @Sendable (TaskInfo) -> Void
    ) async throws -> TaskInfo {
        try await server.waitForTask(id, timeout: timeout)
    }

    func loginAgain() async throws {
        sent.calls += 1
        _ = try await server.handle("login")
        sent.logins += 1
    }

    func logout() async throws {
        sent.calls += 1
        _ = try await server.handle("logout")
        loggedIn = false
    }

    var isLoggedIn: Bool { loggedIn }
    var administrator: String? { "admin" }
    var statistics: CallStatistics { sent }
}

/// Full jitter from a seeded generator (SplitMix64), so that a test knows every wait exactly.
///
/// Each draw is a whole number of 1024ths of the ceiling, so that the waits a test expects are
/// short decimals that a `Double` holds exactly.
final class SeededJitter: Sendable {
    private let state: Mutex<UInt64>

    init(seed: UInt64) { state = Mutex(seed) }

    /// The next 64 bits of SplitMix64.
    func next() -> UInt64 {
        var value = state.withLock { state in
            state &+= 0x9E37_79B9_7F4A_7C15
            return state
        }
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }

    @Sendable func draw(_ ceiling: Double) -> Double {
        Double(next() >> 54) / 1024 * ceiling
    }
}
