import ChkflowCore
import Engine
import ManagementAPI
import Playbook

/// The engine's own cost per step: a playbook of one login, N cheap `call` steps and a logout,
/// run against a connection that answers at once from memory.
struct EngineOverhead {
    var steps: Int
    var runs: Int

    func measure() async throws {
        let yaml = playbook()
        let loadStart = monotonicSeconds()
        let plan = try PlaybookLoader.plan(bytes: Array(yaml.utf8), file: "engine-overhead.yaml")
        let loadSeconds = monotonicSeconds() - loadStart

        var runSeconds: [Double] = []
        for _ in 0..<runs {
            let counter = CallCounter()
            var options = RunOptions()
            options.connectionFactory = { _, _, _ in MemoryConnection(counter: counter) }
            let runner = Runner(plan: plan, options: options)
            let prepared = try runner.prepare()
            let start = monotonicSeconds()
            let result = await runner.run(prepared)
            runSeconds.append(monotonicSeconds() - start)
            guard result.outcome == .succeeded, await counter.calls == steps + 2 else {
                throw BenchError("engine-overhead: the run did not succeed (\(result.outcome))")
            }
        }
        try emit([
            "benchmark": "engine-overhead",
            "steps": steps,
            "load_plan_seconds": loadSeconds,
            "run_seconds": runSeconds,
            "median_us_per_step": median(runSeconds) / Double(steps) * 1e6,
            "min_us_per_step": runSeconds.min()! / Double(steps) * 1e6,
            "max_us_per_step": runSeconds.max()! / Double(steps) * 1e6,
        ])
    }

    /// The playbook text: every call step depends only on the login, so the engine schedules
    /// them all through its queue, `--max-parallel` (4) at a time.
    private func playbook() -> String {
        var text = """
            chkflow: 1
            name: engine-overhead
            servers:
              memory:
                url: http://127.0.0.1:9
            steps:
              - id: login
                login: {server: memory, user: admin, password: chkflow}

            """
        for index in 1...steps {
            text += "  - id: s\(index)\n    call: {command: show-api-versions}\n"
        }
        text += "  - id: logout\n    logout: {}\n"
        return text
    }
}

/// Counts the calls a run made on its in-memory connections.
actor CallCounter {
    private(set) var calls = 0

    func count() { calls += 1 }
}

/// A management server in memory: every call succeeds at once.
actor MemoryConnection: Connection {
    private let counter: CallCounter
    private var loggedIn = false
    private var made = CallStatistics()

    init(counter: CallCounter) { self.counter = counter }

    var isLoggedIn: Bool { loggedIn }
    var statistics: CallStatistics { made }
    var administrator: String? { "admin" }

    func loginAgain() async throws {
        await record()
        made.logins += 1
    }

    func login(_ credentials: Credentials, options: LoginOptions) async throws -> JSON {
        await record()
        loggedIn = true
        made.logins += 1
        made.connections = 1
        return ["api-server-version": "2.0.1", "session-timeout": 600]
    }

    func call(_ command: String, _ body: JSON) async throws -> JSON {
        await record()
        return ["current-version": "2.0.1"]
    }

    func showTasks(_ ids: [String]) async throws -> [TaskInfo] {
        await record()
        return ids.map(Self.finished)
    }

    func waitForTask(
        _ id: String,
        timeout: Double?,
        onProgress: @escaping @Sendable (TaskInfo) -> Void
    ) async throws -> TaskInfo {
        await record()
        return Self.finished(id)
    }

    func logout() async throws {
        await record()
        loggedIn = false
    }

    private func record() async {
        made.calls += 1
        await counter.count()
    }

    private static func finished(_ id: String) -> TaskInfo {
        TaskInfo(
            taskID: id,
            name: "Export Management",
            status: .succeeded,
            progress: 100,
            details: [],
            raw: ["task-id": .string(id), "status": "succeeded"]
        )
    }
}
