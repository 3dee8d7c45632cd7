import ChkflowCore
import Foundation
import Synchronization
import Testing

@testable import Simulator

/// Measures show-task over keep-alive connections.
///
/// Skipped unless CHKFLOW_SIM_BENCH is set, because its figures depend on the machine; it
/// still checks every reply.
@Suite(
    "Throughput",
    .serialized,
    .enabled(if: ProcessInfo.processInfo.environment["CHKFLOW_SIM_BENCH"] != nil)
)
struct ThroughputTests {
    @Test("show-task requests per second with keep-alive", arguments: [0, 1000])
    func showTaskThroughput(idleConnections: Int) throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let idle = try (0..<idleConnections).map { _ in try harness.client() }
        defer { _ = idle }
        let setup = try harness.client()
        let sid = try harness.systemDataLogin(on: setup)
        let started = try setup.post(
            "/web_api/export-management",
            body: #"{"file-path": "/x.tgz"}"#,
            sid: sid
        )
        let id = try #require(started.json?["task-id"]?.stringValue)
        let request = Array(
            TestClient.request(
                "/web_api/v2.0.1/show-task",
                body: #"{"task-id": "\#(id)", "details-level": "full"}"#,
                sid: sid
            ).utf8
        )

        let connections = 8
        let perConnection = 4000
        let results = Mutex<(ok: Int, latencies: [Double])>((0, []))
        let begin = MonotonicClock.now()
        let threads = (0..<connections).map { _ in
            Thread {
                guard let client = try? TestClient(port: harness.server.port) else { return }
                var ok = 0
                var latencies: [Double] = []
                latencies.reserveCapacity(perConnection)
                for _ in 0..<perConnection {
                    let sent = MonotonicClock.now()
                    guard (try? client.send(request)) != nil,
                        let reply = try? client.readResponse()
                    else { break }
                    latencies.append(MonotonicClock.now() - sent)
                    if reply.status == 200 { ok += 1 }
                }
                results.withLock {
                    $0.ok += ok
                    $0.latencies += latencies
                }
            }
        }
        for thread in threads { thread.start() }
        while results.withLock({ $0.latencies.count }) < connections * perConnection,
            MonotonicClock.now() - begin < 60
        {
            pause(seconds: 0.01)
        }
        let elapsed = MonotonicClock.now() - begin
        let (ok, latencies) = results.withLock { ($0.ok, $0.latencies.sorted()) }
        let rate = Double(ok) / elapsed
        let p50 = latencies[latencies.count / 2] * 1000
        let p99 = latencies[latencies.count * 99 / 100] * 1000
        print(
            "show-task with \(idleConnections) idle connections: \(ok) in \(elapsed) s = "
                + "\(Int(rate)) req/s, p50 \(p50) ms, p99 \(p99) ms"
        )
        #expect(ok == connections * perConnection)
    }
}
