import ChkflowCore
import Engine
import Foundation
import ManagementAPI
import Playbook
import Simulator
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
        let runner = Runner(plan: plan, options: options)
        let prepared = try runner.prepare()
        let (result, overran) = await Self.watch(deadline) { await runner.run(prepared) }
        if overran { Issue.record("the run did not end within \(deadline) s") }
        return Rehearsal(
            result: result,
            requests: server.requests,
            taskNames: server.startedTaskNames,
            issuedSessions: server.issuedSessionIDs,
            openSessions: server.openSessionIDs,
            overran: overran
        )
    }

    /// Runs `body`, cancelling it after `seconds`; says whether it had to.
    static func watch<Value: Sendable>(
        _ seconds: Double,
        _ body: @escaping @Sendable () async -> Value
    ) async -> (Value, Bool) {
        await withTaskGroup(of: (Value?, Bool).self) { group in
            group.addTask { (await body(), false) }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return (nil, !Task.isCancelled)
            }
            var value: Value?
            var overran = false
            while let (result, expired) = await group.next() {
                if let result {
                    value = result
                    group.cancelAll()
                } else if expired, value == nil {
                    overran = true
                    group.cancelAll()
                }
            }
            // The body always ends: once cancelled, a run returns a cancelled result.
            return (value!, overran)
        }
    }
}
