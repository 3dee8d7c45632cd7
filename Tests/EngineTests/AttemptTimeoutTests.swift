import ChkflowCore
import Engine
import Playbook
import Testing

/// `attempt-timeout` on the virtual clock: every attempt is given up at exactly its limit.
@Suite struct AttemptTimeoutTests {
    /// One attempt as the test expects it: virtual start and end, whether it timed out, and the
    /// wait after it.
    struct ExpectedAttempt: Equatable, CustomStringConvertible {
        var started: Double
        var ended: Double
        var timedOut = false
        var waitBefore: Double?

        var description: String {
            "\(started)-\(ended)\(timedOut ? " timed out" : "")"
                + (waitBefore.map { ", then \($0)s" } ?? "")
        }
    }

    struct RetryCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        /// Lines of the step after its id, or of `defaults` when `inDefaults`.
        var settings: String
        var inDefaults = false
        var status: StepStatus = .succeeded
        var reason: String?
        var attempts: [ExpectedAttempt]
        var ended: Double
    }

    static let ranOut = "the attempt ran out of its attempt-timeout of 10s"

    static let retryCases: [RetryCase] = [
        RetryCase(
            testDescription: "no rule: the default handling of a transport failure, full jitter",
            settings: "attempt-timeout: 10s",
            attempts: [
                ExpectedAttempt(started: 0, ended: 10, timedOut: true, waitBefore: 0.56640625),
                ExpectedAttempt(started: 10.56640625, ended: 15.56640625),
            ],
            ended: 15.56640625
        ),
        RetryCase(
            testDescription: "retry on transport",
            settings: "attempt-timeout: 10s\n    retry: {on: [transport], attempts: 3,"
                + " backoff: {initial: 1s, jitter: none}}",
            attempts: [
                ExpectedAttempt(started: 0, ended: 10, timedOut: true, waitBefore: 1),
                ExpectedAttempt(started: 11, ended: 16),
            ],
            ended: 16
        ),
        RetryCase(
            testDescription: "an on-error rule for transport that retries",
            settings: "attempt-timeout: 10s\n    on-error:\n      - transport: true\n"
                + "        retry: {attempts: 2, backoff: {initial: 2s, jitter: none}}",
            attempts: [
                ExpectedAttempt(started: 0, ended: 10, timedOut: true, waitBefore: 2),
                ExpectedAttempt(started: 12, ended: 17),
            ],
            ended: 17
        ),
        RetryCase(
            testDescription: "taken from defaults",
            settings: "attempt-timeout: 10s\n  retry: {on: [transport], attempts: 2,"
                + " backoff: {initial: 1s, jitter: none}}",
            inDefaults: true,
            attempts: [
                ExpectedAttempt(started: 0, ended: 10, timedOut: true, waitBefore: 1),
                ExpectedAttempt(started: 11, ended: 16),
            ],
            ended: 16
        ),
        RetryCase(
            testDescription: "an on-error rule for transport that fails",
            settings: "attempt-timeout: 10s\n    on-error: [{transport: true, then: fail}]",
            status: .failed,
            reason: "show-api-versions: transport error: \(ranOut)",
            attempts: [ExpectedAttempt(started: 0, ended: 10, timedOut: true)],
            ended: 10
        ),
    ]

    @Test(arguments: retryCases)
    func aTimedOutAttemptIsATransportFailure(_ test: RetryCase) async throws {
        var run = VirtualRun()
        run.script["show-api-versions"] = [.success(after: 15), .success(after: 5)]
        var text =
            playbookHead + """
                  - id: versions
                    call:
                      command: show-api-versions

                """
        if test.inDefaults {
            text = text.replacing("servers:", with: "defaults:\n  \(test.settings)\nservers:")
        } else {
            text = text.replacing(
                "  - id: versions\n",
                with: "  - id: versions\n    \(test.settings)\n"
            )
        }
        let outcome = try await run.run(text)
        let versions = try outcome.step("versions")
        #expect(versions.status == test.status)
        #expect(versions.reason == test.reason)
        #expect(outcome.offset(versions.ended) == test.ended)
        let attempts = versions.attempts.map { attempt in
            ExpectedAttempt(
                started: outcome.offset(attempt.started) ?? -1,
                ended: outcome.offset(attempt.ended) ?? -1,
                timedOut: attempt.timedOut,
                waitBefore: attempt.waitBefore
            )
        }
        #expect(attempts == test.attempts)
        #expect(versions.attempts.first?.error?.message == Self.ranOut)
        let sent = outcome.requests.filter { $0.command == "show-api-versions" }
        #expect(sent.map(\.time) == test.attempts.map(\.started))
    }

    @Test func anExportWhoseAttemptTimedOutIsAdoptedNotSentAgain() async throws {
        let text = exportWaitLogout.replacing(
            "  - id: export\n",
            with: "  - id: export\n    attempt-timeout: 10s\n"
                + "    retry: {on: [transport], attempts: 5}\n"
        )
        var run = VirtualRun()
        run.script["export-management"] = [.success(after: 15)]
        let outcome = try await run.run(text)
        let export = try outcome.step("export")
        #expect(export.status == .succeeded)
        #expect(export.taskID == "task-1")
        #expect(
            export.reason
                == "the reply to export-management was lost; adopted task task-1, found with"
                + " show-tasks"
        )
        #expect(export.attempts.count == 1)
        #expect(export.attempts.first?.timedOut == true)
        #expect(export.attempts.first?.error?.message == Self.ranOut)
        #expect(outcome.offset(export.ended) == 10)
        #expect(
            outcome.result.statuses == [
                "login:succeeded", "export:succeeded", "exported:succeeded", "logout:succeeded",
            ]
        )
        #expect(
            outcome.requests.map(\.description)
                == ["login@0.0", "export-management@0.0", "show-tasks@10.0", "logout@60.0"]
        )
    }

    @Test func aStepTimeoutStillEndsTheStepAtItsOwnDeadline() async throws {
        var run = VirtualRun()
        run.script["show-api-versions"] = Array(repeating: .success(after: 15), count: 5)
        let text =
            playbookHead + """
                  - id: versions
                    timeout: 25s
                    attempt-timeout: 10s
                    retry: {on: [transport], attempts: 5, backoff: {initial: 1s, jitter: none}}
                    call:
                      command: show-api-versions
                  - id: logout
                    if: ${{ always() }}
                    logout: {}
                """
        let outcome = try await run.run(text)
        let versions = try outcome.step("versions")
        let reason = "the step did not end within its timeout of 25s"
        #expect(versions.status == .timedOut)
        #expect(versions.reason == reason)
        #expect(outcome.offset(versions.ended) == 25)
        // The third attempt, cut short at 25 s, is not listed (docs/engine.md, What is not done
        // yet); the two before it keep their own errors.
        #expect(versions.attempts.map { outcome.offset($0.started) } == [0, 11])
        #expect(versions.attempts.map { outcome.offset($0.ended) } == [10, 21])
        #expect(versions.attempts.map(\.timedOut) == [true, true])
        #expect(versions.attempts.map(\.error?.message) == [Self.ranOut, Self.ranOut])
        #expect(
            outcome.requests.map(\.description) == [
                "login@0.0", "show-api-versions@0.0", "show-api-versions@11.0",
                "show-api-versions@23.0", "logout@25.0",
            ]
        )
    }

    @Test func aCallWhoseAttemptRunsOutWhileItWaitsLeavesTheTaskRunning() async throws {
        let text =
            playbookHead + """
                  - id: install
                    attempt-timeout: 30s
                    call:
                      command: install-policy
                      body: {policy-package: standard}
                      wait-for-task: true
                """
        var run = VirtualRun(taskDuration: 40)
        run.script["install-policy"] = [.success(after: 2)]
        let outcome = try await run.run(text)
        let install = try outcome.step("install")
        let reason =
            "the attempt ran out of its attempt-timeout of 30s while it waited for task task-1;"
            + " the task may still be running on the server"
        #expect(install.status == .timedOut)
        #expect(install.taskID == "task-1")
        #expect(install.reason == reason)
        #expect(install.task?.status == .inProgress)
        #expect(outcome.offset(install.ended) == 30)
        #expect(install.attempts.count == 1)
        #expect(install.attempts.first?.timedOut == true)
        #expect(install.attempts.first?.error?.message == reason)
        #expect(outcome.offset(install.attempts.first?.ended) == 30)
        // Sent once: sending it again would start the work a second time.
        #expect(outcome.requests.filter { $0.command == "install-policy" }.count == 1)
        let task = await outcome.server.task("task-1")
        #expect(task.status == .inProgress)
        #expect(task.progress == 75)
    }
}
