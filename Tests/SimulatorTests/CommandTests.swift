import ChkflowCore
import Foundation
import Testing

@testable import Simulator

@Suite("Domains, sessions, publish, import and show-tasks")
struct CommandTests {
    static func multiDomain(_ domains: [String]) -> Scenario {
        var scenario = Scenario()
        scenario.serverType = .multiDomain
        scenario.domains = domains
        return scenario
    }

    struct PageCase: Sendable, CustomTestStringConvertible {
        var body: String
        var names: [String]
        var from: Int64?
        var to: Int64?
        var testDescription: String { body }
    }

    static let domainNames = (1...7).map { "Domain \($0)" }

    static let pageCases: [PageCase] = [
        .init(body: "{}", names: domainNames, from: 1, to: 7),
        .init(body: #"{"limit": 3}"#, names: ["Domain 1", "Domain 2", "Domain 3"], from: 1, to: 3),
        .init(body: #"{"limit": 3, "offset": 6}"#, names: ["Domain 7"], from: 7, to: 7),
        .init(body: #"{"offset": 7}"#, names: [], from: nil, to: nil),
        .init(body: #"{"filter": "4"}"#, names: ["Domain 4"], from: 1, to: 1),
    ]

    @Test("show-domains pages through the named domains", arguments: pageCases)
    func showDomains(_ testCase: PageCase) throws {
        let harness = try Harness(Self.multiDomain(Self.domainNames))
        defer { harness.server.stop() }
        let client = try harness.client()
        let reply = try client.post(
            "/web_api/show-domains",
            body: testCase.body,
            sid: try harness.login(on: client)
        )
        #expect(reply.status == 200)
        let objects = reply.json?["objects"]?.arrayValue ?? []
        #expect(objects.compactMap { $0["name"]?.stringValue } == testCase.names)
        #expect(reply.json?["from"]?.intValue == testCase.from)
        #expect(reply.json?["to"]?.intValue == testCase.to)
        #expect(reply.json?["total"] == (testCase.body.contains("filter") ? 1 : 7))
        #expect(
            objects.allSatisfy { $0["domain"]?["name"] == "System Data" && $0["type"] == "domain" }
        )
    }

    @Test("show-domains refuses bad paging")
    func showDomainsErrors() throws {
        let harness = try Harness(Self.multiDomain(["A"]))
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let tooMany = try client.post("/web_api/show-domains", body: #"{"limit": 501}"#, sid: sid)
        #expect(tooMany.code == "generic_err_invalid_parameter")
        #expect(tooMany.message == "Invalid parameter for [limit]. Value must be between 1 and 500")
        let negative = try client.post("/web_api/show-domains", body: #"{"offset": -1}"#, sid: sid)
        #expect(negative.status == 400)
        let uids = try client.post(
            "/web_api/show-domains",
            body: #"{"details-level": "uid"}"#,
            sid: sid
        )
        #expect(uids.json?["objects"] == [.string(Identifiers.stableUUID(for: "A"))])
    }

    @Test("a single server lists no domains")
    func singleServerDomains() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let reply = try client.post("/web_api/show-domains", sid: try harness.login(on: client))
        #expect(reply.json == ["total": 0, "objects": []])
    }

    @Test("login-to-domain opens a session in the domain from System Data")
    func loginToDomain() throws {
        let harness = try Harness(Self.multiDomain(["Europe"]))
        defer { harness.server.stop() }
        let client = try harness.client()
        let system = try harness.login(on: client)
        let reply = try client.post(
            "/web_api/v1.9/login-to-domain",
            body: #"{"domain": "Europe"}"#,
            sid: system
        )
        #expect(reply.status == 200)
        #expect(reply.json?["api-server-version"] == "1.9")
        let sid = try #require(reply.json?["sid"]?.stringValue)
        #expect(sid != system)
        let session = try client.post("/web_api/show-session", sid: sid)
        #expect(session.json?["domain"]?["name"] == "Europe")
        #expect(session.json?["domain"]?["domain-type"] == "domain")

        let fromDomain = try client.post(
            "/web_api/login-to-domain",
            body: #"{"domain": "Europe"}"#,
            sid: sid
        )
        #expect(fromDomain.status == 403)
        #expect(fromDomain.code == "err_not_a_system_domain_session")
        let unknown = try client.post(
            "/web_api/login-to-domain",
            body: #"{"domain": "Mars"}"#,
            sid: system
        )
        #expect(unknown.status == 404)
        #expect(unknown.message == "Requested object [Mars] not found")
        let byUID = try client.post(
            "/web_api/login-to-domain",
            body: #"{"domain": "\#(Identifiers.stableUUID(for: "Global"))"}"#,
            sid: system
        )
        #expect(byUID.status == 200)
        let export = try client.post(
            "/web_api/export-management",
            body: #"{"file-path": "/x.tgz"}"#,
            sid: sid
        )
        #expect(export.code == "err_not_a_system_domain_session")
    }

    @Test("show-session and set-session describe the session")
    func showAndSetSession() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let login = try client.post(
            "/web_api/login",
            body:
                #"{"user": "admin", "password": "chkflow", "session-name": "upgrade", "read-only": true}"#
        )
        let sid = try #require(login.json?["sid"]?.stringValue)
        let shown = try #require(try client.post("/web_api/show-session", sid: sid).json)
        #expect(shown["uid"] == login.json?["uid"])
        #expect(shown["name"] == "upgrade")
        #expect(shown["user-name"] == "admin")
        #expect(shown["application"] == "WEB_API")
        #expect(shown["connection-mode"] == "read only")
        #expect(shown["domain"]?["name"] == "SMC User")
        #expect(shown["session-timeout"] == 600)

        let set = try client.post(
            "/web_api/set-session",
            body: #"{"session-timeout": 1200, "description": "R82"}"#,
            sid: sid
        )
        #expect(set.json?["session-timeout"] == 1200)
        #expect(set.json?["description"] == "R82")
        let bad = try client.post(
            "/web_api/set-session",
            body: #"{"session-timeout": 9}"#,
            sid: sid
        )
        #expect(bad.code == "generic_err_invalid_parameter")
        let other = try client.post(
            "/web_api/show-session",
            body: #"{"uid": "01234567-89ab-4def-8123-456789abcdef"}"#,
            sid: sid
        )
        #expect(other.status == 404)
    }

    @Test("publish starts a task; another session's publish is not implemented")
    func publish() throws {
        var scenario = Scenario()
        scenario.publish = TaskBehaviour(duration: 0)
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let id = try #require(
            try client.post("/web_api/publish", sid: sid).json?["task-id"]?.stringValue
        )
        let task = try client.post("/web_api/show-task", body: #"{"task-id": "\#(id)"}"#, sid: sid)
        #expect(task.json?["tasks"]?[0]?["status"] == "succeeded")
        #expect(task.json?["tasks"]?[0]?["task-name"] == "Publish operation")
        let other = try client.post(
            "/web_api/publish",
            body: #"{"uid": "01234567-89ab-4def-8123-456789abcdef"}"#,
            sid: sid
        )
        #expect(other.status == 501)
        #expect(other.code == "not_implemented")
        #expect(other.message == "Publishing other than current session is not implemented")
    }

    @Test("discard has nothing to discard")
    func discard() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let reply = try client.post("/web_api/discard", sid: sid)
        #expect(reply.json == ["message": "OK", "number-of-discarded-changes": 0])
        let unknown = try client.post(
            "/web_api/discard",
            body: #"{"uid": "01234567-89ab-4def-8123-456789abcdef"}"#,
            sid: sid
        )
        #expect(unknown.code == "generic_err_object_not_found")
    }

    @Test("import-management starts a task and ends the session")
    func importManagement() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let verify = try client.post(
            "/web_api/import-management",
            body: #"{"file-path": "/x.tgz", "pre-import-verification-only": true}"#,
            sid: sid
        )
        #expect(verify.status == 200)
        #expect(verify.json?["login-required"] == nil)
        let missing = try client.post("/web_api/import-management", body: "{}", sid: sid)
        #expect(missing.message == "Missing parameter: [file-path]")
        let reply = try client.post(
            "/web_api/import-management",
            body: #"{"file-path": "/x.tgz"}"#,
            sid: sid
        )
        #expect(reply.status == 200)
        #expect(reply.json?["login-required"] == true)
        #expect(reply.json?["task-id"]?.stringValue.map(Identifiers.isUUID) == true)
        let after = try client.post("/web_api/keepalive", sid: sid)
        #expect(after.code == "generic_err_session_expired")
    }

    @Test("show-tasks lists tasks newest first with filters and paging")
    func showTasks() throws {
        var scenario = Scenario()
        scenario.verification = TaskBehaviour(duration: 0)
        scenario.export = TaskBehaviour(duration: 600)
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        var ids: [String] = []
        for body in [#"{"pre-export-verification-only": true}"#, #"{"file-path": "/x.tgz"}"#] {
            let reply = try client.post("/web_api/export-management", body: body, sid: sid)
            ids.append(try #require(reply.json?["task-id"]?.stringValue))
        }
        func list(_ body: String) throws -> [String] {
            let reply = try client.post("/web_api/show-tasks", body: body, sid: sid)
            return reply.json?["tasks"]?.arrayValue?.compactMap { $0["task-id"]?.stringValue } ?? []
        }
        #expect(try list("{}") == [ids[1], ids[0]])
        #expect(try list(#"{"status": "in-progress"}"#) == [ids[1]])
        #expect(try list(#"{"status": "successful"}"#) == [ids[0]])
        #expect(try list(#"{"status": "failed"}"#) == [])
        #expect(try list(#"{"initiator": "admin", "limit": 1, "offset": 1}"#) == [ids[0]])
        #expect(try list(#"{"initiator": "someone"}"#) == [])
        #expect(try list(#"{"from-date": "2000-01-01", "to-date": "2999-12-31T23:59"}"#).count == 2)
        #expect(try list(#"{"to-date": "2000-01-01T00:00:00"}"#) == [])
        let bad = try client.post(
            "/web_api/show-tasks",
            body: #"{"from-date": "yesterday"}"#,
            sid: sid
        )
        #expect(bad.message == "Invalid parameter for [from-date]. Invalid value")
    }

    @Test("dates of show-tasks")
    func dates() {
        #expect(DateText.epochSeconds("1970-01-01") == 0)
        #expect(DateText.epochSeconds("2015-04-26T07:11") == 1_430_032_260)
        #expect(DateText.epochSeconds("2000-02-29T12:00:30") == 951_825_630)
        #expect(DateText.epochSeconds("2000-13-01") == nil)
        #expect(DateText.epochSeconds("2000-1-01") == nil)
    }
}
