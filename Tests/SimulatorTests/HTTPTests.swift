import ChkflowCore
import Foundation
import Testing

@testable import Simulator

@Suite("HTTP/1.1 handling")
struct HTTPTests {
    @Test("keep-alive serves several requests on one connection")
    func keepAlive() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        for _ in 0..<5 {
            let reply = try client.post("/web_api/keepalive", sid: sid)
            #expect(reply.statusLine == "HTTP/1.1 200 OK")
            #expect(reply.header("Connection") == nil)
        }
        #expect(Set(harness.server.requests.map(\.connection)) == [1])
        #expect(harness.server.requests.count == 6)
    }

    @Test("Connection: close is honoured")
    func connectionClose() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let reply = try client.post(
            "/web_api/login",
            body: #"{"user": "admin", "password": "chkflow"}"#,
            extraHeaders: ["Connection: close"]
        )
        #expect(reply.status == 200)
        #expect(reply.header("Connection") == "close")
        #expect(client.isClosedByServer())
    }

    @Test("HTTP/1.0 closes unless asked to keep alive")
    func http10() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        try client.send("POST /web_api/show-api-versions HTTP/1.0\r\nContent-Length: 2\r\n\r\n{}")
        let reply = try client.readResponse()
        #expect(reply.status == 401)
        #expect(reply.header("Connection") == "close")
        #expect(client.isClosedByServer())
    }

    @Test("pipelined requests in one write get their replies in order")
    func pipelining() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        let keepalive = TestClient.request("/web_api/keepalive", sid: sid)
        let unknown = TestClient.request("/web_api/show-nothing", sid: sid)
        try client.send(keepalive + unknown + keepalive)
        #expect(try client.readResponse().status == 200)
        #expect(try client.readResponse().status == 404)
        #expect(try client.readResponse().status == 200)
    }

    @Test("a chunked request body is decoded")
    func chunkedBody() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let parts = [#"{"user": "admin""#, #", "password": "chkflow"}"#]
        try client.send(
            "POST /web_api/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "10\r\n\(parts[0])\r\n" + "18;ext=1\r\n\(parts[1])\r\n"
                + "0\r\nX-Trailer: y\r\n\r\n"
        )
        #expect(parts.map(\.utf8.count) == [0x10, 0x18])
        let reply = try client.readResponse()
        #expect(reply.status == 200)
        #expect(reply.json?["sid"] != nil)
    }

    @Test("Expect: 100-continue gets an interim reply before the body is sent")
    func expectContinue() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let body = #"{"user": "admin", "password": "chkflow"}"#
        try client.send(
            "POST /web_api/login HTTP/1.1\r\nContent-Length: \(body.utf8.count)\r\n"
                + "Expect: 100-continue\r\n\r\n"
        )
        let interim = try client.readResponse()
        #expect(interim.statusLine == "HTTP/1.1 100 Continue")
        try client.send(body)
        #expect(try client.readResponse().status == 200)
    }

    @Test("a request sent a few bytes at a time is answered")
    func slowSender() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let request = Array(
            TestClient.request("/web_api/login", body: #"{"api-key": "chkflow-demo-key"}"#).utf8
        )
        for start in stride(from: 0, to: request.count, by: 7) {
            try client.send(Array(request[start..<min(start + 7, request.count)]))
            pause(seconds: 0.002)
        }
        #expect(try client.readResponse().status == 200)
    }

    @Test("unknown commands, other methods and bad bodies get JSON errors")
    func apiLevelErrors() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)

        let unknown = try client.post("/web_api/show-hosts-everywhere", sid: sid)
        #expect(unknown.status == 404)
        #expect(unknown.code == "generic_err_command_not_found")
        #expect(unknown.message == "Command show-hosts-everywhere not found")

        try client.send("GET /web_api/login HTTP/1.1\r\nHost: x\r\n\r\n")
        let get = try client.readResponse()
        #expect(get.statusLine == "HTTP/1.1 405 Method Not Allowed")
        #expect(get.header("Allow") == "POST")
        #expect(get.code == "generic_error")

        let garbage = try client.post("/web_api/keepalive", body: "{not json", sid: sid)
        #expect(garbage.status == 400)
        #expect(garbage.code == "generic_err_invalid_syntax")

        let empty = try client.post("/web_api/keepalive", body: "", sid: sid)
        #expect(empty.status == 200)
    }

    struct MalformedCase: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: String
        var status: Int
        var testDescription: String { name }
    }

    static let malformedCases: [MalformedCase] = [
        .init(name: "binary garbage", bytes: "\u{01}\u{02}\u{03}\r\n\r\n", status: 400),
        .init(name: "no version", bytes: "POST /web_api/login\r\n\r\n", status: 400),
        .init(name: "relative target", bytes: "POST web_api/login HTTP/1.1\r\n\r\n", status: 400),
        .init(name: "HTTP/2.0", bytes: "POST /web_api/login HTTP/2.0\r\n\r\n", status: 505),
        .init(
            name: "space before colon",
            bytes: "POST /web_api/login HTTP/1.1\r\nHost : x\r\n\r\n",
            status: 400
        ),
        .init(
            name: "folded header",
            bytes: "POST /web_api/login HTTP/1.1\r\nHost: x\r\n  y\r\n\r\n",
            status: 400
        ),
        .init(
            name: "bare CR in a field",
            bytes: "POST /web_api/login HTTP/1.1\r\nHost: x\ry\r\n\r\n",
            status: 400
        ),
        .init(
            name: "control character in a value",
            bytes: "POST /web_api/login HTTP/1.1\r\nHost: x\u{01}\r\n\r\n",
            status: 400
        ),
        .init(
            name: "bad Content-Length",
            bytes: "POST /web_api/login HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            status: 400
        ),
        .init(
            name: "conflicting Content-Length",
            bytes:
                "POST /web_api/login HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            status: 400
        ),
        .init(
            name: "both framings",
            bytes:
                "POST /web_api/login HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
            status: 400
        ),
        .init(
            name: "gzip coding",
            bytes: "POST /web_api/login HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            status: 400
        ),
        .init(
            name: "bad chunk size",
            bytes: "POST /web_api/login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            status: 400
        ),
        .init(
            name: "huge Content-Length",
            bytes: "POST /web_api/login HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
            status: 413
        ),
        .init(
            name: "huge chunk",
            bytes: "POST /web_api/login HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n7fffffff\r\n",
            status: 413
        ),
    ]

    @Test("malformed requests get an error and the connection closes", arguments: malformedCases)
    func malformed(_ testCase: MalformedCase) throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        try client.send(testCase.bytes)
        let reply = try client.readResponse()
        #expect(reply.status == testCase.status)
        #expect(reply.header("Connection") == "close")
        #expect(reply.code != nil)
        #expect(client.isClosedByServer())
        #expect(harness.server.requests.last?.status == testCase.status)
    }

    @Test("an oversized head gets 413")
    func oversizedHead() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let filler = String(repeating: "a", count: 20_000)
        try client.send("POST /web_api/login HTTP/1.1\r\nX-Filler: \(filler)\r\n\r\n")
        let reply = try client.readResponse()
        #expect(reply.statusLine == "HTTP/1.1 413 Content Too Large")
        #expect(reply.message == "request head larger than 16384 bytes")
    }

    @Test("an oversized body being sent still gets its 413")
    func oversizedBody() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        try client.send("POST /web_api/login HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n")
        try client.send(String(repeating: " ", count: 100_000))
        let reply = try client.readResponse()
        #expect(reply.status == 413)
        #expect(reply.message == "request body larger than 1048576 bytes")
    }

    @Test("bad clients do not disturb a client in the middle of its work")
    func isolation() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let good = try harness.client()
        let sid = try harness.login(on: good)

        let halfSent = try harness.client()
        try halfSent.send("POST /web_api/login HTTP/1.1\r\nContent-Length: 50\r\n\r\n{\"us")
        let garbage = try harness.client()
        try garbage.send(Array(0..<255).map { UInt8($0) })
        var abandoned: [TestClient] = []
        for _ in 0..<20 {
            let client = try harness.client()
            try client.send("POST /web_api/keepalive HTTP/1.1\r\n")
            abandoned.append(client)
        }
        abandoned.removeAll()

        for _ in 0..<10 {
            #expect(try good.post("/web_api/keepalive", sid: sid).status == 200)
        }
        #expect(try garbage.readResponse().status == 400)
        #expect(garbage.isClosedByServer())
        #expect(try harness.client().post("/web_api/keepalive", sid: sid).status == 200)
    }

    @Test("many concurrent clients are all answered")
    func concurrentClients() async throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let sid = try harness.login()
        let port = harness.server.port
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<16 {
                group.addTask {
                    let client = try TestClient(port: port)
                    return try (0..<25).map { _ in
                        try client.post("/web_api/keepalive", sid: sid).status
                    }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(statuses.count == 400)
        #expect(statuses.allSatisfy { $0 == 200 })
    }

    @Test("starting fails clearly on a taken port, a bad host or an unwritable log")
    func startFailures() throws {
        let first = SimulatorServer()
        let port = try first.start()
        defer { first.stop() }
        let second = SimulatorServer()
        #expect {
            try second.start(port: port)
        } throws: { error in
            guard
                case .cannotListen(let host, let failedPort, let reason) = error as? SimulatorError
            else { return false }
            return host == "127.0.0.1" && failedPort == port && reason.hasPrefix("bind: ")
        }
        #expect(throws: SimulatorError.invalidHost("example.com")) {
            try SimulatorServer().start(host: "example.com")
        }
        let logged = SimulatorServer(logPath: "/nonexistent-folder/requests.jsonl")
        #expect {
            try logged.start()
        } throws: { error in
            guard case .cannotOpenLog(let path, _) = error as? SimulatorError else { return false }
            return path == "/nonexistent-folder/requests.jsonl"
        }
        #expect(logged.port == 0)
        let v6 = SimulatorServer()
        if (try? v6.start(host: "::1")) != nil {
            #expect(v6.baseURL == "http://[::1]:\(v6.port)")
            v6.stop()
        }
        #expect(first.scenario.apiVersion == "2.0.1")
    }

    @Test("stop closes connections and is idempotent")
    func stop() throws {
        let harness = try Harness()
        let client = try harness.client()
        let port = harness.server.port
        #expect(harness.server.baseURL == "http://127.0.0.1:\(port)")
        harness.server.stop()
        harness.server.stop()
        #expect(client.isClosedByServer())
        #expect(throws: TestClientError.self) { try TestClient(port: port) }
        #expect(throws: SimulatorError.alreadyStarted) { try harness.server.start() }
    }
}

@Suite("HTTP parser")
struct HTTPParserTests {
    @Test("the end of the head is found wherever the reads split it")
    func headEndAcrossReads() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let request = Array(TestClient.request("/web_api/keepalive").utf8)
        let split = request.count - 4
        try client.send(Array(request[..<split]))
        for byte in request[split...] {
            pause(seconds: 0.01)
            try client.send([byte])
        }
        #expect(try client.readResponse().code == "generic_err_missing_session_id")
    }

    struct HeadCase: Sendable, CustomTestStringConvertible {
        var text: String
        var end: Int?
        var testDescription: String { text.debugDescription }
    }

    static let headCases: [HeadCase] = [
        .init(text: "POST / HTTP/1.1\r\n\r\n", end: 19),
        .init(text: "POST / HTTP/1.1\n\n", end: 17),
        .init(text: "POST / HTTP/1.1\r\nHost: x\r\n\r\n{}", end: 28),
        .init(text: "POST / HTTP/1.1\r\nHost: x\r\n", end: nil),
        .init(text: "POST / HTTP/1.1\r\nHost: x\r\n\r", end: nil),
    ]

    @Test("where the head ends", arguments: headCases)
    func headEnd(_ testCase: HeadCase) {
        #expect(HTTPParser.headEnd(in: Array(testCase.text.utf8), from: 0) == testCase.end)
    }

    @Test("header fields are matched case-insensitively and keep-alive follows the version")
    func headFields() throws {
        let text =
            "POST /web_api/login HTTP/1.0\r\nconnection: Keep-Alive\r\nX-CHKP-SID: abc\r\n\r\n"
        let bytes = Array(text.utf8)
        let head = try HTTPParser.parseHead(bytes, from: 0, to: bytes.count, limits: HTTPLimits())
        #expect(head.value(of: "X-chkp-sid") == "abc")
        #expect(head.keepAlive)
        #expect(head.minorVersion == 0)
        #expect(head.framing == .none)
    }
}
