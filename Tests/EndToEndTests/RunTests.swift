import Foundation
import Testing

@Suite(.serialized) struct RunTests {
    @Test func smcExportRehearsalSucceedsWithTheExpectedRequests() throws {
        let folder = Paths.temporaryFolder()
        let report = folder + "/report.json"
        let log = folder + "/requests.ndjson"
        let outcome = try chkflow([
            "run", Paths.playbook("smc-export.yaml"), "--simulator", "--report", report,
            "--simulator-log", log,
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try readJSON(report)
        #expect(json["outcome"] as? String == "succeeded")
        #expect(json["exit-code"] as? Int == 0)
        let steps = json["steps"] as? [[String: Any]] ?? []
        #expect(
            steps.map { $0["id"] as? String } == [
                "login", "verify", "verified", "export", "exported", "logout",
            ]
        )
        #expect(steps.allSatisfy { $0["status"] as? String == "succeeded" })
        let exported = try #require(steps.first { $0["id"] as? String == "exported" })
        let task = exported["task"] as? [String: Any]
        #expect(task?["status"] as? String == "succeeded")
        #expect(task?["progress"] as? Int == 100)

        let requests = try readLog(log)
        #expect(count(requests, command: "login") == 1)
        #expect(count(requests, command: "export-management") == 2)
        #expect(count(requests, command: "logout") == 1)
        #expect(count(requests, command: "show-task") >= 2)
        #expect(requests.allSatisfy { $0["status"] as? Int == 200 })
        let totals = json["totals"] as? [String: Any]
        #expect(totals?["api-calls"] as? Int == requests.count)
        #expect(totals?["logins"] as? Int == 1)
        #expect(outcome.stderr.contains("ok   exported succeeded"))
        let mode =
            try FileManager.default.attributesOfItem(atPath: report)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func aStepRefusedByTheServerFailsTheRunAndStillLogsOut() throws {
        let folder = Paths.temporaryFolder()
        let report = folder + "/report.json"
        let log = folder + "/requests.ndjson"
        let outcome = try chkflow([
            "run", Paths.fixture("wrong-domain.yaml"), "--simulator", "--report", report,
            "--simulator-log", log,
        ])
        #expect(outcome.status == 1)
        let json = try readJSON(report)
        #expect(json["outcome"] as? String == "failed")
        let steps = json["steps"] as? [[String: Any]] ?? []
        let statuses = steps.map { "\($0["id"] ?? ""):\($0["status"] ?? "")" }
        #expect(
            statuses == [
                "login:succeeded", "verify:failed", "verified:skipped", "logout:succeeded",
            ]
        )
        let verify = try #require(steps.first { $0["id"] as? String == "verify" })
        let error = verify["error"] as? [String: Any]
        #expect(error?["code"] as? String == "err_not_a_system_domain_session")
        #expect(error?["http-status"] as? Int == 403)
        let skipped = try #require(steps.first { $0["id"] as? String == "verified" })
        #expect(skipped["reason"] as? String == "it depends on 'verify' ended failed")
        let requests = try readLog(log)
        #expect(count(requests, command: "logout") == 1)
        #expect(count(requests, command: "export-management") == 1)
    }

    @Test func junitEventsAndTheTimelinePageAreWritten() throws {
        let folder = Paths.temporaryFolder()
        let report = folder + "/report.json"
        let junit = folder + "/junit.xml"
        let events = folder + "/events.ndjson"
        let outcome = try chkflow([
            "run", Paths.playbook("smc-export.yaml"), "--simulator", "--report", report,
            "--junit", junit, "--events", events,
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let xml = try String(contentsOfFile: junit, encoding: .utf8)
        #expect(xml.components(separatedBy: "<testcase ").count - 1 == 6)
        #expect(xml.contains("failures=\"0\""))
        let lines = try readLog(events)
        #expect(lines.first?["type"] as? String == "step-started")
        #expect(lines.filter { $0["type"] as? String == "step-ended" }.count == 6)
        #expect(Set(lines.compactMap { $0["run-id"] as? String }).count == 1)

        let page = folder + "/timeline.html"
        let html = try chkflow(["report", report, "--format", "html", "--output", page])
        #expect(html.status == 0)
        let text = try String(contentsOfFile: page, encoding: .utf8)
        #expect(text.hasPrefix("<!DOCTYPE html>"))
        for step in ["login", "verify", "verified", "export", "exported", "logout"] {
            #expect(text.contains(">\(step)<"), "\(step)")
        }
        // Self-contained: nothing is fetched (server URLs may appear as text).
        #expect(!text.contains("src=\"http") && !text.contains("href=\"http"))
        #expect(!text.contains("url(http"))
    }

    @Test func aReportThatIsNotOneIsRefused() throws {
        let folder = Paths.temporaryFolder()
        let path = folder + "/x.json"
        try "{\"hello\": 1}".write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = try chkflow(["report", path])
        #expect(outcome.status == 65)
        #expect(
            outcome.stderr
                == "chkflow: error: \(path) is not a chkflow report (no chkflow-report field)\n"
        )
    }

    @Test func unsetEnvironmentStopsARealRunBeforeAnyRequest() throws {
        let outcome = try chkflow(
            ["run", Paths.playbook("smc-export.yaml")],
            environment: ["CHKP_HOST": "", "CHKP_FINGERPRINT": "", "CHKP_PASSWORD": ""]
        )
        #expect(outcome.status == 65)
        #expect(
            outcome.stderr == """
                chkflow: error: secret 'password': the environment variable CHKP_PASSWORD is not set
                chkflow: error: server 'primary': the environment variable CHKP_FINGERPRINT is not set
                chkflow: error: server 'primary': the environment variable CHKP_HOST is not set

                """
        )
    }

    static let badVariables: [(String, String)] = [
        (
            "target-version=82",
            "chkflow: error: --var target-version: '82' does not match the pattern 'R[0-9]+(\\.[0-9]+)?'\n"
        ),
        (
            "days-of-logs=0",
            "chkflow: error: --var days-of-logs: '0' does not match the pattern '[1-9][0-9]*'\n"
        ),
    ]

    @Test(arguments: badVariables)
    func badVariablesStopBeforeAnyRequest(variable: String, message: String) throws {
        let outcome = try chkflow([
            "run", Paths.playbook("smc-export.yaml"), "--simulator", "--var", variable,
        ])
        #expect(outcome.status == 65)
        #expect(outcome.stderr == message)
    }

    @Test func anUnwritableReportIsRefusedBeforeTheRun() throws {
        let outcome = try chkflow([
            "run", Paths.playbook("smc-export.yaml"), "--simulator", "--report",
            "/nonexistent/r.json",
        ])
        #expect(outcome.status == 73)
        #expect(
            outcome.stderr
                == "chkflow: error: cannot write /nonexistent/r.json: the folder /nonexistent does not exist\n"
        )
    }
}

@Suite struct CommandLineTests {
    @Test func validateAcceptsTheExample() throws {
        let outcome = try chkflow(["validate", Paths.playbook("smc-export.yaml")])
        #expect(outcome.status == 0)
        #expect(outcome.stderr.hasSuffix("smc-export.yaml: ok (6 steps)\n"))
    }

    @Test func validateReportsEveryProblemWithItsPosition() throws {
        let path = Paths.fixture("broken.yaml")
        let outcome = try chkflow(["validate", path])
        #expect(outcome.status == 65)
        #expect(
            outcome.stderr.split(separator: "\n").map(String.init) == [
                "\(path):4:5: error: step 'login' logs in, but the playbook defines no 'servers' to log in to",
                "\(path):6:7: error: the login of step 'login' needs 'user' and 'password', or 'api-key'",
                "\(path):9:7: error: an export needs 'file-path' (only a pre-export verification may leave it out)",
                "\(path):10:21: error: 'days-of-logs' must be a positive whole number of days, not -3",
            ]
        )
    }

    @Test func yamlErrorsArePositioned() throws {
        let folder = Paths.temporaryFolder()
        let path = folder + "/bad.yaml"
        try "chkflow: 1\nname: [unclosed\n".write(toFile: path, atomically: true, encoding: .utf8)
        let outcome = try chkflow(["validate", path])
        #expect(outcome.status == 65)
        #expect(outcome.stderr.hasPrefix("\(path):3:1: error: "))
    }

    @Test(arguments: ["text", "json", "mermaid", "dot"])
    func planPrintsEachFormat(format: String) throws {
        let outcome = try chkflow(["plan", Paths.playbook("smc-export.yaml"), "--format", format])
        #expect(outcome.status == 0)
        let expected =
            switch format {
            case "text": "plan for 'smc-export'"
            case "json": "\"steps\": ["
            case "mermaid": "flowchart TD"
            default: "digraph \"smc-export\" {"
            }
        #expect(outcome.stdout.contains(expected))
        #expect(outcome.stdout.contains("exported"))
    }

    @Test(arguments: [
        (
            ["frobnicate"],
            "chkflow: error: unknown command 'frobnicate'\nrun 'chkflow help' for usage\n"
        ),
        (["run"], "chkflow: error: run needs exactly one playbook\nrun 'chkflow help' for usage\n"),
        (
            ["plan", "x.yaml", "--format", "svg"],
            "chkflow: error: --format must be text, json, mermaid or dot, not 'svg'\nrun 'chkflow help' for usage\n"
        ),
        (
            ["run", "x.yaml", "--max-parallel", "0"],
            "chkflow: error: --max-parallel must be a whole number of at least 1, not '0'\nrun 'chkflow help' for usage\n"
        ),
        (
            ["simulate", "--listen", "0.0.0.0:80"],
            "chkflow: error: --listen must be a loopback address (127.0.0.1), not '0.0.0.0'\nrun 'chkflow help' for usage\n"
        ),
    ])
    func usageErrorsExit64(arguments: [String], message: String) throws {
        let outcome = try chkflow(arguments)
        #expect(outcome.status == 64)
        #expect(outcome.stderr == message)
    }

    @Test func versionNamesTheLibraries() throws {
        let outcome = try chkflow(["--version"])
        #expect(outcome.status == 0)
        let pattern =
            #/^chkflow \d+\.\d+\.\d+ \(libyaml \d+\.\d+\.\d+, libcurl/\d+\.\d+\.\d+ \S+\)\n$/#
        #expect(outcome.stdout.wholeMatch(of: pattern) != nil, "\(outcome.stdout)")
    }

    @Test func codesListsTheCatalogue() throws {
        let outcome = try chkflow(["codes", "--json"])
        #expect(outcome.status == 0)
        let entries =
            try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [[String: String]]
        #expect(entries?.count == 57)
        #expect(
            entries?.contains {
                $0["code"] == "err_too_many_requests" && $0["class"] == "transient"
            } == true
        )
    }
}
