import ChkflowCore
import Foundation
import Results
import Testing

@testable import Engine

@Suite struct ReportTests {
    @Test func aSmallRunGivesExactlyThisReport() {
        let text = Report.json(SampleRuns.tiny, exitCode: 0).prettyPrinted()
        #expect(
            text == """
                {
                  "chkflow-report": 1,
                  "duration-seconds": 0.5,
                  "ended": "2026-12-05T01:00:00.500Z",
                  "exit-code": 0,
                  "outcome": "succeeded",
                  "playbook": {
                    "file": "playbooks/tiny.yaml",
                    "name": "tiny",
                    "sha256": "\(String(repeating: "ab", count: 32))"
                  },
                  "run-id": "20261205010000-0a1b2c3d",
                  "servers": [
                    {
                      "api-server-version": "2.0.1",
                      "name": "primary",
                      "simulated": false,
                      "url": "https://mgmt.example.net"
                    }
                  ],
                  "started": "2026-12-05T01:00:00.000Z",
                  "steps": [
                    {
                      "attempts": [
                        {
                          "ended": "2026-12-05T01:00:00.250Z",
                          "number": 1,
                          "outcome": "succeeded",
                          "started": "2026-12-05T01:00:00.000Z"
                        }
                      ],
                      "duration-seconds": 0.25,
                      "ended": "2026-12-05T01:00:00.250Z",
                      "id": "login",
                      "kind": "login",
                      "outputs": {
                        "api-server-version": "2.0.1"
                      },
                      "started": "2026-12-05T01:00:00.000Z",
                      "status": "succeeded"
                    },
                    {
                      "attempts": [
                        {
                          "ended": "2026-12-05T01:00:00.500Z",
                          "number": 1,
                          "outcome": "succeeded",
                          "started": "2026-12-05T01:00:00.250Z"
                        }
                      ],
                      "duration-seconds": 0.25,
                      "ended": "2026-12-05T01:00:00.500Z",
                      "id": "logout",
                      "kind": "logout",
                      "started": "2026-12-05T01:00:00.250Z",
                      "status": "succeeded"
                    }
                  ],
                  "totals": {
                    "api-calls": 2,
                    "cleanup-logouts": [],
                    "item-steps": {
                      "cancelled": 0,
                      "failed": 0,
                      "ignored": 0,
                      "refused": 0,
                      "skipped": 0,
                      "succeeded": 0,
                      "timed-out": 0
                    },
                    "items": {
                      "cancelled": 0,
                      "failed": 0,
                      "ignored": 0,
                      "refused": 0,
                      "skipped": 0,
                      "succeeded": 0,
                      "timed-out": 0
                    },
                    "logins": 1,
                    "steps": {
                      "cancelled": 0,
                      "failed": 0,
                      "ignored": 0,
                      "refused": 0,
                      "skipped": 0,
                      "succeeded": 2,
                      "timed-out": 0
                    },
                    "waiting-seconds": 0
                  }
                }
                """
        )
    }

    @Test func aRetryKeepsBothAttemptsWithTheCodeAndTheWait() throws {
        let login = try #require(report()["steps"]?[0])
        #expect(
            login["attempts"]?.serialized()
                == """
                [{"ended":"2026-12-05T01:00:00.500Z","error":{"code":"err_too_many_requests",\
                "http-status":429,"message":"Too many requests in a given amount of time"},\
                "number":1,"outcome":"failed","started":"2026-12-05T01:00:00.000Z",\
                "wait-before-seconds":2},{"ended":"2026-12-05T01:00:03.000Z","number":2,\
                "outcome":"succeeded","started":"2026-12-05T01:00:02.500Z"}]
                """
        )
    }

    @Test func anAttemptThatRanOutOfItsAttemptTimeoutFailedAndSaysItTimedOut() throws {
        var first = Attempt(
            number: 1,
            started: SampleRuns.at(0),
            ended: SampleRuns.at(10),
            error: ErrorSummary(message: "the attempt ran out of its attempt-timeout of 10s"),
            timedOut: true
        )
        first.waitBefore = 1
        let step = StepResult(
            id: "versions",
            kind: "call",
            status: .succeeded,
            attempts: [
                first, Attempt(number: 2, started: SampleRuns.at(11), ended: SampleRuns.at(12)),
            ]
        )
        let run = SampleRuns.run(name: "timed-out", steps: [step], outcome: .succeeded, calls: 2)
        #expect(
            Report.json(run, exitCode: 0)["steps"]?[0]?["attempts"]?.serialized()
                == """
                [{"ended":"2026-12-05T01:00:10.000Z","error":{"message":\
                "the attempt ran out of its attempt-timeout of 10s"},"number":1,"outcome":"failed",\
                "started":"2026-12-05T01:00:00.000Z","timed-out":true,"wait-before-seconds":1},\
                {"ended":"2026-12-05T01:00:12.000Z","number":2,"outcome":"succeeded",\
                "started":"2026-12-05T01:00:11.000Z"}]
                """
        )
    }

    @Test func theRawReplyAndTheSessionIDNeverAppear() throws {
        let text = report().serialized()
        #expect(!text.contains("must-not-appear"))
        #expect(!text.contains("\"response\""))
        let login = try #require(report()["steps"]?[0])
        #expect(
            login["outputs"]?.serialized()
                == #"{"api-server-version":"2.0.1","session-timeout":600}"#
        )
    }

    @Test func anyMemberNamedLikeACredentialIsMasked() {
        var run = SampleRuns.tiny
        run.steps[0].outputs = [
            "tasks": [["sid": "abc", "Password": "p", "api-key": "k", "name": "ok"]]
        ]
        let outputs = Report.json(run, exitCode: 0)["steps"]?[0]?["outputs"]
        #expect(
            outputs?.serialized()
                == #"{"tasks":[{"Password":"(redacted)","api-key":"(redacted)","name":"ok","sid":"(redacted)"}]}"#
        )
    }

    @Test func aFinishedTaskKeepsItsIDNameStatusProgressAndDetails() throws {
        let verified = try #require(report()["steps"]?[1])
        #expect(
            verified["task"]?.serialized()
                == """
                {"details":[{"statusCode":"succeeded","statusDescription":"Verification passed",\
                "verification-summary":{"blocking-errors":0,"warnings":1}}],\
                "name":"Pre-export verification","progress":100,"status":"succeeded with warnings",\
                "task-id":"01234567-89ab-cdef-0123-456789abcdef"}
                """
        )
        #expect(
            verified["outputs"]?.serialized()
                == #"{"task-id":"01234567-89ab-cdef-0123-456789abcdef"}"#
        )
    }

    @Test func aLoopListsEachItemWithItsStepsAndTimes() throws {
        let loop = try #require(report()["steps"]?[2])
        #expect(loop["outputs"] == nil)
        #expect(loop["attempts"] == [])
        let bad = try #require(loop["items"]?[1])
        #expect(bad["index"] == 1)
        #expect(bad["item"] == "Lyon")
        #expect(bad["status"] == "failed")
        #expect(bad["started"] == "2026-12-05T01:00:13.000Z")
        #expect(bad["ended"] == "2026-12-05T01:00:13.750Z")
        #expect(bad["duration-seconds"] == 0.75)
        #expect(
            bad["steps"]?[0]?["error"]?.serialized()
                == """
                {"blocking-errors":["Lyon: database is locked"],"code":"generic_err_object_locked",\
                "errors":["domain <Lyon> & \\"policy\\" are locked"],"http-status":409,\
                "message":"Object is locked by another session",\
                "warnings":["export may be incomplete"]}
                """
        )
        #expect(
            bad["steps"]?[1]?.serialized()
                == """
                {"attempts":[],"id":"exported","kind":"wait",\
                "reason":"it depends on 'export' ended failed","status":"skipped"}
                """
        )
    }

    @Test func aTimedOutWaitSaysSoInItsAttemptAndKeepsTheTask() throws {
        let wait = try #require(report()["steps"]?[5])
        #expect(wait["status"] == "timed-out")
        #expect(wait["attempts"]?[0]?["outcome"] == "timed-out")
        #expect(wait["task-id"] == "task-backup")
        #expect(
            wait["task"]?.serialized()
                == #"{"details":[],"name":"Backup","progress":40,"status":"in progress","task-id":"task-backup"}"#
        )
    }

    @Test func aRefusedStepHasItsReasonAndNoTimes() throws {
        let refused = try #require(report()["steps"]?[4])
        #expect(
            refused.serialized()
                == """
                {"attempts":[],"id":"export-logs","kind":"export",\
                "reason":"it expects 45m, but the window leaves 2h59m24s minus a reserve of 30m",\
                "status":"refused"}
                """
        )
    }

    @Test func totalsCountStepsItemsAndStepsInItemsByStatus() {
        #expect(
            report()["totals"]?.serialized()
                == """
                {"api-calls":23,"cleanup-logouts":["each[1].login"],\
                "item-steps":{"cancelled":0,"failed":1,"ignored":0,"refused":0,"skipped":1,\
                "succeeded":2,"timed-out":0},\
                "items":{"cancelled":0,"failed":1,"ignored":0,"refused":0,"skipped":0,\
                "succeeded":1,"timed-out":0},\
                "logins":2,\
                "steps":{"cancelled":1,"failed":1,"ignored":1,"refused":1,"skipped":1,\
                "succeeded":3,"timed-out":1},\
                "waiting-seconds":31.5}
                """
        )
    }

    @Test func sessionsLeftOpenAreListedOnlyWhenThereAreSome() {
        var run = SampleRuns.everyStatus
        run.sessionsLeftOpen = ["login"]
        let totals = Report.json(run, exitCode: 1, chkflowVersion: "0.4.0")["totals"]
        #expect(totals?["sessions-left-open"] == ["login"])
        #expect(report()["totals"]?["sessions-left-open"] == nil)
    }

    @Test func theWindowIsRecordedWithItsLatestEnd() {
        let json = Report.json(
            SampleRuns.tiny,
            exitCode: 0,
            window: ReportWindow(closes: SampleRuns.at(3 * 3600), reserve: 1800)
        )
        #expect(
            json["window"]?.serialized()
                == """
                {"closes":"2026-12-05T04:00:00.000Z","latest-end":"2026-12-05T03:30:00.000Z",\
                "reserve-seconds":1800}
                """
        )
        #expect(Report.json(SampleRuns.tiny, exitCode: 0)["window"] == nil)
    }

    @Test func theVersionOfChkflowIsRecordedWhenGiven() {
        let json = Report.json(SampleRuns.tiny, exitCode: 0, chkflowVersion: "0.4.0")
        #expect(json["chkflow-version"] == "0.4.0")
        #expect(Report.json(SampleRuns.tiny, exitCode: 0)["chkflow-version"] == nil)
    }

    @Test func theSamplesAreWhatTheReportGives() throws {
        try expectSample(
            Report.json(SampleRuns.tiny, exitCode: 0).prettyPrinted() + "\n",
            "report-tiny.json"
        )
        try expectSample(report().prettyPrinted() + "\n", "report-every-status.json")
    }

    @Test(.enabled(if: Repository.python != nil, "no .venv: run scripts/make-venv"))
    func everySampleValidatesAgainstTheSchemaWithARealValidator() throws {
        let outcome = try runProgram(Repository.python ?? "", ["-c", checkResultSamples])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.hasPrefix("schema: 4 report samples valid"))
    }

    /// Runs only the result-sample check of scripts/check-schemas.py.
    private let checkResultSamples = """
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location("checks", "scripts/check-schemas.py")
        checks = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(checks)
        sys.exit(1 if checks.check_result_samples() else 0)
        """

    private func report() -> JSON {
        Report.json(
            SampleRuns.everyStatus,
            exitCode: 1,
            window: ReportWindow(closes: SampleRuns.at(3 * 3600), reserve: 1800),
            chkflowVersion: "0.4.0"
        )
    }
}
