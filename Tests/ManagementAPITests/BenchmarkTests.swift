import ChkflowCore
import Foundation
import Simulator
import Testing

@testable import ManagementAPI

/// chkflow's client and Check Point's Python SDK side by side against the simulator over HTTPS
/// (its own, or stunnel in front of it when it is built without OpenSSL): login, publish, 200
/// show-task calls, logout, each on one kept-alive connection.
///
/// A benchmark, so it runs only when asked: CHKFLOW_BENCHMARK=1 and CHKFLOW_SDK_PYTHON naming a
/// Python that can import `cpapi`. Meant for a release build (`swift test -c release`): a debug
/// build spends most of its time parsing JSON.
@Suite(
    "Client against the Python SDK",
    .enabled(
        if: ProcessInfo.processInfo.environment["CHKFLOW_BENCHMARK"] == "1"
            && ProcessInfo.processInfo.environment["CHKFLOW_SDK_PYTHON"] != nil
            && (SimulatorServer.supportsTLS || TLSFixture.available),
        "set CHKFLOW_BENCHMARK=1 and CHKFLOW_SDK_PYTHON (a Python with cp-mgmt-api-sdk)"
    )
)
struct BenchmarkTests {
    static let calls = 200
    static let rounds = 5

    /// Both clients over HTTPS to the same simulator; chkflow is also timed over plain HTTP, as
    /// a rehearsal runs, for the record.
    @Test func makesAtLeastTwiceTheCallsPerSecondOfTheSDK() async throws {
        let secure = try SecureSimulator()
        defer { secure.stop() }
        let plain = SimulatorServer()
        try plain.start()
        defer { plain.stop() }
        let folder = NSTemporaryDirectory() + "chkflow-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // The best of several rounds, alternating, so that a busy machine hurts all alike.
        var sdk = Double.infinity
        var https = Double.infinity
        var http = Double.infinity
        var ours: ArraySlice<RequestRecord> = []
        let pin = TLSPolicy.fingerprint(secure.fingerprint)
        for _ in 0..<Self.rounds {
            sdk = min(sdk, try runSDK(port: secure.port, folder: folder))
            let before = secure.server.requests.count
            https = min(https, try await runClient(Endpoint(url: secure.url, tls: pin)))
            ours = secure.server.requests.dropFirst(before)
            http = min(http, try await runClient(Endpoint(url: plain.baseURL)))
        }
        let figures = [
            "HTTPS by \(secure.how)",
            "chkflow over HTTPS \(rate(https)) calls/s (\(ms(https)) ms)",
            "cp-mgmt-api-sdk over HTTPS \(rate(sdk)) calls/s (\(ms(sdk)) ms)",
            "chkflow over HTTP \(rate(http)) calls/s (\(ms(http)) ms)",
        ].joined(separator: "; ")
        print("benchmark: " + figures)
        #expect(https * 2 <= sdk, Comment(rawValue: figures))
        let sdkConnections = Set(
            secure.server.requests.prefix(Self.calls + 3).map(\.connection)
        ).count
        #expect(sdkConnections == 1)
        #expect(Set(ours.filter { $0.command == "show-task" }.map(\.connection)).count == 1)
        #expect(ours.count == Self.calls + 3)
        #expect(ours.allSatisfy { $0.status == 200 })
    }

    private func rate(_ seconds: Double) -> Int { Int(Double(Self.calls + 3) / seconds) }

    private func ms(_ seconds: Double) -> Int { Int((seconds * 1000).rounded()) }

    private func runClient(_ endpoint: Endpoint) async throws -> Double {
        let session = Session(endpoint: endpoint)
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            // As a step of the engine runs: on the session's own thread.
            try await withTaskExecutorPreference(session.transferExecutor) {
                _ = try await session.login(.password(user: "admin", password: "chkflow"))
                let published = try await session.call("publish")
                let taskID = try #require(published["task-id"]?.stringValue)
                for _ in 0..<Self.calls { _ = try await session.showTasks([taskID]) }
                try await session.logout()
            }
        }
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    private func runSDK(port: Int, folder: String) throws -> Double {
        let script = folder + "/bench.py"
        try Self.script.write(toFile: script, atomically: true, encoding: .utf8)
        let process = Process()
        let python = ProcessInfo.processInfo.environment["CHKFLOW_SDK_PYTHON"] ?? "python3"
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script, String(port), String(Self.calls)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let reply = try JSON.parse(Array(data))
        return try #require(reply["seconds"]?.doubleValue)
    }

    /// The same calls through the SDK, timed inside the Python process.
    static let script = #"""
        import json, sys, time
        from cpapi import APIClient, APIClientArgs

        port, calls = int(sys.argv[1]), int(sys.argv[2])
        client = APIClient(APIClientArgs(server="127.0.0.1", port=port, unsafe=True))
        start = time.perf_counter()
        client.login("admin", "chkflow")
        task = client.api_call("publish", {}, wait_for_task=False).data["task-id"]
        for _ in range(calls):
            client.api_call("show-task", {"task-id": task, "details-level": "full"})
        client.api_call("logout")
        print(json.dumps({"seconds": time.perf_counter() - start}))
        """#
}

/// The simulator over HTTPS: serving it itself when it can, else behind stunnel.
private final class SecureSimulator {
    let server = SimulatorServer()
    let url: String
    let port: Int
    let fingerprint: String
    let how: String
    private var relay: TLSFixture?

    init() throws {
        if SimulatorServer.supportsTLS {
            let identity = try TLSIdentity.selfSigned()
            try server.start(tls: identity)
            url = server.baseURL
            port = Int(server.port)
            fingerprint = identity.sha256Fingerprint
            how = "the simulator"
        } else {
            try server.start()
            let relay = try TLSFixture(backendPort: Int(server.port))
            self.relay = relay
            url = relay.url
            port = relay.port
            fingerprint = try relay.opensslFingerprint()
            how = "stunnel in front of the simulator"
        }
    }

    func stop() {
        relay?.stop()
        server.stop()
    }
}
