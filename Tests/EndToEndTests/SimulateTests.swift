import Foundation
import Testing

/// `chkflow simulate` in a process of its own, and a run pointed at it like at a real server.
@Suite struct SimulateTests {
    @Test func aRunAgainstASeparateSimulatorUsesOneSessionAndStopsOnSIGINT() throws {
        let folder = Paths.temporaryFolder()
        let running = try SimulatorProcess(folder: folder)
        let (simulator, url, log) = (running.process, running.url, running.log)
        #expect(url.hasPrefix("http://127.0.0.1:"))

        let report = folder + "/report.json"
        let outcome = try chkflow(
            ["run", Paths.fixture("direct.yaml"), "--report", report],
            environment: ["CHKP_URL": url, "CHKP_API_KEY": "chkflow-demo-key"]
        )
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try readJSON(report)
        let servers = json["servers"] as? [[String: Any]]
        #expect(servers?.first?["api-server-version"] as? String == "2.0.1")
        #expect(servers?.first?["simulated"] as? Bool == false)

        kill(simulator.processIdentifier, SIGINT)
        simulator.waitUntilExit()
        #expect(simulator.terminationStatus == 0)
        let requests = try readLog(log)
        #expect(count(requests, command: "login") == 1)
        #expect(count(requests, command: "export-management") == 1)
        #expect(count(requests, command: "logout") == 1)
        let sessions = Set(requests.compactMap { $0["session"] as? String })
        #expect(sessions.count == 1)
        let logText = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!logText.contains("chkflow-demo-key"))
    }

    @Test func aWrongAPIKeyFailsTheLoginWithTheServersCode() throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(folder: folder)
        let url = simulator.url
        let report = folder + "/report.json"
        let outcome = try chkflow(
            ["run", Paths.fixture("direct.yaml"), "--report", report],
            environment: ["CHKP_URL": url, "CHKP_API_KEY": "wrong-key"]
        )
        #expect(outcome.status == 1)
        #expect(!outcome.stderr.contains("wrong-key"))
        let json = try readJSON(report)
        let steps = json["steps"] as? [[String: Any]] ?? []
        let login = try #require(steps.first)
        #expect(login["status"] as? String == "failed")
        #expect((login["error"] as? [String: Any])?["code"] as? String == "err_login_failed")
        #expect(steps.dropFirst().allSatisfy { $0["status"] as? String == "skipped" })
        let reportText = try String(contentsOfFile: report, encoding: .utf8)
        #expect(!reportText.contains("wrong-key"))
        #expect(count(try simulator.requests(), command: "login") == 1)
    }
}
