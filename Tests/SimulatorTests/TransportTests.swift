import ChkflowCore
import Foundation
import Testing

@testable import Simulator

#if canImport(Glibc)
import Glibc
#endif

@Suite("Connections and timeouts")
struct TransportTests {
    @Test("a client that never finishes its request is disconnected")
    func requestTimeout() throws {
        var settings = TransportSettings()
        settings.requestTimeout = 0.2
        let harness = try Harness(settings: settings)
        defer { harness.server.stop() }
        let client = try harness.client()
        try client.send("POST /web_api/login HTTP/1.1\r\nContent-Length: 10\r\n\r\n{")
        let began = Date()
        #expect(client.isClosedByServer())
        #expect(Date().timeIntervalSince(began) < 2)
        #expect(try harness.client().post("/web_api/keepalive").status == 401)
    }

    @Test("an idle keep-alive connection is closed")
    func idleTimeout() throws {
        var settings = TransportSettings()
        settings.idleTimeout = 0.2
        let harness = try Harness(settings: settings)
        defer { harness.server.stop() }
        let client = try harness.client()
        #expect(try client.post("/web_api/keepalive").status == 401)
        #expect(client.isClosedByServer())
    }

    @Test("a thousand concurrent connections are all served")
    func thousandConnections() throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur < 2500 {
            limit.rlim_cur = min(limit.rlim_max, 4096)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        let count = limit.rlim_cur >= 2500 ? 1000 : Int(limit.rlim_cur / 3)
        let harness = try Harness()
        defer { harness.server.stop() }
        let sid = try harness.login()
        var clients: [TestClient] = []
        for _ in 0..<count {
            let client = try harness.client()
            try client.send(TestClient.request("/web_api/keepalive", sid: sid))
            clients.append(client)
        }
        let statuses = try clients.map { try $0.readResponse().status }
        #expect(statuses.count == count)
        #expect(statuses.allSatisfy { $0 == 200 })
        let again = try clients.map { try $0.post("/web_api/keepalive", sid: sid).status }
        #expect(again.allSatisfy { $0 == 200 })
        #expect(Set(harness.server.requests.map(\.connection)).count == count + 1)
    }

    @Test(
        "replies come alike whether the loop waits for the next request awake or asleep",
        arguments: [0, 0.0003, 0.05]
    )
    func busyPoll(seconds: Double) throws {
        var settings = TransportSettings()
        settings.busyPoll = seconds
        let harness = try Harness(settings: settings)
        defer { harness.server.stop() }
        let client = try harness.client()
        for _ in 0..<20 { #expect(try client.post("/web_api/keepalive").status == 401) }
        let other = try harness.client()
        #expect(try other.post("/web_api/keepalive").status == 401)
        #expect(try client.post("/web_api/keepalive").status == 401)
    }

    @Test("one loop of a server at a time polls without sleeping")
    func oneBusyPollAtATime() {
        let shared = ConnectionCounter()
        #expect(shared.claimBusyPoll())
        #expect(!shared.claimBusyPoll())
        shared.releaseBusyPoll()
        #expect(shared.claimBusyPoll())
        #expect(ConnectionCounter().claimBusyPoll())
    }
}
