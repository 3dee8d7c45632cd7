import ChkflowCore
import Testing

@testable import Simulator

@Suite("Scenario documents")
struct ScenarioDocumentTests {
    @Test("a full document sets every part of the scenario")
    func fullDocument() throws {
        let document = try JSON.parse(
            #"""
            {
              "server-type": "multi-domain",
              "api-version": "1.9",
              "admins": [{"name": "ops", "password": "secret"}, {"name": "ci", "api-key": "k"}],
              "domains": ["Europe", "Asia"],
              "session-timeout": "900",
              "time-scale": 60,
              "exports-at-once": 1,
              "sessions-expire-at": ["10m", 7200],
              "rate-limits": {"logins-per-minute": 3, "requests-per-second": 100},
              "tasks": {
                "verification": {"duration": "30s", "final-status": "succeeded with warnings",
                                 "warnings": ["Disk space is low"]},
                "export": {"duration": "1h30m", "hang-at": 80},
                "import": {"duration": 5, "final-status": "failed",
                           "blocking-errors": ["Version mismatch"]},
                "publish": {"duration": "500ms", "task-details": [{"revision": "r1"}]}
              },
              "faults": [
                {"command": "show-task", "call": 3, "count": 2,
                 "error": {"status": 500, "code": "generic_internal_error", "message": "boom"}},
                {"command": "export-management", "drop": "after-read"},
                {"probability": 0.25, "seed": 7, "slow-reply": "2s"},
                {"command": "login", "call": 1, "forbidden-html": "true"}
              ]
            }
            """#
        )
        let scenario = try Scenario(document: document)
        #expect(scenario.serverType == .multiDomain)
        #expect(scenario.apiVersion == "1.9")
        #expect(
            scenario.admins == [
                SimulatedAdmin(name: "ops", password: "secret"),
                SimulatedAdmin(name: "ci", apiKey: "k"),
            ]
        )
        #expect(scenario.domains == ["Europe", "Asia"])
        #expect(scenario.sessionTimeout == 900)
        #expect(scenario.timeScale == 60)
        #expect(scenario.exportsAtOnce == 1)
        #expect(scenario.sessionsExpireAt == [600, 7200])
        #expect(scenario.rateLimits == RateLimits(loginsPerMinute: 3, requestsPerSecond: 100))
        #expect(
            scenario.verification
                == TaskBehaviour(
                    duration: 30,
                    finalStatus: .succeededWithWarnings,
                    warnings: ["Disk space is low"]
                )
        )
        #expect(scenario.export == TaskBehaviour(duration: 5400, hangAt: 80))
        #expect(
            scenario.importTask
                == TaskBehaviour(
                    duration: 5,
                    finalStatus: .failed,
                    blockingErrors: ["Version mismatch"]
                )
        )
        #expect(scenario.publish == TaskBehaviour(duration: 0.5, taskDetails: [["revision": "r1"]]))
        #expect(
            scenario.faults == [
                FaultRule(
                    command: "show-task",
                    call: 3,
                    count: 2,
                    action: .error(status: 500, code: "generic_internal_error", message: "boom")
                ),
                FaultRule(command: "export-management", action: .dropAfterRead),
                FaultRule(probability: 0.25, seed: 7, action: .slowReply(seconds: 2)),
                FaultRule(command: "login", call: 1, action: .nonJSONForbidden),
            ]
        )
    }

    @Test("an empty document is the default scenario")
    func emptyDocument() throws {
        let scenario = try Scenario(document: [:])
        #expect(scenario.serverType == .singleServer)
        #expect(scenario.admins == Scenario.default.admins)
        #expect(scenario.export == TaskBehaviour(duration: 2))
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var document: String
        var error: String
        var testDescription: String { document }
    }

    static let badCases: [BadCase] = [
        .init(document: "[]", error: "must be a mapping"),
        .init(document: #"{"server": "x"}"#, error: "server: unknown key"),
        .init(
            document: #"{"server-type": "cluster"}"#,
            error: "server-type: must be single-server or multi-domain"
        ),
        .init(document: #"{"api-version": "3"}"#, error: "api-version: unknown API version 3"),
        .init(
            document: #"{"admins": [{"name": "x"}]}"#,
            error: "admins[0]: an admin needs a password or an api-key"
        ),
        .init(
            document: #"{"session-timeout": 5}"#,
            error: "session-timeout: must be from 10 to 3600"
        ),
        .init(document: #"{"time-scale": 0}"#, error: "time-scale: must be greater than 0"),
        .init(
            document: #"{"tasks": {"export": {"duration": "soon"}}}"#,
            error: "tasks.export.duration: must be a duration such as 90s, 45m or 1h30m"
        ),
        .init(
            document: #"{"tasks": {"export": {"final-status": "in progress"}}}"#,
            error:
                "tasks.export.final-status: must be succeeded, succeeded with warnings, partially succeeded or failed"
        ),
        .init(
            document: #"{"tasks": {"publish": {"task-details": ["x"]}}}"#,
            error: "tasks.publish.task-details[0]: must be a mapping"
        ),
        .init(
            document: #"{"faults": [{"command": "login"}]}"#,
            error:
                "faults[0]: a fault needs exactly one of error, drop, slow-reply, forbidden-html, huge-reply, truncated-reply, non-json-reply, wrong-shape, task-goes-backwards, never-answer"
        ),
        .init(
            document: #"{"faults": [{"drop": "sideways"}]}"#,
            error: "faults[0].drop: must be before-read or after-read"
        ),
        .init(
            document: #"{"faults": [{"call": 0, "drop": "before-read"}]}"#,
            error: "faults[0].call: must be from 1 to \(Int.max)"
        ),
        .init(
            document: #"{"faults": [{"probability": 2, "drop": "before-read"}]}"#,
            error: "faults[0].probability: must be from 0 to 1"
        ),
        .init(
            document: #"{"faults": [{"error": {"status": 500}}]}"#,
            error: "faults[0].error: an error needs a code"
        ),
        .init(
            document: #"{"faults": [{"error": {"code": "x", "colour": 1}}]}"#,
            error: "faults[0].error.colour: unknown key"
        ),
    ]

    @Test("mistakes are reported with their path", arguments: badCases)
    func badDocument(_ testCase: BadCase) throws {
        let document = try JSON.parse(testCase.document)
        #expect(throws: (any Error).self) { try Scenario(document: document) }
        do {
            _ = try Scenario(document: document)
        } catch {
            #expect(error.description == testCase.error)
        }
    }

    @Test("a scenario read from a document drives the server")
    func documentDrivesServer() throws {
        let scenario = try Scenario(
            document: try JSON.parse(
                #"{"faults": [{"command": "keepalive", "call": 1, "error": {"status": 503, "code": "generic_server_initializing"}}]}"#
            )
        )
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let reply = try client.post("/web_api/keepalive", sid: sid)
        #expect(reply.statusLine == "HTTP/1.1 503 Service Unavailable")
        #expect(reply.code == "generic_server_initializing")
        #expect(reply.message == "Injected failure")
    }
}
