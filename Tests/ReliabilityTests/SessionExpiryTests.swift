import ChkflowCore
import Engine
import Simulator
import Testing

/// Sessions that really expire on the server (not an injected error): chkflow logs in again,
/// goes on with the same task-id and never sends the export twice.
///
/// A session that idles out between two polls cannot happen with a real server: the longest
/// pause of a wait (5 s) is shorter than the shortest session timeout (10 s).
@Suite struct SessionExpiryTests {
    /// 40 simulated seconds a real one; each task takes 2 s.
    static func scenario() -> Scenario {
        var scenario = Scenario()
        scenario.timeScale = 40
        scenario.verification = TaskBehaviour(duration: 80)
        scenario.export = TaskBehaviour(duration: 80)
        return scenario
    }

    @Test func everySessionExpiringAtOnceIsRenewed() async throws {
        var harness = Harness()
        harness.scenario = Self.scenario()
        // A restart of the API server every 3 s (simulated 120 s) during 4 s of tasks, so that
        // at least one falls inside the run however slowly the machine starts it.
        harness.scenario.sessionsExpireAt = (1...100).map { Double($0) * 120 }
        let rehearsal = try await harness.run(
            Matrix.playbook.replacing("1500ms", with: "20s").replacing(
                "timeout: 2s}",
                with: "timeout: 20s}"
            )
        )
        #expect(rehearsal.exitCode == 0)
        #expect(rehearsal.result.logins >= 2)
        #expect(rehearsal.requests.contains { $0.code == "generic_err_session_expired" })
        #expect(rehearsal.exportsStarted == 1)
        #expect(
            rehearsal.requests.filter { $0.command == "export-management" && $0.status == 200 }
                .count == 2
        )
        #expect(rehearsal.openSessions.isEmpty)
    }
}
