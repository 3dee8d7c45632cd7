import ChkflowCore
import Engine
import Simulator
import Testing

/// A reply a misbehaving server sends, the step it hits, and how that step must end.
struct HostileCase: Sendable, CustomTestStringConvertible {
    var name: String
    var rule: FaultRule
    /// A fault that sets the stage for `rule`, such as a lost reply before show-tasks.
    var before: FaultRule?
    var stepID: String
    var status: StepStatus
    /// The step's reason, exactly, with `<task>` standing for the task-id of the run.
    var reason: String?
    var exportsStarted = 1
    var knownIssue: String?
    /// Whether the session stays open on the server, its clean-up logout given up.
    var sessionLeftOpen = false
    /// A timeout for the `versions` call in place of the default's 1.5 s.
    var callTimeout: String?

    var playbook: String {
        guard let callTimeout else { return Hostile.playbook }
        return Hostile.playbook.replacing(
            "needs: exported\n    call:",
            with: "needs: exported\n    timeout: \(callTimeout)\n    call:"
        )
    }

    var testDescription: String { name }
}

enum Hostile {
    static let playbook = """
        chkflow: 1
        name: hostile-server
        servers:
          lab:
            url: https://mgmt.example.net
        defaults:
          timeout: 1500ms
          retry:
            on: [transport]
            attempts: 2
            backoff: {initial: 10ms, jitter: none}
        steps:
          - id: login
            login: {user: admin, password: chkflow, domain: System Data}
          - id: export
            export: {file-path: /var/log/hostile.tgz}
          - id: exported
            wait: {task: '${{ steps.export.task-id }}', timeout: 5s}
          - id: versions
            needs: exported
            call: {command: show-api-versions, body: {}}
          - id: logout
            if: '${{ always() }}'
            logout: {}
        """

    static let scenario: Scenario = {
        var scenario = Scenario()
        scenario.export = TaskBehaviour(duration: 0.3)
        return scenario
    }()

    static let lostWhileWaiting =
        " (while waiting for task <task>, which may still be running on the server)"

    static let cases: [HostileCase] = [
        HostileCase(
            name: "a reply over 64 MiB",
            rule: FaultRule(command: "show-api-versions", action: .hugeReply(bytes: 65 << 20)),
            stepID: "versions",
            status: .failed,
            reason: "show-api-versions: invalid reply: the reply is larger than 64 MiB",
            callTimeout: "30s"
        ),
        HostileCase(
            name: "a reply cut in half",
            rule: FaultRule(command: "show-api-versions", action: .truncatedReply),
            stepID: "versions",
            status: .failed,
            reason: "show-api-versions: invalid reply (HTTP 200): the reply is not a JSON object"
        ),
        HostileCase(
            name: "a 200 that is not JSON",
            rule: FaultRule(command: "show-api-versions", action: .nonJSONReply(status: 200)),
            stepID: "versions",
            status: .failed,
            reason: "show-api-versions: invalid reply (HTTP 200): the reply is not a JSON object"
        ),
        HostileCase(
            name: "an export answered with a 200 that is not JSON",
            rule: FaultRule(command: "export-management", action: .nonJSONReply(status: 200)),
            stepID: "export",
            status: .failed,
            reason: "export-management: invalid reply (HTTP 200): the reply is not a JSON object"
        ),
        HostileCase(
            name: "show-task with an empty tasks list",
            rule: FaultRule(command: "show-task", action: .wrongShape(.tasksEmpty)),
            stepID: "exported",
            status: .failed,
            reason: "show-task: invalid reply (HTTP 200): the reply does not list task <task>"
                + lostWhileWaiting
        ),
        HostileCase(
            name: "show-task with a task without status",
            rule: FaultRule(command: "show-task", action: .wrongShape(.taskWithoutStatus)),
            stepID: "exported",
            status: .failed
        ),
        HostileCase(
            name: "every number sent as a string",
            rule: FaultRule(action: .wrongShape(.numbersAsStrings)),
            stepID: "exported",
            status: .succeeded
        ),
        HostileCase(
            name: "a task whose progress goes backwards",
            rule: FaultRule(command: "show-task", action: .taskGoesBackwards),
            stepID: "exported",
            status: .succeeded
        ),
        HostileCase(
            name: "a lost export reply, then show-tasks with an empty list",
            rule: FaultRule(command: "show-tasks", action: .wrongShape(.tasksEmpty)),
            before: FaultRule(command: "export-management", action: .dropAfterRead),
            stepID: "export",
            status: .failed,
            reason: "the reply to export-management was lost (export-management: transport"
                + " error: Empty reply from server); show-tasks found no task in progress that"
                + " could be it, so the request was not sent again; check the server before"
                + " running the step again"
        ),
        HostileCase(
            name: "an export the server never answers",
            rule: FaultRule(command: "export-management", action: .neverAnswer),
            stepID: "export",
            status: .timedOut,
            reason: "the step did not end within its timeout of 1.5s; export-management was sent,"
                + " so the server may be running the export: finish this run with `chkflow run"
                + " reliability.yaml --resume`, which looks for the task instead of sending"
                + " export-management again; running the playbook without --resume would start a"
                + " second export",
            exportsStarted: 0
        ),
        HostileCase(
            name: "a call the server never answers",
            rule: FaultRule(command: "show-api-versions", action: .neverAnswer),
            stepID: "versions",
            status: .timedOut,
            reason: "the step did not end within its timeout of 1.5s"
        ),
        HostileCase(
            name: "a show-task the server never answers",
            rule: FaultRule(command: "show-task", action: .neverAnswer),
            stepID: "exported",
            status: .timedOut,
            reason: "the wait's timeout of 5.0s ran out before show-task was answered; task <task>"
                + " may still be running on the server: wait for it again with this task-id"
        ),
        HostileCase(
            name: "a logout the server never answers",
            rule: FaultRule(command: "logout", action: .neverAnswer),
            stepID: "logout",
            status: .timedOut,
            reason: "the step did not end within its timeout of 1.5s",
            sessionLeftOpen: true
        ),
    ]

    /// The note of a session whose clean-up logout the server does not answer.
    static let leftOpenNotice =
        "session 'login' is left open: the server did not answer its logout within 5.0s; it stays"
        + " open on the server until its idle timeout ends it"
}

@Suite struct HostileServerTests {
    /// Every hostile reply at once; each issue names its case.
    @Test func aHostileReplyEndsTheStepClearlyAndCleanUpStillRuns() async {
        await concurrently(Hostile.cases, limit: Hostile.cases.count) { hostile in
            var harness = Harness()
            harness.scenario = Hostile.scenario
            harness.scenario.faults = [hostile.before, hostile.rule].compactMap { $0 }
            harness.deadline = hostile.callTimeout == nil ? 12 : 60
            if let issue = hostile.knownIssue {
                await withKnownIssue(Comment(rawValue: issue)) {
                    try await Self.check(hostile, with: harness)
                }
            } else {
                try await Self.check(hostile, with: harness)
            }
        }
    }

    private static func check(_ hostile: HostileCase, with harness: Harness) async throws {
        let label = Comment(rawValue: hostile.name)
        let rehearsal = try await harness.run(hostile.playbook)
        let step = try #require(rehearsal.step(hostile.stepID), label)
        let taskID = rehearsal.step("export")?.taskID ?? "?"

        #expect(step.status == hostile.status, "\(label): \(step.reason ?? "")")
        if let reason = hostile.reason {
            #expect(step.reason == reason.replacing("<task>", with: taskID), label)
        }
        #expect(rehearsal.exitCode == (hostile.status.failsRun ? 1 : 0), label)
        #expect(rehearsal.exportsStarted == hostile.exportsStarted, label)
        #expect(rehearsal.count("export-management") == 1, label)
        #expect(rehearsal.count("logout") >= 1, label)
        if hostile.sessionLeftOpen {
            // The clean-up logout is given up after 5 s, not left to libcurl's 120 s.
            #expect(rehearsal.openSessions.count == 1, label)
            #expect(rehearsal.result.sessionsLeftOpen == ["login"], label)
            #expect(rehearsal.result.cleanupLogouts.isEmpty, label)
            #expect(rehearsal.notices == [Hostile.leftOpenNotice], label)
        } else {
            #expect(rehearsal.openSessions.isEmpty, label)
            #expect(rehearsal.result.sessionsLeftOpen.isEmpty, label)
        }
    }
}
