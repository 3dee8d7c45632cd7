import ChkflowCore
import Engine
import Playbook
import Synchronization
import Testing

/// A run against a ``MemoryServer`` on a ``VirtualClock``: every wait of the run is exact and
/// takes no real time.
struct VirtualRun {
    var script: [String: [MemoryServer.Reply]] = [:]
    var taskDuration: Double = 60
    var seed: UInt64 = 1
    var cleanUpLogoutTimeout: Double = 5
    /// The step at whose start the run is cancelled, as a first Ctrl-C does.
    var cancelAt: String?

    struct Outcome {
        var result: RunResult
        var notices: [String]
        var requests: [MemoryServer.Request]
        var clock: VirtualClock
        var server: MemoryServer

        /// The step's result; fails the test when the run has no such step.
        func step(_ id: String) throws -> StepResult { try #require(result.step(id)) }

        /// Virtual seconds from the start of the run to a wall time of the run.
        func offset(_ time: Double?) -> Double? { time.map { $0 - clock.origin } }
    }

    func run(_ text: String) async throws -> Outcome {
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "test.yaml")
        let clock = VirtualClock()
        let server = MemoryServer(clock: clock, taskDuration: taskDuration, script: script)
        var options = server.options(seed: seed)
        options.cleanUpLogoutTimeout = cleanUpLogoutTimeout
        let notices = Mutex<[String]>([])
        let runner = Runner(plan: plan, options: options) { [cancelAt] event in
            switch event {
            case .notice(let text, _): notices.withLock { $0.append(text) }
            case .stepStarted(let id, _, _) where id == cancelAt:
                // The event comes on the run's own task: cancelling it here stops the run at
                // exactly this point.
                withUnsafeCurrentTask { $0?.cancel() }
            default: break
            }
        }
        let prepared = try runner.prepare()
        let result = await Task { await runner.run(prepared) }.value
        #expect(clock.strays == 0, "a sleep of the run did not run on the clock's thread")
        return Outcome(
            result: result,
            notices: notices.withLock { $0 },
            requests: await server.requests,
            clock: clock,
            server: server
        )
    }
}

/// The error every scripted `generic_server_error` reply describes itself with.
private let serverError =
    "show-api-versions: generic_server_error (HTTP 500): the script says generic_server_error"

/// A playbook that logs in and calls show-api-versions with `retry`, or with nothing but the
/// defaults when `retry` is empty.
private func versionsCall(retry: String = "", window: String = "") -> String {
    let head = playbookHead.replacing("servers:", with: window + "servers:")
    let retried = retry.isEmpty ? "" : "\n    retry: " + retry
    return head + """
          - id: versions
            call:
              command: show-api-versions\(retried)
        """
}

@Suite struct VirtualTimeTests {
    struct BackoffCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var retry: String
        var seed: UInt64 = 1
        var code = "generic_server_error"
        /// The wait recorded on each attempt, the last (successful) one included.
        var waits: [Double?]
    }

    static let backoffCases: [BackoffCase] = [
        BackoffCase(
            testDescription: "doubling up to the cap, no jitter",
            retry: "{on: [generic_server_error], attempts: 5,"
                + " backoff: {initial: 1s, factor: 2, max: 5s, jitter: none}}",
            waits: [1, 2, 4, 5, nil]
        ),
        BackoffCase(
            testDescription: "doubling up to the cap, full jitter, seed 1",
            retry: "{on: [generic_server_error], attempts: 5,"
                + " backoff: {initial: 1s, factor: 2, max: 5s, jitter: full}}",
            waits: [0.56640625, 1.490234375, 3.8828125, 2.2216796875, nil]
        ),
        BackoffCase(
            testDescription: "tripling up to a minute, full jitter, seed 7",
            retry: "{on: [generic_server_error], attempts: 5,"
                + " backoff: {initial: 2s, factor: 3, max: 1m, jitter: full}}",
            seed: 7,
            waits: [0.779296875, 0.099609375, 16.20703125, 31.4296875, nil]
        ),
        BackoffCase(
            testDescription: "a transient code with no retry given: 1s, 2s, 4s, full jitter",
            retry: "",
            code: "err_too_many_requests",
            waits: [0.56640625, 1.490234375, 3.8828125, nil]
        ),
    ]

    @Test(arguments: backoffCases)
    func retryWaitsFollowTheBackoffExactly(_ test: BackoffCase) async throws {
        let failures = test.waits.count - 1
        var run = VirtualRun(seed: test.seed)
        run.script["show-api-versions"] = Array(repeating: .error(test.code), count: failures)
        let outcome = try await run.run(versionsCall(retry: test.retry))
        let versions = try outcome.step("versions")
        #expect(versions.status == .succeeded)
        #expect(versions.attempts.map(\.waitBefore) == test.waits)
        // Each attempt starts when the wait before it ends, to the exact virtual second.
        var starts: [Double] = [0]
        for wait in test.waits.dropLast() { starts.append(starts[starts.count - 1] + (wait ?? 0)) }
        #expect(versions.attempts.map { outcome.offset($0.started) } == starts)
        let sent = outcome.requests.filter { $0.command == "show-api-versions" }
        #expect(sent.map(\.time) == starts)
    }

    struct BudgetCase: Sendable, CustomTestStringConvertible {
        var budget: String
        /// The waits recorded, the last (failed, not retried) attempt included.
        var waits: [Double?]
        /// When the step ended, in virtual seconds: each failure takes 1 s to come.
        var ended: Double
        var testDescription: String { "budget \(budget)" }
    }

    @Test(arguments: [
        BudgetCase(budget: "25s", waits: [10, nil], ended: 12),
        BudgetCase(budget: "40s", waits: [10, 20, nil], ended: 33),
        BudgetCase(budget: "2m", waits: [10, 20, 40, nil], ended: 74),
    ])
    func theRetryBudgetEndsTheRetriesBeforeAWaitWouldOverrunIt(_ test: BudgetCase) async throws {
        var run = VirtualRun()
        run.script["show-api-versions"] = Array(
            repeating: .error("generic_server_error", after: 1),
            count: 10
        )
        let retry =
            "{on: [generic_server_error], attempts: 10, budget: \(test.budget),"
            + " backoff: {initial: 10s, factor: 2, max: 1m, jitter: none}}"
        let outcome = try await run.run(versionsCall(retry: retry))
        let versions = try outcome.step("versions")
        #expect(versions.status == .failed)
        #expect(versions.reason == serverError)
        #expect(versions.attempts.map(\.waitBefore) == test.waits)
        #expect(outcome.offset(versions.ended) == test.ended)
    }

    struct WindowWaitCase: Sendable, CustomTestStringConvertible {
        /// The window closes an hour into the run; the reserve sets its last moment.
        var reserve: String
        var lastMoment: String
        var waits: [Double?]
        var refusedWait: String
        var testDescription: String { "reserve \(reserve)" }
    }

    @Test(arguments: [
        WindowWaitCase(
            reserve: "59m",
            lastMoment: "2026-12-05T01:01:00.000Z",
            waits: [20, 40, nil],
            refusedWait: "1m20s"
        ),
        WindowWaitCase(
            reserve: "59m30s",
            lastMoment: "2026-12-05T01:00:30.000Z",
            waits: [20, nil],
            refusedWait: "40s"
        ),
    ])
    func retryWaitsNeverReachPastTheWindow(_ test: WindowWaitCase) async throws {
        var run = VirtualRun()
        run.script["show-api-versions"] = Array(repeating: .error("generic_server_error"), count: 5)
        let window = "window:\n  closes: 2026-12-05T02:00:00Z\n  reserve: \(test.reserve)\n"
        let retry =
            "{on: [generic_server_error], attempts: 5,"
            + " backoff: {initial: 20s, factor: 2, max: 5m, jitter: none}}"
        let outcome = try await run.run(versionsCall(retry: retry, window: window))
        let versions = try outcome.step("versions")
        #expect(versions.status == .failed)
        #expect(versions.attempts.map(\.waitBefore) == test.waits)
        #expect(
            versions.reason
                == "\(serverError); not retried: the wait of \(test.refusedWait) would reach past"
                + " \(test.lastMoment), the end of the change window less its reserve"
        )
    }

    struct WindowCase: Sendable, CustomTestStringConvertible {
        var closes: String
        var expect: String
        var status: StepStatus
        var reason: String?
        var testDescription: String { "closes \(closes), expect \(expect)" }
    }

    @Test(arguments: [
        WindowCase(closes: "2026-12-05T01:30:00Z", expect: "15m", status: .succeeded),
        WindowCase(
            closes: "2026-12-05T01:30:00Z",
            expect: "25m",
            status: .refused,
            reason: "refused: it is expected to take 25m00s and would end at"
                + " 2026-12-05T01:25:00.000Z, after 2026-12-05T01:20:00.000Z (the window closes"
                + " at 2026-12-05T01:30:00Z and keeps 10m00s in reserve)"
        ),
        WindowCase(
            closes: "2026-12-05T01:05:00Z",
            expect: "1m",
            status: .refused,
            reason: "refused: the change window left no room (it closes at"
                + " 2026-12-05T01:05:00Z and keeps 10m00s in reserve)"
        ),
    ])
    func theWindowJudgesAStepByTheRunsClock(_ test: WindowCase) async throws {
        let window = "window:\n  closes: \(test.closes)\n  reserve: 10m\n"
        let text =
            playbookHead.replacing("servers:", with: window + "servers:") + """
                  - id: export
                    expect: \(test.expect)
                    export:
                      file-path: /var/log/x.tgz
                """
        let outcome = try await VirtualRun().run(text)
        let export = try outcome.step("export")
        #expect(export.status == test.status)
        #expect(export.reason == test.reason)
        let exports = outcome.requests.filter { $0.command == "export-management" }.count
        #expect(exports == (test.status == .succeeded ? 1 : 0))
    }

    struct TimeoutCase: Sendable, CustomTestStringConvertible {
        var reply: Double
        var status: StepStatus
        var reason: String?
        var ended: Double
        var testDescription: String { "a reply after \(reply)s" }
    }

    @Test(arguments: [
        TimeoutCase(
            reply: 40,
            status: .timedOut,
            reason: "the step did not end within its timeout of 30s",
            ended: 30
        ),
        TimeoutCase(
            reply: 30.5,
            status: .timedOut,
            reason: "the step did not end within its timeout of 30s",
            ended: 30
        ),
        TimeoutCase(reply: 29.5, status: .succeeded, ended: 29.5),
    ])
    func aStepTimeoutEndsTheStepAndItsAttemptAtTheDeadline(_ test: TimeoutCase) async throws {
        var run = VirtualRun()
        run.script["show-api-versions"] = [.success(after: test.reply)]
        let text =
            playbookHead + """
                  - id: versions
                    timeout: 30s
                    call:
                      command: show-api-versions
                  - id: logout
                    if: ${{ always() }}
                    logout: {}
                """
        let outcome = try await run.run(text)
        let versions = try outcome.step("versions")
        #expect(versions.status == test.status)
        #expect(versions.reason == test.reason)
        #expect(outcome.offset(versions.started) == 0)
        #expect(outcome.offset(versions.ended) == test.ended)
        let attempts = versions.attempts
        #expect(attempts.count == 1)
        #expect(attempts.map { outcome.offset($0.ended) } == [test.ended])
        #expect(attempts.first?.error?.message == test.reason)
        #expect(
            outcome.requests.map(\.description)
                == ["login@0.0", "show-api-versions@0.0", "logout@\(test.ended)"]
        )
    }

    struct TaskTimeoutCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var steps: String
        var step: String
        var reason: String
    }

    @Test(arguments: [
        TaskTimeoutCase(
            testDescription: "a step timeout while the step waits for its task",
            steps: """
                  - id: install
                    call:
                      command: install-policy
                      body: {policy-package: standard}
                      wait-for-task: true
                """,
            step: "install",
            reason: "the step did not end within its timeout of 30s; task task-1 may still be"
                + " running on the server"
        ),
        TaskTimeoutCase(
            testDescription: "a wait's own timeout",
            steps: exportAndWaitSteps,
            step: "exported",
            reason: "task task-1 is still in progress at 75% after 30s; it keeps running on the"
                + " server: wait for it again with this task-id"
        ),
    ])
    func aTimedOutTaskKeepsItsIDAndKeepsRunning(_ test: TaskTimeoutCase) async throws {
        let text =
            playbookHead.replacing("servers:", with: "defaults:\n  timeout: 30s\nservers:")
            + test.steps
        let outcome = try await VirtualRun(taskDuration: 40).run(text)
        let step = try outcome.step(test.step)
        #expect(step.status == .timedOut)
        #expect(step.taskID == "task-1")
        #expect(step.reason == test.reason)
        #expect(outcome.offset(step.ended) == 30)
        let task = await outcome.server.task("task-1")
        #expect(task.status == .inProgress)
        #expect(task.progress == 75)
        #expect(outcome.result.outcome == .failed)
    }

    struct CleanUpCase: Sendable, CustomTestStringConvertible {
        var logout: Double
        var loggedOut: [String]
        var leftOpen: [String]
        var notice: String
        var ended: Double
        var testDescription: String { "a logout that takes \(logout)s" }
    }

    @Test(arguments: [
        CleanUpCase(
            logout: 2,
            loggedOut: ["login"],
            leftOpen: [],
            notice: "logged out session 'login', which no logout step closed",
            ended: 2
        ),
        CleanUpCase(
            logout: 20,
            loggedOut: [],
            leftOpen: ["login"],
            notice: "session 'login' is left open: the server did not answer its logout within"
                + " 5.0s; it stays open on the server until its idle timeout ends it",
            ended: 5
        ),
    ])
    func theCleanUpGivesUpALogoutAtItsLimit(_ test: CleanUpCase) async throws {
        var run = VirtualRun()
        run.script["logout"] = [.success(after: test.logout)]
        let outcome = try await run.run(versionsCall())
        #expect(outcome.result.cleanupLogouts == test.loggedOut)
        #expect(outcome.result.sessionsLeftOpen == test.leftOpen)
        #expect(outcome.notices == [test.notice])
        #expect(outcome.offset(outcome.result.ended) == test.ended)
    }

    struct DiscardCase: Sendable, CustomTestStringConvertible {
        var discard: Double
        var notices: [String]
        var discardsFailed: [String]
        var ended: Double
        var testDescription: String { "a discard that takes \(discard)s" }
    }

    @Test(arguments: [
        DiscardCase(
            discard: 2,
            notices: ["logged out session 'login', which no logout step closed"],
            discardsFailed: [],
            ended: 2
        ),
        DiscardCase(
            discard: 100,
            notices: [
                "the unpublished changes of session 'login' were not discarded: the server did"
                    + " not answer its discard within 5.0s; they may stay on the server until an"
                    + " administrator discards them",
                "logged out session 'login', which no logout step closed",
            ],
            discardsFailed: ["login"],
            ended: 5
        ),
    ])
    func aCancelledRunGivesUpADiscardAtTheCleanUpLimitAndStillLogsOut(
        _ test: DiscardCase
    ) async throws {
        var run = VirtualRun(taskDuration: 600, cancelAt: "exported")
        run.script["discard"] = [.success(after: test.discard)]
        let outcome = try await run.run(exportWaitLogout)
        #expect(outcome.result.outcome == .cancelled)
        #expect(
            outcome.result.statuses == [
                "login:succeeded", "export:succeeded", "exported:cancelled", "logout:cancelled",
            ]
        )
        #expect(outcome.result.discardsFailed == test.discardsFailed)
        #expect(outcome.result.cleanupLogouts == ["login"])
        #expect(outcome.notices == test.notices)
        #expect(
            outcome.requests.map(\.description)
                == ["login@0.0", "export-management@0.0", "discard@0.0", "logout@\(test.ended)"]
        )
        #expect(outcome.offset(outcome.result.ended) == test.ended)
    }
}
