import ChkflowCore
import Foundation
import Testing

@testable import Simulator

@Suite("Login, sessions and versions")
struct SessionTests {
    @Test("login replies with exactly the fields of a real server")
    func loginReplyShape() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let reply = try harness.client().post(
            "/web_api/login",
            body:
                #"{"user": "admin", "password": "chkflow", "continue-last-session": false, "read-only": false}"#
        )

        #expect(reply.statusLine == "HTTP/1.1 200 OK")
        #expect(reply.header("Content-Type") == "application/json")
        #expect(reply.header("Set-Cookie") == nil)
        let json = try #require(reply.json?.objectValue)
        #expect(
            Set(json.keys) == [
                "uid", "sid", "url", "session-timeout", "last-login-was-at", "api-server-version",
                "read-only",
            ]
        )
        let sid = try #require(json["sid"]?.stringValue)
        #expect(sid.utf8.count == 43)
        #expect(sid.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(Identifiers.isUUID(json["uid"]?.stringValue ?? ""))
        #expect(json["url"] == .string("http://127.0.0.1/web_api"))
        #expect(json["session-timeout"] == 600)
        #expect(json["api-server-version"] == "2.0.1")
        #expect(json["read-only"] == false)
        let posix = try #require(json["last-login-was-at"]?["posix"]?.intValue)
        #expect(posix > 1_700_000_000_000)
        let iso = try #require(json["last-login-was-at"]?["iso-8601"]?.stringValue)
        #expect(iso.utf8.count == 21 && iso.hasSuffix("+0000"))
    }

    @Test("two logins get different sids")
    func sidsAreRandom() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        #expect(try harness.login() != harness.login())
    }

    struct LoginCase: Sendable, CustomTestStringConvertible {
        var body: String
        var status: Int
        var code: String?
        var message: String?
        var testDescription: String { body }
    }

    static let loginCases: [LoginCase] = [
        .init(body: #"{"user": "admin", "password": "chkflow"}"#, status: 200),
        .init(body: #"{"api-key": "chkflow-demo-key"}"#, status: 200),
        .init(body: #"{"user": "admin", "password": "chkflow", "domain": ""}"#, status: 200),
        .init(
            body: #"{"user": "admin", "password": "chkflow", "domain": "SMC User"}"#,
            status: 200
        ),
        .init(
            body: #"{"user": "admin", "password": "chkflow", "domain": "System Data"}"#,
            status: 200
        ),
        .init(
            body: #"{"user": "admin", "password": "wrong"}"#,
            status: 400,
            code: "err_login_failed",
            message: "Authentication to server failed."
        ),
        .init(
            body: #"{"user": "nobody", "password": "chkflow"}"#,
            status: 400,
            code: "err_login_failed",
            message: "Authentication to server failed."
        ),
        .init(
            body: #"{"api-key": "wrong-key"}"#,
            status: 400,
            code: "err_login_failed",
            message: "Authentication to server failed."
        ),
        .init(
            body: #"{"user": "admin", "password": "chkflow", "domain": "Nowhere"}"#,
            status: 400,
            code: "err_login_failed",
            message: "Authentication to server failed."
        ),
        .init(
            body: #"{"user": "admin"}"#,
            status: 400,
            code: "generic_err_missing_required_parameters",
            message: "Missing parameter: [password]"
        ),
        .init(
            body: #"{"user": "admin", "password": "chkflow", "session-timeout": 5}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [session-timeout]. Value must be between 10 and 3600"
        ),
        .init(
            body: #"{"user": "admin", "password": "chkflow", "session-timeout": 3601}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [session-timeout]. Value must be between 10 and 3600"
        ),
        .init(
            body: #"{"user": "admin", "password": "chkflow", "read-only": "yes"}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [read-only]. Invalid value"
        ),
        .init(
            body: #"{"user": "admin", "password": "chkflow", "colour": "red"}"#,
            status: 400,
            code: "generic_err_invalid_parameter_name",
            message: "Unrecognized parameter [colour]"
        ),
    ]

    @Test("login accepts and refuses credentials and domains", arguments: loginCases)
    func loginCase(_ testCase: LoginCase) throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let reply = try harness.client().post("/web_api/login", body: testCase.body)
        #expect(reply.status == testCase.status)
        #expect(reply.code == testCase.code)
        #expect(reply.message == testCase.message)
    }

    @Test("a Multi-Domain Server lands in System Data and knows its domains")
    func multiDomainLogin() throws {
        var scenario = Scenario()
        scenario.serverType = .multiDomain
        scenario.domains = ["Europe"]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let export = try client.post(
            "/web_api/export-management",
            body: #"{"pre-export-verification-only": true}"#,
            sid: sid
        )
        #expect(export.status == 200)
        let smc = try client.post(
            "/web_api/login",
            body: #"{"user": "admin", "password": "chkflow", "domain": "SMC User"}"#
        )
        #expect(smc.code == "err_login_failed")
        let europe = try client.post(
            "/web_api/login",
            body: #"{"user": "admin", "password": "chkflow", "domain": "Europe"}"#
        )
        #expect(europe.status == 200)
        let uid = Identifiers.stableUUID(for: "Europe")
        let byUID = try client.post(
            "/web_api/login",
            body: #"{"user": "admin", "password": "chkflow", "domain": "\#(uid)"}"#
        )
        #expect(byUID.status == 200)
        let session = try client.post(
            "/web_api/show-session",
            sid: byUID.json?["sid"]?.stringValue
        )
        #expect(session.json?["domain"]?["name"] == "Europe")
    }

    struct VersionCase: Sendable, CustomTestStringConvertible {
        var path: String
        var status: Int
        var version: String?
        var url: String?
        var code: String?
        var message: String?
        var testDescription: String { path }
    }

    static let versionCases: [VersionCase] = [
        .init(
            path: "/web_api/login",
            status: 200,
            version: "2.0.1",
            url: "http://127.0.0.1/web_api"
        ),
        .init(
            path: "/web_api/v1.9/login",
            status: 200,
            version: "1.9",
            url: "http://127.0.0.1/web_api/v1.9"
        ),
        .init(
            path: "/web_api/v1/login",
            status: 200,
            version: "1",
            url: "http://127.0.0.1/web_api/v1"
        ),
        .init(
            path: "/web_api/v2.0.1/login",
            status: 200,
            version: "2.0.1",
            url: "http://127.0.0.1/web_api/v2.0.1"
        ),
        .init(
            path: "/web_api/v3/login",
            status: 400,
            code: "err_unknown_api_version",
            message: "Unknown API version: 3"
        ),
        .init(
            path: "/web_api/v1.10/login",
            status: 400,
            code: "err_unknown_api_version",
            message: "Unknown API version: 1.10"
        ),
        .init(
            path: "/web_api/vx/login",
            status: 400,
            code: "err_unknown_api_version",
            message: "Unknown API version: x"
        ),
        .init(
            path: "/web_api/v1.9/",
            status: 404,
            code: "err_bad_url",
            message: "Bad URL: /web_api/v1.9/"
        ),
        .init(
            path: "/gaia_api/login",
            status: 404,
            code: "err_bad_url",
            message: "Bad URL: /gaia_api/login"
        ),
        .init(
            path: "/web_api/v1.9/login/extra",
            status: 404,
            code: "err_bad_url",
            message: "Bad URL: /web_api/v1.9/login/extra"
        ),
    ]

    @Test("versioned and unversioned paths", arguments: versionCases)
    func versionedPath(_ testCase: VersionCase) throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let reply = try harness.client().post(
            testCase.path,
            body: #"{"user": "admin", "password": "chkflow"}"#
        )
        #expect(reply.status == testCase.status)
        #expect(reply.json?["api-server-version"]?.stringValue == testCase.version)
        #expect(reply.json?["url"]?.stringValue == testCase.url)
        #expect(reply.code == testCase.code)
        #expect(reply.message == testCase.message)
    }

    @Test("a server on an older version refuses newer versions in the path")
    func olderServer() throws {
        var scenario = Scenario()
        scenario.apiVersion = "1.8"
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let versions = try client.post("/web_api/show-api-versions", sid: sid)
        #expect(versions.json?["current-version"] == "1.8")
        #expect(
            versions.json?["supported-versions"]
                == ["1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.6.1", "1.7", "1.7.1", "1.8"]
        )
        let newer = try client.post("/web_api/v1.9/keepalive", sid: sid)
        #expect(newer.code == "err_unknown_api_version")
        let old = try client.post(
            "/web_api/v1.7/export-management",
            body: #"{"file-path": "/tmp/x.tgz"}"#,
            sid: try harness.systemDataLogin(on: client)
        )
        #expect(old.status == 404)
        #expect(old.code == "generic_err_command_version_not_found")
    }

    @Test("show-api-versions lists every version up to the server's")
    func showAPIVersions() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let reply = try client.post(
            "/web_api/v1.9/show-api-versions",
            sid: try harness.login(on: client)
        )
        #expect(reply.status == 200)
        #expect(
            reply.json
                == [
                    "current-version": "2.0.1",
                    "supported-versions": [
                        "1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.6.1", "1.7", "1.7.1",
                        "1.8", "1.8.1", "1.9", "1.9.1", "2", "2.0.1",
                    ],
                ]
        )
    }

    struct SessionCase: Sendable, CustomTestStringConvertible {
        var name: String
        var header: String?
        var status: Int
        var code: String?
        var testDescription: String { name }
    }

    static let sessionCases: [SessionCase] = [
        .init(name: "missing", header: nil, status: 401, code: "generic_err_missing_session_id"),
        .init(
            name: "empty",
            header: "X-chkp-sid: ",
            status: 401,
            code: "generic_err_missing_session_id"
        ),
        .init(
            name: "unknown",
            header: "X-chkp-sid: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            status: 401,
            code: "generic_err_wrong_session_id"
        ),
        .init(name: "valid", header: "X-chkp-sid: SID", status: 200),
        .init(name: "Ansible's case", header: "X-Chkp-Sid: SID", status: 200),
        .init(name: "lower case", header: "x-chkp-sid: SID", status: 200),
    ]

    @Test("the session header", arguments: sessionCases)
    func sessionHeader(_ testCase: SessionCase) throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let headers = testCase.header.map { [$0.replacingOccurrences(of: "SID", with: sid)] } ?? []
        let reply = try client.post(
            "/web_api/keepalive",
            extraHeaders: headers + ["Authorization: Basic YWRtaW46Y2hrZmxvdw=="]
        )
        #expect(reply.status == testCase.status)
        #expect(reply.code == testCase.code)
        if testCase.status == 200 { #expect(reply.json == ["message": "OK"]) }
    }

    @Test("logout ends the session")
    func logout() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let reply = try client.post("/web_api/logout", sid: sid)
        #expect(reply.status == 200)
        #expect(reply.json == ["message": "OK"])
        let after = try client.post("/web_api/keepalive", sid: sid)
        #expect(after.status == 401)
        #expect(after.code == "generic_err_wrong_session_id")
    }

    @Test("an idle session expires in scaled time and every call resets the timer")
    func idleExpiry() throws {
        var scenario = Scenario()
        scenario.timeScale = 100
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(
            #"{"user": "admin", "password": "chkflow", "session-timeout": 60}"#,
            on: client
        )
        for _ in 0..<4 {
            pause(seconds: 0.1)
            #expect(try client.post("/web_api/keepalive", sid: sid).status == 200)
        }
        pause(seconds: 0.9)
        let expired = try client.post("/web_api/keepalive", sid: sid)
        #expect(expired.status == 401)
        #expect(expired.code == "generic_err_session_expired")
        #expect(
            try client.post("/web_api/keepalive", sid: sid).code == "generic_err_session_expired"
        )
    }
}
