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

    static func scenario() -> Scenario {
        var scenario = Scenario()
        scenario.timeScale = 100
        scenario.verification = TaskBehaviour(duration: 100)
        scenario.export = TaskBehaviour(duration: 100)
        return scenario
    }

    @Test func sessionsThatIdleOutBetweenPollsAreRenewed() async throws {
        var harness = Harness()
        harness.scenario = Self.scenario()
        let rehearsal = try await harness.run(Self.playbook.replacing("1500ms", with: "20s"))
        #expect(
            rehearsal.statuses == [
                "login:succeeded", "verify:succeeded", "verified:succeeded", "export:succeeded",
                "exported:succeeded", "versions:succeeded", "logout:succeeded",
            ]
        )
        #expect(rehearsal.result.logins > 1)
        #expect(rehearsal.requests.contains { $0.code == "generic_err_session_expired" })
        #expect(rehearsal.exportsStarted == 1)
        #expect(rehearsal.count("export-management") == 2)
        #expect(rehearsal.openSessions.isEmpty)
    }

    @Test func everySessionExpiringAtOnceMidWaitIsRenewed() async throws {
        var harness = Harness()
        harness.scenario = Self.scenario()
        // A restart of the API server 1.5 s in, while the export runs.
        harness.scenario.sessionsExpireAt = [150]
        let rehearsal = try await harness.run(Matrix.playbook.replacing("1500ms", with: "20s"))
        #expect(rehearsal.exitCode == 0)
        #expect(rehearsal.result.logins == 2)
        #expect(rehearsal.requests.filter { $0.code == "generic_err_session_expired" }.count == 1)
        #expect(rehearsal.exportsStarted == 1)
        #expect(rehearsal.count("export-management") == 2)
        #expect(rehearsal.openSessions.isEmpty)
    }
}
