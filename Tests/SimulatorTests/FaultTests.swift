import ChkflowCore
import Foundation
import Testing

@testable import Simulator

@Suite("Faults and limits")
struct FaultTests {
    @Test("an error on the Nth call of a command, for count calls")
    func errorOnNthCall() throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(
                command: "keepalive",
                call: 2,
                count: 2,
                action: .error(
                    status: 429,
                    code: "err_too_many_requests",
                    message: "Too many requests in a given amount of time"
                )
            )
        ]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let replies = try (0..<5).map { _ in try client.post("/web_api/keepalive", sid: sid) }
        #expect(replies.map(\.status) == [200, 429, 429, 200, 200])
        #expect(replies[1].code == "err_too_many_requests")
        #expect(replies[1].message == "Too many requests in a given amount of time")
        #expect(harness.server.requests.map(\.status) == [200, 200, 429, 429, 200, 200])
    }

    @Test("a rule without a command counts every call")
    func anyCommand() throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(
                call: 3,
                action: .error(status: 500, code: "generic_internal_error", message: "boom")
            )
        ]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        #expect(try client.post("/web_api/keepalive", sid: sid).status == 200)
        let third = try client.post("/web_api/show-api-versions", sid: sid)
        #expect(third.status == 500)
        #expect(third.code == "generic_internal_error")
    }

    @Test("seeded probabilistic faults repeat from run to run")
    func probabilistic() throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(
                command: "keepalive",
                probability: 0.5,
                seed: 42,
                action: .error(status: 500, code: "generic_server_error", message: "flaky")
            )
        ]
        func run() throws -> [Int] {
            let harness = try Harness(scenario)
            defer { harness.server.stop() }
            let client = try harness.client()
            let sid = try harness.login(on: client)
            return try (0..<40).map { _ in try client.post("/web_api/keepalive", sid: sid).status }
        }
        let first = try run()
        #expect(first == (try run()))
        let failures = first.filter { $0 == 500 }.count
        #expect((8...32).contains(failures))
    }

    @Test("dropping before reading: no reply and no effect")
    func dropBeforeRead() throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(command: "export-management", call: 1, action: .dropBeforeRead)
        ]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        try client.send(
            TestClient.request(
                "/web_api/export-management",
                body: #"{"file-path": "/x.tgz"}"#,
                sid: sid
            )
        )
        #expect(client.isClosedByServer())
        let other = try harness.client()
        let tasks = try other.post("/web_api/show-tasks", sid: sid)
        #expect(tasks.json?["total"] == 0)
        #expect(harness.server.requests[1].status == 0)
        #expect(harness.server.requests[1].command == "export-management")
    }

    @Test("dropping after reading: the export started but the client never hears of it")
    func dropAfterRead() throws {
        var scenario = Scenario()
        scenario.faults = [FaultRule(command: "export-management", call: 1, action: .dropAfterRead)]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        try client.send(
            TestClient.request(
                "/web_api/export-management",
                body: #"{"file-path": "/x.tgz"}"#,
                sid: sid
            )
        )
        #expect(client.isClosedByServer())
        let tasks = try harness.client().post("/web_api/show-tasks", sid: sid)
        #expect(tasks.json?["total"] == 1)
        #expect(tasks.json?["tasks"]?[0]?["task-name"] == "Export Management")
    }

    @Test("a slow reply arrives after its delay and others are not held up")
    func slowReply() throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(command: "show-api-versions", action: .slowReply(seconds: 1))
        ]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let slow = try harness.client()
        let sid = try harness.login(on: slow)
        let began = Date()
        try slow.send(TestClient.request("/web_api/show-api-versions", sid: sid))
        let fast = try harness.client()
        #expect(try fast.post("/web_api/keepalive", sid: sid).status == 200)
        #expect(Date().timeIntervalSince(began) < 0.8)
        #expect(try slow.readResponse().status == 200)
        #expect(Date().timeIntervalSince(began) >= 0.99)
    }

    @Test("requests pipelined behind a slow reply are answered after it, in order")
    func pipelinedBehindSlowReply() throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(command: "show-api-versions", action: .slowReply(seconds: 0.2))
        ]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let keepalive = TestClient.request("/web_api/keepalive", sid: sid)
        let unknown = TestClient.request("/web_api/nothing", sid: sid)
        try client.send(
            TestClient.request("/web_api/show-api-versions", sid: sid)
                + String(repeating: keepalive + unknown, count: 100)
        )
        #expect(try client.readResponse().json?["current-version"] == "2.0.1")
        for _ in 0..<100 {
            #expect(try client.readResponse().status == 200)
            #expect(try client.readResponse().status == 404)
        }
    }

    @Test("a non-JSON 403, as when remote API access is off")
    func nonJSONForbidden() throws {
        var scenario = Scenario()
        scenario.faults = [FaultRule(command: "login", action: .nonJSONForbidden)]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let reply = try harness.client().post(
            "/web_api/login",
            body: #"{"user": "admin", "password": "chkflow"}"#
        )
        #expect(reply.statusLine == "HTTP/1.1 403 Forbidden")
        #expect(reply.header("Content-Type") == "text/html")
        #expect(reply.json == nil)
        #expect(String(decoding: reply.body, as: UTF8.self).hasPrefix("<html>"))
    }

    @Test("a hung task stays in progress at its percentage")
    func hungTask() throws {
        var scenario = Scenario()
        scenario.export = TaskBehaviour(duration: 10, hangAt: 40)
        scenario.timeScale = 100
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let id = try #require(
            try client.post(
                "/web_api/export-management",
                body: #"{"file-path": "/x.tgz"}"#,
                sid: sid
            )
            .json?["task-id"]?.stringValue
        )
        pause(seconds: 0.3)
        let task = try #require(
            try client.post("/web_api/show-task", body: #"{"task-id": "\#(id)"}"#, sid: sid)
                .json?["tasks"]?[0]
        )
        #expect(task["status"] == "in progress")
        #expect(task["progress-percentage"] == 40)
    }

    @Test("every session open at the moment expires then; later ones live")
    func sessionsExpireAtMoment() throws {
        var scenario = Scenario()
        scenario.timeScale = 10
        scenario.sessionsExpireAt = [8]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let early = try harness.login(on: client)
        #expect(try client.post("/web_api/keepalive", sid: early).status == 200)
        pause(seconds: 1)
        let expired = try client.post("/web_api/keepalive", sid: early)
        #expect(expired.status == 401)
        #expect(expired.code == "generic_err_session_expired")
        let late = try harness.login(on: client)
        #expect(try client.post("/web_api/keepalive", sid: late).status == 200)
    }

    @Test("logins per minute per admin and domain")
    func loginLimit() throws {
        var scenario = Scenario()
        scenario.rateLimits = RateLimits(loginsPerMinute: 3)
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let body = #"{"user": "admin", "password": "chkflow"}"#
        let statuses = try (0..<4).map { _ in try client.post("/web_api/login", body: body).status }
        #expect(statuses == [200, 200, 200, 429])
        let refused = try client.post("/web_api/login", body: body)
        #expect(refused.code == "err_too_many_requests")
        #expect(refused.message == "Too many requests in a given amount of time")
        let otherDomain = try client.post(
            "/web_api/login",
            body: #"{"user": "admin", "password": "chkflow", "domain": "System Data"}"#
        )
        #expect(otherDomain.status == 200)
    }

    @Test("requests per second over the whole server")
    func requestLimit() throws {
        var scenario = Scenario()
        scenario.rateLimits = RateLimits(requestsPerSecond: 5)
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let statuses = try (0..<6).map { _ in try client.post("/web_api/keepalive", sid: sid).status
        }
        #expect(statuses == [200, 200, 200, 200, 429, 429])
        pause(seconds: 1.05)
        #expect(try client.post("/web_api/keepalive", sid: sid).status == 200)
    }

    @Test("only so many exports at once")
    func exportsAtOnce() throws {
        var scenario = Scenario()
        scenario.exportsAtOnce = 1
        scenario.export = TaskBehaviour(duration: 60)
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let body = #"{"file-path": "/x.tgz"}"#
        #expect(try client.post("/web_api/export-management", body: body, sid: sid).status == 200)
        let second = try client.post("/web_api/export-management", body: body, sid: sid)
        #expect(second.status == 409)
        #expect(second.code == "generic_err_object_locked")
        let verification = try client.post(
            "/web_api/export-management",
            body: #"{"pre-export-verification-only": true}"#,
            sid: sid
        )
        #expect(verification.status == 200)
    }

    @Test("task-details from the scenario replace the simulator's once the task ends")
    func givenTaskDetails() throws {
        var scenario = Scenario()
        scenario.export = TaskBehaviour(
            duration: 0,
            taskDetails: [["statusDescription": "Done", "size": 42]]
        )
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let id = try #require(
            try client.post(
                "/web_api/export-management",
                body: #"{"file-path": "/x.tgz"}"#,
                sid: sid
            ).json?["task-id"]?.stringValue
        )
        let reply = try client.post("/web_api/show-task", body: #"{"task-id": "\#(id)"}"#, sid: sid)
        #expect(
            reply.json?["tasks"]?[0]?["task-details"] == [
                ["statusDescription": "Done", "size": 42]
            ]
        )
    }

    @Test("a verification reports the scenario's warnings and blocking errors")
    func verificationFindings() throws {
        var scenario = Scenario()
        scenario.verification = TaskBehaviour(
            duration: 0,
            finalStatus: .failed,
            warnings: ["Disk space is low"],
            blockingErrors: ["Unsupported blade is enabled"]
        )
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let id = try #require(
            try client.post(
                "/web_api/export-management",
                body: #"{"pre-export-verification-only": true}"#,
                sid: sid
            ).json?["task-id"]?.stringValue
        )
        let reply = try client.post(
            "/web_api/show-task",
            body: #"{"task-id": "\#(id)", "details-level": "full"}"#,
            sid: sid
        )
        let task = try #require(reply.json?["tasks"]?[0])
        #expect(task["status"] == "failed")
        #expect(task["comments"] == "Unsupported blade is enabled")
        let details = try #require(task["task-details"]?[0])
        #expect(details["warnings"] == [["message": "Disk space is low"]])
        #expect(details["blocking-errors"] == [["message": "Unsupported blade is enabled"]])
        #expect(details["fault-message"] == "Unsupported blade is enabled")
        #expect(details["verification-summary"] == ["blocking-errors": 1, "warnings": 1])
    }
}
