import ChkflowCore
import ManagementAPI

@testable import Engine

/// Hand-built runs that cover every status, retries, loop items, task details and errors.
enum SampleRuns {
    /// 2026-12-05T01:00:00Z, the opening of the sample change window.
    static let opening = 1_796_432_400.0

    static func at(_ offset: Double) -> Double { opening + offset }

    /// A login and a logout, nothing else.
    static var tiny: RunResult {
        let login = StepResult(
            id: "login",
            kind: "login",
            status: .succeeded,
            started: at(0),
            ended: at(0.25),
            attempts: [Attempt(number: 1, started: at(0), ended: at(0.25))],
            outputs: [
                "api-server-version": "2.0.1",
                "response": ["sid": "secret-session-id", "api-server-version": "2.0.1"],
            ]
        )
        let logout = StepResult(
            id: "logout",
            kind: "logout",
            status: .succeeded,
            started: at(0.25),
            ended: at(0.5),
            attempts: [Attempt(number: 1, started: at(0.25), ended: at(0.5))]
        )
        return run(name: "tiny", steps: [login, logout], outcome: .succeeded, calls: 2)
    }

    /// Every status once at least: a retried login, a verification with task details, a loop
    /// over two domains (one export fails), an ignored call, a refused export, a timed-out wait,
    /// a skipped step and a cancelled one.
    static var everyStatus: RunResult {
        let steps = [
            retriedLogin, verification, domainLoop, ignoredCall, refusedExport, timedOutWait,
            skippedStep, cancelledStep,
            StepResult(
                id: "logout",
                kind: "logout",
                status: .succeeded,
                started: at(60),
                ended: at(60.1),
                attempts: [Attempt(number: 1, started: at(60), ended: at(60.1))]
            ),
        ]
        var result = run(name: "every-status", steps: steps, outcome: .failed, calls: 23)
        result.logins = 2
        result.waitingSeconds = 31.5
        result.cleanupLogouts = ["each[1].login"]
        return result
    }

    static func run(
        name: String,
        steps: [StepResult],
        outcome: RunResult.Outcome,
        calls: Int
    ) -> RunResult {
        RunResult(
            runID: "20261205010000-0a1b2c3d",
            playbookName: name,
            playbookFile: "playbooks/\(name).yaml",
            playbookSHA256: String(repeating: "ab", count: 32),
            started: at(0),
            ended: (steps.compactMap(\.ended).max() ?? at(0)),
            outcome: outcome,
            steps: steps,
            servers: [
                ServerSummary(
                    name: "primary",
                    url: "https://mgmt.example.net",
                    apiServerVersion: "2.0.1",
                    simulated: false
                )
            ],
            apiCalls: calls,
            logins: 1,
            waitingSeconds: 0,
            cleanupLogouts: []
        )
    }

    static var tooManyRequests: ErrorSummary {
        ErrorSummary(
            message: "Too many requests in a given amount of time",
            code: "err_too_many_requests",
            httpStatus: 429
        )
    }

    static var retriedLogin: StepResult {
        var first = Attempt(number: 1, started: at(0), ended: at(0.5), error: tooManyRequests)
        first.waitBefore = 2
        return StepResult(
            id: "login",
            kind: "login",
            status: .succeeded,
            started: at(0),
            ended: at(3),
            attempts: [first, Attempt(number: 2, started: at(2.5), ended: at(3))],
            outputs: [
                "api-server-version": "2.0.1", "session-timeout": 600,
                "response": ["sid": "must-not-appear", "url": "https://mgmt.example.net/web_api"],
            ]
        )
    }

    static var verification: StepResult {
        let details: JSON = [
            [
                "statusCode": "succeeded", "statusDescription": "Verification passed",
                "verification-summary": ["blocking-errors": 0, "warnings": 1],
            ]
        ]
        return StepResult(
            id: "verified",
            kind: "wait",
            status: .succeeded,
            started: at(3),
            ended: at(13),
            attempts: [Attempt(number: 1, started: at(3), ended: at(13))],
            taskID: "01234567-89ab-cdef-0123-456789abcdef",
            task: TaskInfo(
                taskID: "01234567-89ab-cdef-0123-456789abcdef",
                name: "Pre-export verification",
                status: .succeededWithWarnings,
                progress: 100,
                details: details,
                raw: [:]
            ),
            outputs: ["task-id": "01234567-89ab-cdef-0123-456789abcdef", "task": ["raw": true]]
        )
    }

    static var domainLoop: StepResult {
        let good = ItemResult(
            index: 0,
            item: "Paris",
            status: .succeeded,
            steps: [
                export(id: "export", started: 13, ended: 14, task: "task-paris"),
                StepResult(
                    id: "exported",
                    kind: "wait",
                    status: .succeeded,
                    started: at(14),
                    ended: at(35.5),
                    attempts: [Attempt(number: 1, started: at(14), ended: at(35.5))],
                    taskID: "task-paris",
                    task: TaskInfo(
                        taskID: "task-paris",
                        name: nil,
                        status: .succeeded,
                        progress: 100,
                        details: [],
                        raw: [:]
                    ),
                    outputs: ["task-id": "task-paris"]
                ),
            ]
        )
        var locked = ErrorSummary(
            message: "Object is locked by another session",
            code: "generic_err_object_locked",
            httpStatus: 409
        )
        locked.errors = ["domain <Lyon> & \"policy\" are locked"]
        locked.warnings = ["export may be incomplete"]
        locked.blockingErrors = ["Lyon: database is locked"]
        let bad = ItemResult(
            index: 1,
            item: "Lyon",
            status: .failed,
            steps: [
                StepResult(
                    id: "export",
                    kind: "export",
                    status: .failed,
                    reason: "generic_err_object_locked: Object is locked by another session",
                    started: at(13),
                    ended: at(13.75),
                    attempts: [
                        Attempt(number: 1, started: at(13), ended: at(13.75), error: locked)
                    ],
                    error: locked
                ),
                StepResult(
                    id: "exported",
                    kind: "wait",
                    status: .skipped,
                    reason: "it depends on 'export' ended failed"
                ),
            ]
        )
        return StepResult(
            id: "each",
            kind: "for-each",
            status: .failed,
            reason: "1 of 2 items failed: Lyon",
            started: at(13),
            ended: at(35.5),
            outputs: ["items": ["hidden": true]],
            items: [good, bad]
        )
    }

    static func export(id: String, started: Double, ended: Double, task: String) -> StepResult {
        StepResult(
            id: id,
            kind: "export",
            status: .succeeded,
            started: at(started),
            ended: at(ended),
            attempts: [Attempt(number: 1, started: at(started), ended: at(ended))],
            taskID: task,
            outputs: ["task-id": .string(task)]
        )
    }

    static var ignoredCall: StepResult {
        let error = ErrorSummary(message: "Session not found", code: "generic_err_object_not_found")
        return StepResult(
            id: "sessions",
            kind: "call",
            status: .ignored,
            reason:
                "generic_err_object_not_found: Session not found (ignored: on-error says continue)",
            started: at(35.5),
            ended: at(36),
            attempts: [Attempt(number: 1, started: at(35.5), ended: at(36), error: error)],
            error: error
        )
    }

    static var refusedExport: StepResult {
        StepResult(
            id: "export-logs",
            kind: "export",
            status: .refused,
            reason: "it expects 45m, but the window leaves 2h59m24s minus a reserve of 30m"
        )
    }

    static var timedOutWait: StepResult {
        StepResult(
            id: "backup-wait",
            kind: "wait",
            status: .timedOut,
            reason:
                "task task-backup still 'in progress' (40%) after 10s; it keeps running on the server",
            started: at(36),
            ended: at(46),
            attempts: [Attempt(number: 1, started: at(36), ended: at(46))],
            taskID: "task-backup",
            task: TaskInfo(
                taskID: "task-backup",
                name: "Backup",
                status: .inProgress,
                progress: 40,
                details: [],
                raw: [:]
            )
        )
    }

    static var skippedStep: StepResult {
        StepResult(id: "notify", kind: "call", status: .skipped, reason: "its condition is false")
    }

    static var cancelledStep: StepResult {
        StepResult(
            id: "check",
            kind: "assert",
            status: .cancelled,
            reason: "the run was cancelled while this step ran",
            started: at(46),
            ended: at(47),
            attempts: []
        )
    }
}
