import ChkflowCore
import Engine
import Foundation
import ManagementAPI
import Playbook
import Simulator
import Synchronization
import Testing

/// What one run of a playbook against a fresh simulator left behind: the engine's result and
/// everything the server saw.
struct Rehearsal {
    var result: RunResult
    var requests: [RequestRecord]
    /// `task-name` of every task the server started.
    var taskNames: [String]
    var issuedSessions: [String]
    /// Sessions neither logged out nor expired when the run ended.
    var openSessions: [String]
    /// Whether the watchdog had to cancel the run.
    var overran: Bool
    /// The notes the engine gave the console, in order.
    var notices: [String] = []

    func count(_ command: String) -> Int { requests.filter { $0.command == command }.count }

    /// Export tasks (not verifications) the server started.
    var exportsStarted: Int { taskNames.filter { $0 == "Export Management" }.count }

    /// The exit status `chkflow run` gives this outcome (DESIGN.md, ExitCode.swift).
    var exitCode: Int32 {
        switch result.outcome {
        case .succeeded: 0
        case .failed: 1
        case .cancelled: 130
        }
    }

    func step(_ id: String) -> StepResult? { result.steps.first { $0.id == id } }

    /// `id:status` of every top-level step, in plan order.
    var statuses: [String] { result.steps.map { "\($0.id):\($0.status.rawValue)" } }
}

/// Runs a playbook text against a fresh in-process simulator on a free loopback port, with a
/// watchdog that cancels the run (and records an issue) when it takes longer than `deadline`.
struct Harness {
    var scenario = Scenario.default
    var maxParallel = 4
    var deadline: Double = 20
    var journal: Journal?

    func run(_ text: String) async throws -> Rehearsal {
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "reliability.yaml")
        let server = SimulatorServer(scenario: scenario)
        try server.start()
        defer { server.stop() }
        var options = RunOptions()
        options.simulatorURL = server.baseURL
        options.maxParallel = maxParallel
        options.journal = journal
        let notices = Mutex<[String]>([])
        let runner = Runner(plan: plan, options: options) { event in
            if case .notice(let text, _) = event { notices.withLock { $0.append(text) } }
        }
        let prepared = try runner.prepare()
        let work = Task { await runner.run(prepared) }
        let overran = await Self.outlasts(work, deadline)
        if overran {
            // Cancelled, the run still logs out what is open; with the server gone that fails
            // at once instead of waiting out a request that will never be answered.
            work.cancel()
            server.stop()
            Issue.record("the run did not end within \(deadline) s")
        }
        let result = await work.value
        return Rehearsal(
            result: result,
            requests: server.requests,
            taskNames: server.startedTaskNames,
            issuedSessions: server.issuedSessionIDs,
            openSessions: server.openSessionIDs,
            overran: overran,
            notices: notices.withLock { $0 }
        )
    }

    /// Whether `work` is still running after `seconds`.
    static func outlasts<Value: Sendable>(
        _ work: Task<Value, Never>,
        _ seconds: Double
    ) async
        -> Bool
    {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self)
        let finisher = Task {
            _ = await work.value
            continuation.yield(false)
        }
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            continuation.yield(true)
        }
        var overran = false
        for await first in stream {
            overran = first
            break
        }
        finisher.cancel()
        timer.cancel()
        return overran
    }
}

/// Runs `body` for every case, `limit` at a time, so that a table of slow cases takes the time
/// of a few of them even when the test runner runs tests one at a time (`make test` does).
func concurrently<Case: Sendable>(
    _ cases: [Case],
    limit: Int,
    _ body: @escaping @Sendable (Case) async throws -> Void
) async {
    await withTaskGroup(of: Void.self) { group in
        var next = 0
        for _ in 0..<min(limit, cases.count) {
            let item = cases[next]
            next += 1
            group.addTask { await record { try await body(item) } }
        }
        while await group.next() != nil, next < cases.count {
            let item = cases[next]
            next += 1
            group.addTask { await record { try await body(item) } }
        }
    }
}

/// Records a thrown error as an issue of the current test instead of ending it.
private func record(_ body: () async throws -> Void) async {
    do {
        try await body()
    } catch {
        Issue.record(error)
    }
}
