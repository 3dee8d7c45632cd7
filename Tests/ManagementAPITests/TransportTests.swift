import ChkflowCore
import Foundation
import Synchronization
import Testing

@testable import ManagementAPI

/// A minimal stand-in for a management server: one admin, sessions by sid, canned commands.
final class MiniServer: Sendable {
    let sessions = Mutex<[String]>([])
    let counter = Atomic<Int>(0)

    func reply(_ request: LoopbackResponder.Request) -> LoopbackResponder.Reply {
        let command = String(request.path.split(separator: "/").last ?? "")
        if command == "login" {
            let number = counter.add(1, ordering: .relaxed).newValue
            let sid = "sid-\(number)-secret"
            sessions.withLock { $0.append(sid) }
            return .json(
                200,
                #"{"sid":"\#(sid)","uid":"u-\#(number)","session-timeout":600,"#
                    + #""api-server-version":"2.0.1","url":"x"}"#
            )
        }
        guard let sid = request.header("x-chkp-sid"), sessions.withLock({ $0.contains(sid) }) else {
            return .json(
                401,
                #"{"code":"generic_err_wrong_session_id","message":"Wrong session id"}"#
            )
        }
        switch command {
        case "logout":
            sessions.withLock { $0.removeAll { $0 == sid } }
            return .json(200, #"{"message":"OK"}"#)
        case "expire":
            sessions.withLock { $0.removeAll() }
            return .json(
                401,
                #"{"code":"generic_err_session_expired","message":"Session expired"}"#
            )
        default:
            return .json(200, #"{"message":"OK","echo":\#(request.body)}"#)
        }
    }
}

func withServer<T>(
    _ handler: @escaping @Sendable (LoopbackResponder.Request) -> LoopbackResponder.Reply,
    _ body: (LoopbackResponder) async throws -> T
) async throws -> T {
    let responder = try LoopbackResponder(handler: handler)
    defer { responder.stop() }
    return try await body(responder)
}

func commands(_ responder: LoopbackResponder) -> [String] {
    responder.requests.map { String($0.path.split(separator: "/").last ?? "") }
}

@Suite("Transport and session over loopback HTTP")
struct TransportTests {
    @Test func loginSendsCredentialsAndKeepsTheSessionIDToItself() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            let reply = try await session.login(
                .password(user: "admin", password: "chkflow"),
                options: LoginOptions(domain: "System Data", readOnly: true, sessionTimeout: 900)
            )
            #expect(reply["sid"] == nil)
            #expect(reply["uid"] == "u-1")
            #expect(await session.isLoggedIn)
            #expect(await session.apiServerVersion == "2.0.1")
            let login = try #require(responder.requests.first)
            #expect(login.path == "/web_api/login")
            #expect(login.header("x-chkp-sid") == nil)
            #expect(login.header("user-agent") == "chkflow/0.1.0")
            #expect(login.header("content-type") == "application/json")
            #expect(
                login.body
                    == #"{"domain":"System Data","password":"chkflow","read-only":true,"#
                    + #""session-timeout":900,"user":"admin"}"#
            )
        }
    }

    @Test func apiKeyLoginSendsOnlyTheKey() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            _ = try await session.login(.apiKey("chkflow-demo-key"))
            #expect(responder.requests.first?.body == #"{"api-key":"chkflow-demo-key"}"#)
        }
    }

    @Test func callsShareOneKeptAliveConnection() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url), userAgent: "chkflow/test")
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            for number in 1...5 {
                let reply = try await session.call("show-hosts", ["offset": .int(Int64(number))])
                #expect(reply["echo"]?["offset"]?.intValue == Int64(number))
            }
            try await session.logout()
            #expect(await !session.isLoggedIn)
            #expect(await session.statistics == CallStatistics(calls: 7, logins: 1, connections: 1))
            #expect(responder.connections == 1)
            let later = responder.requests.dropFirst()
            #expect(later.allSatisfy { $0.header("x-chkp-sid") == "sid-1-secret" })
            #expect(later.allSatisfy { $0.header("user-agent") == "chkflow/test" })
        }
    }

    @Test func onceOnlyCommandsGoOutOnAFreshConnection() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            _ = try await session.call("export-management", ["file-path": "/var/log/x.tgz"])
            _ = try await session.call("show-session")
            let connections = responder.requests.map(\.connection)
            #expect(connections[1] != connections[0])
            #expect(connections[2] != connections[1])
            #expect(await session.statistics.connections == 2)
        }
    }

    @Test func aSessionErrorLogsInOnceAndSendsTheSameRequestAgain() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            server.sessions.withLock { $0.removeAll() }
            let reply = try await session.call("show-task", ["task-id": "t-1"])
            #expect(reply["echo"]?["task-id"] == "t-1")
            #expect(commands(responder) == ["login", "show-task", "login", "show-task"])
            #expect(responder.requests.last?.header("x-chkp-sid") == "sid-2-secret")
            #expect(await session.statistics.logins == 2)
        }
    }

    @Test func callsThatMeetTheSameExpiryShareOneNewLogin() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            server.sessions.withLock { $0.removeAll() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for number in 0..<4 {
                    group.addTask {
                        _ = try await session.call("show-host", ["n": .int(Int64(number))])
                    }
                }
                try await group.waitForAll()
            }
            #expect(commands(responder).filter { $0 == "login" }.count == 2)
            #expect(await session.statistics.logins == 2)
        }
    }

    @Test func aSecondSessionErrorInARowIsThrown() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            let error = await #expect(throws: APIError.self) { try await session.call("expire") }
            #expect(error?.code == "generic_err_session_expired")
            #expect(commands(responder) == ["login", "expire", "login", "expire"])
        }
    }

    @Test func keepaliveGoesOutOnlyAfterAThirdOfTheTimeout() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let clock = ManualClock()
            let session = Session(endpoint: Endpoint(url: responder.url), budget: nil, clock: clock)
            #expect(try await session.keepaliveIfIdle() == false)
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            #expect(await session.sessionTimeout == 600)
            clock.advance(199)
            #expect(try await session.keepaliveIfIdle() == false)
            clock.advance(2)
            #expect(await session.idleSeconds == 201)
            #expect(try await session.keepaliveIfIdle() == true)
            #expect(await session.idleSeconds == 0)
            #expect(commands(responder) == ["login", "keepalive"])
        }
    }

    @Test func logoutOfASessionTheServerDroppedSucceeds() async throws {
        let server = MiniServer()
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            server.sessions.withLock { $0.removeAll() }
            try await session.logout()
            #expect(commands(responder) == ["login", "logout"])
            #expect(await !session.isLoggedIn)
        }
    }

    @Test func theSessionIDNeverAppearsInAnError() async throws {
        let echo: @Sendable (LoopbackResponder.Request) -> LoopbackResponder.Reply = { request in
            if request.path.hasSuffix("login") {
                return .json(200, #"{"sid":"TOPSECRETSID","api-server-version":"2"}"#)
            }
            let sid = request.header("x-chkp-sid") ?? ""
            return .json(
                400,
                #"{"code":"generic_err_invalid_parameter","message":"bad sid \#(sid)","#
                    + #""errors":[{"message":"session \#(sid) is odd"}]}"#
            )
        }
        try await withServer(echo) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            _ = try await session.login(.apiKey("k"))
            let error = await #expect(throws: APIError.self) {
                try await session.call("show-hosts")
            }
            #expect(
                error?.description
                    == "show-hosts: generic_err_invalid_parameter (HTTP 400): bad sid <session-id>"
                    + " (error: session <session-id> is odd)"
            )
        }
    }

    @Test func aLoginReplyWithoutASessionIDIsAnInvalidReply() async throws {
        try await withServer({ _ in .json(200, #"{"message":"OK"}"#) }) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            let error = await #expect(throws: APIError.self) {
                try await session.login(.apiKey("k"))
            }
            #expect(error?.kind == .invalidReply)
            #expect(
                error?.description
                    == "login: invalid reply (HTTP 200): the reply has no session id (sid)"
            )
            #expect(await !session.isLoggedIn)
        }
    }

    @Test func aServerThatIsDownOrStartingSaysWhatToCheck() async throws {
        let down = LoopbackResponder.Reply(
            status: 503,
            body: "<html>Service Unavailable</html>",
            contentType: "text/html"
        )
        try await withServer({ _ in down }) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            let error = await #expect(throws: APIError.self) {
                try await session.login(.apiKey("k"))
            }
            #expect(error?.httpStatus == 503)
            #expect(error?.errorClass == .transient)
            #expect(error?.message == APIError.unavailableAdvice)
            #expect(await !session.isLoggedIn)
        }
    }

    @Test func aNonJSONSuccessIsAnInvalidReply() async throws {
        let reply = LoopbackResponder.Reply(
            status: 200,
            body: "<html>hi</html>",
            contentType: "text/html"
        )
        try await withServer({ _ in reply }) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            let error = await #expect(throws: APIError.self) {
                try await session.call("show-hosts")
            }
            #expect(
                error?.description
                    == "show-hosts: invalid reply (HTTP 200): the reply is not a JSON object"
            )
        }
    }

    @Test func plainHTTPToAnotherMachineIsRefusedBeforeConnecting() async throws {
        let session = Session(endpoint: Endpoint(url: "http://192.0.2.10:443"))
        let error = await #expect(throws: APIError.self) { try await session.login(.apiKey("k")) }
        #expect(error?.kind == .usage)
        #expect(error?.requestMayHaveReachedServer == false)
        #expect(
            error?.description
                == "login: usage error: plain http:// is accepted only for this machine"
                + " (127.0.0.1, ::1, localhost); use https:// for 192.0.2.10"
        )
        #expect(await session.statistics.calls == 0)
    }

    @Test func aRefusedConnectionNeverReachedTheServer() async throws {
        let responder = try LoopbackResponder { _ in .json(200, "{}") }
        let url = responder.url
        responder.stop()
        let session = Session(endpoint: Endpoint(url: url, connectTimeout: 2))
        let error = await #expect(throws: APIError.self) { try await session.call("show-hosts") }
        #expect(error?.kind == .transport)
        #expect(error?.requestMayHaveReachedServer == false)
        #expect(
            error?.description.hasPrefix("show-hosts: transport error: could not connect: ") == true
        )
    }

    @Test func aSlowReplyTimesOutAfterTheRequestWasSent() async throws {
        let slow = LoopbackResponder.Reply(status: 200, body: "{}", delay: 2)
        try await withServer({ _ in slow }) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url, requestTimeout: 0.3))
            let error = await #expect(throws: APIError.self) {
                try await session.call("show-hosts")
            }
            #expect(error?.kind == .transport)
            #expect(error?.requestMayHaveReachedServer == true)
            #expect(
                error?.description.hasPrefix("show-hosts: transport error: timed out: ") == true
            )
        }
    }

    @Test func aDroppedConnectionIsATransportError() async throws {
        let drop = LoopbackResponder.Reply(status: 200, body: "", drop: true)
        try await withServer({ _ in drop }) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            let error = await #expect(throws: APIError.self) {
                try await session.call("export-management", ["file-path": "/x.tgz"])
            }
            #expect(error?.kind == .transport)
            #expect(error?.requestMayHaveReachedServer == true)
            #expect(commands(responder) == ["export-management"])
        }
    }

    @Test func cancellingTheTaskAbortsTheTransferAtOnce() async throws {
        let slow = LoopbackResponder.Reply(status: 200, body: "{}", delay: 5)
        try await withServer({ _ in slow }) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url))
            let call = Task { try await session.call("show-hosts") }
            try await Task.sleep(for: .milliseconds(300))
            let cancelled = ContinuousClock.now
            call.cancel()
            let result = await call.result
            #expect(throws: CancellationError.self) { try result.get() }
            // The reply would take 5 s: ending well before shows the transfer was aborted.
            #expect(ContinuousClock.now - cancelled < .seconds(3))
        }
    }

    @Test(arguments: [
        ("", "\"\" is not a management API command name"),
        ("show-hosts?x=1", "\"show-hosts?x=1\" is not a management API command name"),
        ("../login", "\"../login\" is not a management API command name"),
    ])
    func commandNamesAreChecked(command: String, message: String) async throws {
        let session = Session(endpoint: Endpoint(url: "http://127.0.0.1:9"))
        let error = await #expect(throws: APIError.self) { try await session.call(command) }
        #expect(error?.kind == .usage)
        #expect(error?.message == message)
    }
}
