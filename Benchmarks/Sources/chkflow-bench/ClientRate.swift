import ChkflowCore
import ManagementAPI

/// chkflow's client on one connection: login, N show-task calls, logout, against a running
/// simulator; calls per second over the whole sequence, connecting and logging in included.
struct ClientRate {
    var url: String
    /// The SHA-256 fingerprint to pin, for an `https` URL.
    var fingerprint: String?
    var taskID: String
    var calls: Int
    var runs: Int

    func measure() async throws {
        var seconds: [Double] = []
        var connections: [Int] = []
        for _ in 0..<runs {
            let tls: TLSPolicy = fingerprint.map { .fingerprint($0) } ?? .system
            let session = Session(endpoint: Endpoint(url: url, tls: tls))
            let start = monotonicSeconds()
            // As the engine runs a step: on the session's own thread (see transferExecutor).
            try await withTaskExecutorPreference(session.transferExecutor) {
                _ = try await session.login(
                    .password(user: "admin", password: "chkflow"),
                    options: LoginOptions()
                )
                for _ in 0..<calls { _ = try await session.showTasks([taskID]) }
                try await session.logout()
            }
            seconds.append(monotonicSeconds() - start)
            connections.append(await session.statistics.connections)
        }
        let requests = Double(calls + 2)
        try emit([
            "benchmark": "client-rate",
            "tool": "chkflow",
            "requests": calls + 2,
            "seconds": seconds,
            "connections": connections,
            "median_calls_per_second": requests / median(seconds),
            "min_calls_per_second": requests / seconds.max()!,
            "max_calls_per_second": requests / seconds.min()!,
        ])
    }
}
