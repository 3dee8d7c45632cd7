import ChkflowCore
import Engine
import Simulator
import Testing

/// Sessions that really expire on the server (not an injected error): chkflow logs in again,
/// goes on with the same task-id and never sends the export twice.
@Suite struct SessionExpiryTests {
    static let playbook = Matrix.playbook.replacing(
        "domain: System Data}",
        with: "domain: System Data, session-timeout: 10}"
    )

    /// 40 simulated seconds a real one: the 10 s idle timeout is a quarter of a real second, no
    /// longer than the shortest pause between two polls of a wait; each task takes 2 s.
    static func scenario() -> Scenario {
        var scenario = Scenario()
        scenario.timeScale = 40
        scenario.verification = TaskBehaviour(duration: 80)
        scenario.export = TaskBehaviour(duration: 80)
        return scenario
    }

    @Test func sessionsThatIdleOutBetweenPollsAreRenewed() async throws {
        var harness = Harness()
        harness.scenario = Self.scenario()
        let rehearsal = try await harness.run(
            Self.playbook.replacing("1500ms", with: "20s").replacing(
                "timeout: 2s}",
                with: "timeout: 20s}"
            )
        )
        #expect(
            rehearsal.statuses == [
                "login:succeeded", "verify:succeeded", "verified:succeeded", "export:succeeded",
                "exported:succeeded", "versions:succeeded", "logout:succeeded",
            ]
        )
        #expect(rehearsal.result.logins > 1)
        #expect(rehearsal.requests.contains { $0.code == "generic_err_session_expired" })
        #expect(rehearsal.exportsStarted == 1)
        // A request refused as expired is sent again after the new login; two went through.
        #expect(
            rehearsal.requests.filter { $0.command == "export-management" && $0.status == 200 }
                .count == 2
        )
        #expect(rehearsal.openSessions.isEmpty)
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
