import ChkflowCore
import Engine
import Simulator
import Testing

/// The step of the matrix playbook a fault is aimed at, and the call of the server it hits.
enum StepKind: String, CaseIterable, Sendable {
    case login, verify, export, wait, call, logout

    /// The id of the step in `matrixPlaybook`.
    var stepID: String {
        switch self {
        case .wait: "verified"
        case .call: "versions"
        default: rawValue
        }
    }

    var command: String {
        switch self {
        case .verify, .export: "export-management"
        case .wait: "show-task"
        case .call: "show-api-versions"
        default: rawValue
        }
    }

    /// Which call of the command is the step's first: the verification is export-management
    /// number 1, the export number 2, the first poll of `verified` show-task number 1.
    var callNumber: Int { self == .export ? 2 : 1 }

    /// Whether the step can run before a session exists.
    var opensSession: Bool { self == .login }
}

/// A fault the simulator injects on the first call a step makes.
enum Fault: Sendable, CustomStringConvertible {
    /// A Check Point error code of the catalogue, with the HTTP status a server sends with it.
    case code(String, status: Int)
    /// An HTTP status with an HTML body (a proxy or a broken API server).
    case htmlStatus(Int)
    case dropBeforeRead
    case dropAfterRead
    /// A reply that comes after the step's timeout.
    case slowReply
    /// The non-JSON 403 of a server whose API settings refuse the client.
    case forbidden
    /// The task the step waits for never ends.
    case hungTask

    var description: String {
        switch self {
        case .code(let code, let status): "\(code) (HTTP \(status))"
        case .htmlStatus(let status): "HTTP \(status) with an HTML body"
        case .dropBeforeRead: "connection dropped before the request is read"
        case .dropAfterRead: "connection dropped after the request is read"
        case .slowReply: "a reply slower than the step's timeout"
        case .forbidden: "a non-JSON 403"
        case .hungTask: "a hung task"
        }
    }

    var isDropAfterRead: Bool {
        if case .dropAfterRead = self { return true }
        return false
    }

    var errorClass: ErrorClass? {
        guard case .code(let code, _) = self else { return nil }
        return ErrorCatalogue.errorClass(of: code)
    }

    /// Every transient and session code of the catalogue, each with a fitting status.
    static let catalogueCodes: [Fault] = ErrorCatalogue.entries.filter {
        $0.errorClass != .permanent
    }.map { entry in
        let status =
            switch entry.code {
            case "err_too_many_requests": 429
            case "generic_err_session_in_use", "generic_err_object_locked": 409
            case "generic_server_initializing", "err_cme_api_not_running_failure": 503
            default: entry.errorClass == .session ? 401 : 500
            }
        return .code(entry.code, status: status)
    }

    static let all: [Fault] =
        catalogueCodes + [
            .htmlStatus(500), .htmlStatus(503), .dropBeforeRead, .dropAfterRead, .slowReply,
            .forbidden,
        ]

    /// The simulator's fault rule for a step.
    func rule(for kind: StepKind) -> FaultRule? {
        let action: FaultAction
        switch self {
        case .code(let code, let status):
            action = .error(status: status, code: code, message: "Injected \(code)")
        case .htmlStatus(let status): action = .nonJSONReply(status: status)
        case .dropBeforeRead: action = .dropBeforeRead
        case .dropAfterRead: action = .dropAfterRead
        case .slowReply: action = .slowReply(seconds: Matrix.slowReply)
        case .forbidden: action = .nonJSONForbidden
        case .hungTask: return nil
        }
        return FaultRule(command: kind.command, call: kind.callNumber, action: action)
    }
}

/// What the documented semantics say a fault on a step must lead to.
struct Expectation {
    var status: StepStatus
    var attempts: Int
    /// Export tasks the server must have started: never more than one per export step.
    var exportsStarted: Int
    var logins = 1
    /// Sessions the server may still hold that the client could not have closed: the one a
    /// login opened whose reply was lost, or one the server said it did not know.
    var orphanSessions = 0
    /// The Check Point code the step's error must carry, when it failed with one.
    var code: String?
    /// Why this case is known to go wrong today; nil when it must pass.
    var knownIssue: String?

    var runSucceeds: Bool { !status.failsRun }
}

enum Matrix {
    /// Every step's timeout (1.5 s from `defaults`, 2 s for waits) and the delay of a slow
    /// reply beyond both.
    static let slowReply = 3.0

    static let playbook = """
        chkflow: 1
        name: fault-matrix
        servers:
          lab:
            url: https://mgmt.example.net
        defaults:
          timeout: 1500ms
        steps:
          - id: login
            login: {user: admin, password: chkflow, domain: System Data}
          - id: verify
            verify: {version: R82}
          - id: verified
            wait: {task: '${{ steps.verify.task-id }}', timeout: 2s}
          - id: export
            needs: verified
            export: {file-path: /var/log/matrix.tgz, version: R82}
          - id: exported
            wait: {task: '${{ steps.export.task-id }}', timeout: 2s}
          - id: versions
            needs: exported
            call: {command: show-api-versions, body: {}}
          - id: logout
            if: '${{ always() }}'
            logout: {}
        """

    static let scenario: Scenario = {
        var scenario = Scenario()
        // In progress at the first poll, even on a loaded machine, and over well before 2 s.
        scenario.verification = TaskBehaviour(duration: 1)
        // Long enough that a lost export is still in progress when show-tasks looks for it,
        // however loaded the machine.
        scenario.export = TaskBehaviour(duration: 1)
        return scenario
    }()

    /// The reasons of the steps a slow reply times out that must say what may go on running.
    static let slowReplyReasons: [StepKind: String] = [
        // The poll is given up at the wait's timeout, not when the late reply comes.
        .wait: "the wait's timeout of 2.0s ran out before show-task was answered; task <task> may"
            + " still be running on the server: wait for it again with this task-id",
        .export: "the step did not end within its timeout of 1.5s; export-management was sent, so"
            + " the server may be running the export: finish this run with `chkflow run"
            + " reliability.yaml --resume`, which looks for the task instead of sending"
            + " export-management again; running the playbook without --resume would start a"
            + " second export",
    ]

    static let cases: [(StepKind, Fault)] =
        StepKind.allCases.flatMap { kind in Fault.all.map { (kind, $0) } } + [(.wait, .hungTask)]

    /// The outcome docs/playbooks.md, DESIGN.md ("Running safely") and the catalogue promise.
    static func expectation(_ kind: StepKind, _ fault: Fault) -> Expectation {
        // An export task starts only when the steps before it succeeded.
        let exportsIfFailed = [.call, .logout].contains(kind) ? 1 : 0
        let failed = { (code: String?) in
            Expectation(
                status: .failed,
                attempts: 1,
                exportsStarted: exportsIfFailed,
                logins: kind == .login ? 0 : 1,
                code: code
            )
        }
        let retried = Expectation(
            status: .succeeded,
            attempts: kind == .wait ? 1 : 2,
            exportsStarted: 1
        )
        switch fault {
        case .code(let code, _) where fault.errorClass == .session:
            if kind == .login { return failed(code) }
            // The session logs in again inside the step and sends the request once more. The
            // injected 401 leaves the first session open on the simulator, where a real expiry
            // would have ended it.
            var renewed = Expectation(status: .succeeded, attempts: 1, exportsStarted: 1)
            renewed.logins = kind == .logout ? 1 : 2
            renewed.orphanSessions = 1
            return renewed
        case .code("err_too_many_requests", _) where kind == .login:
            // The run's login budget waits out the login window (61 s) before the next try:
            // the step's 1.5 s timeout ends it first.
            return Expectation(status: .timedOut, attempts: 1, exportsStarted: 0, logins: 0)
        case .code, .htmlStatus(503):
            return retried
        case .htmlStatus:
            // A 500 without a code is permanent (APIError.errorClass); a wait polls again.
            return kind == .wait ? retried : failed(nil)
        case .forbidden:
            return failed(nil)
        case .dropBeforeRead, .dropAfterRead:
            // libcurl itself sends a request again once when a kept-alive connection dies
            // before the reply; a once-only command goes on a fresh connection, never resent.
            let resentByLibcurl = Expectation(status: .succeeded, attempts: 1, exportsStarted: 1)
            let lostAfterRead = fault.isDropAfterRead
            switch kind {
            case .login: return lostAfterRead ? retried.with(orphans: 1) : retried
            // A verification changes nothing, so it is sent again, on a fresh connection.
            case .verify: return retried
            case .export:
                // The task the lost request started is adopted through show-tasks.
                let adopted = Expectation(status: .succeeded, attempts: 1, exportsStarted: 1)
                return lostAfterRead ? adopted : failed(nil)
            case .wait: return retried
            case .call, .logout: return resentByLibcurl
            }
        case .slowReply:
            var late = Expectation(
                status: .timedOut,
                attempts: 1,
                exportsStarted: [.export, .call, .logout].contains(kind) ? 1 : 0,
                logins: kind == .login ? 0 : 1
            )
            // The login ran on the server, but its sid never reached the client.
            if kind == .login { late.orphanSessions = 1 }
            return late
        case .hungTask:
            return Expectation(status: .timedOut, attempts: 1, exportsStarted: 0)
        }
    }
}

extension Expectation {
    func with(exports: Int) -> Expectation {
        var copy = self
        copy.exportsStarted = exports
        return copy
    }

    func with(orphans: Int) -> Expectation {
        var copy = self
        copy.orphanSessions = orphans
        return copy
    }

    func known(_ issue: String) -> Expectation {
        var copy = self
        copy.knownIssue = issue
        return copy
    }
}

@Suite struct FaultMatrixTests {
    /// Every case of the matrix, twelve at a time; each issue names its case.
    @Test func aFaultOnAnyStepEndsAsDocumented() async {
        await concurrently(Matrix.cases, limit: 12) { kind, fault in
            try await Self.check(kind, fault)
        }
    }

    static func check(_ kind: StepKind, _ fault: Fault) async throws {
        let label = Comment(rawValue: "\(fault) on \(kind.rawValue)")
        var harness = Harness()
        harness.scenario = Matrix.scenario
        if let rule = fault.rule(for: kind) { harness.scenario.faults = [rule] }
        if case .hungTask = fault { harness.scenario.verification.hangAt = 50 }
        let expected = Matrix.expectation(kind, fault)
        let rehearsal = try await harness.run(Matrix.playbook)
        let step = try #require(rehearsal.step(kind.stepID), label)
        let documented = {
            #expect(step.status == expected.status, "\(label): \(step.reason ?? "")")
            #expect(rehearsal.exitCode == (expected.runSucceeds ? 0 : 1), label)
            #expect(step.attempts.count == expected.attempts, label)
            #expect(rehearsal.exportsStarted == expected.exportsStarted, label)
            #expect(rehearsal.result.logins == expected.logins, label)
        }
        if let issue = expected.knownIssue {
            withKnownIssue(Comment(rawValue: issue)) { documented() }
        } else {
            documented()
        }
        if let code = expected.code { #expect(step.error?.code == code, label) }
        if kind == .export, case .dropAfterRead = fault {
            #expect(
                step.reason?.hasPrefix("the reply to export-management was lost; adopted task ")
                    == true,
                label
            )
        }
        if kind == .export, case .dropBeforeRead = fault {
            #expect(
                step.reason?.hasSuffix(
                    "show-tasks found no task in progress that could be it, so the request was"
                        + " not sent again; check the server before running the step again"
                ) == true,
                label
            )
        }
        if case .slowReply = fault, let reason = Matrix.slowReplyReasons[kind] {
            let taskID = step.taskID ?? "?"
            #expect(step.reason == reason.replacing("<task>", with: taskID), label)
        }
        #expect(rehearsal.exportsStarted <= 1, label)
        // Every session the client knew of is closed, by the logout step or the clean-up.
        #expect(rehearsal.openSessions.count == expected.orphanSessions, label)
        if expected.logins > 0 { #expect(rehearsal.count("logout") >= 1, label) }
        #expect(!rehearsal.overran, label)
    }
}
