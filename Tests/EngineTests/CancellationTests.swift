import ChkflowCore
import Engine
import Playbook
import Simulator
import Synchronization
import Testing

/// Runs a playbook against a fresh simulator and cancels the run as soon as step `cancelAt`
/// starts, as a first Ctrl-C does; returns the result, the notices and the request log.
private func cancelledRun(
    _ text: String,
    scenario: Scenario,
    cancelAt: String
) async throws -> (RunResult, [String], [RequestRecord]) {
    let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "test.yaml")
    let server = SimulatorServer(scenario: scenario)
    try server.start()
    defer { server.stop() }
    var options = RunOptions()
    options.simulatorURL = server.baseURL
    let notices = Mutex<[String]>([])
    let started = AsyncStream<Void>.makeStream()
    let runner = Runner(plan: plan, options: options) { event in
        switch event {
        case .stepStarted(let id, _, _) where id == cancelAt: started.continuation.yield()
        case .notice(let text, _): notices.withLock { $0.append(text) }
        default: break
        }
    }
    let prepared = try runner.prepare()
    let run = Task { await runner.run(prepared) }
    for await _ in started.stream { break }
    run.cancel()
    let result = await run.value
    return (result, notices.withLock { $0 }, server.requests)
}

@Suite struct CancellationTests {
    private var scenario: Scenario {
        var scenario = Scenario.default
        scenario.export = TaskBehaviour(duration: 600)
        return scenario
    }

    private let exportAndWait = exportWaitLogout

    @Test func aCancelledRunDiscardsEachSessionThenLogsItOut() async throws {
        let (result, notices, requests) = try await cancelledRun(
            exportAndWait,
            scenario: scenario,
            cancelAt: "exported"
        )
        #expect(result.outcome == .cancelled)
        let cleanUp = requests.filter { ["discard", "logout"].contains($0.command) }
        #expect(cleanUp.map(\.command) == ["discard", "logout"])
        let login = try #require(requests.first { $0.command == "login" })
        #expect(cleanUp.allSatisfy { $0.session == login.session && $0.code == nil })
        #expect(result.discardsFailed.isEmpty)
        #expect(result.cleanupLogouts == ["login"])
        #expect(notices == ["logged out session 'login', which no logout step closed"])
    }

    @Test func aReadOnlySessionIsLoggedOutWithoutADiscard() async throws {
        let text =
            playbookHead + """
                  - id: reader
                    needs: [login]
                    login:
                      user: admin
                      password: chkflow
                      domain: System Data
                      read-only: true
                  - id: export
                    needs: [reader]
                    session: login
                    export:
                      file-path: /var/log/x.tgz
                  - id: exported
                    session: login
                    wait:
                      task: ${{ steps.export.task-id }}
                """
        let (result, _, requests) = try await cancelledRun(
            text,
            scenario: scenario,
            cancelAt: "exported"
        )
        #expect(result.outcome == .cancelled)
        let logins = requests.filter { $0.command == "login" }.map(\.session)
        try #require(logins.count == 2)
        let discards = requests.filter { $0.command == "discard" }.map(\.session)
        #expect(discards == [logins[0]])
        #expect(requests.count(of: "logout") == 2)
    }

    @Test func aFailedDiscardIsAnnouncedAndTheSessionIsStillLoggedOut() async throws {
        var scenario = scenario
        scenario.faults = [
            FaultRule(
                command: "discard",
                action: .error(status: 500, code: "generic_error", message: "Discard failed")
            )
        ]
        let (result, notices, requests) = try await cancelledRun(
            exportAndWait,
            scenario: scenario,
            cancelAt: "exported"
        )
        #expect(result.outcome == .cancelled)
        #expect(result.discardsFailed == ["login"])
        #expect(result.cleanupLogouts == ["login"])
        #expect(requests.count(of: "logout") == 1)
        #expect(
            notices == [
                "the unpublished changes of session 'login' were not discarded: its discard failed"
                    + " (discard: generic_error (HTTP 500): Discard failed); they may stay on the server"
                    + " until an administrator discards them",
                "logged out session 'login', which no logout step closed",
            ]
        )
    }

    @Test func aRunThatIsNotCancelledSendsNoDiscard() async throws {
        var scenario = Scenario.default
        scenario.export = TaskBehaviour(duration: 0.1)
        let text = playbookHead + exportAndWaitSteps
        let (result, requests) = try await EngineHarness(scenario: scenario).run(text)
        #expect(result.outcome == .succeeded)
        #expect(result.cleanupLogouts == ["login"])
        #expect(requests.count(of: "discard") == 0)
        #expect(requests.count(of: "logout") == 1)
    }
}
