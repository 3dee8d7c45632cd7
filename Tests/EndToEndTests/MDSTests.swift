import Foundation
import Testing

@Suite struct MDSTests {
    @Test func everyDomainIsExportedAndOneFailureDoesNotStopTheOthers() throws {
        let folder = Paths.temporaryFolder()
        let report = folder + "/report.json"
        let log = folder + "/requests.ndjson"
        let outcome = try chkflow([
            "run", Paths.playbook("mds-export-domains.yaml"), "--simulator",
            Paths.fixture("mds-faults.yaml"), "--simulator-log", log, "--report", report,
        ])
        #expect(outcome.status == 1, "\(outcome.stderr)")
        let json = try readJSON(report)
        let steps = json["steps"] as? [[String: Any]] ?? []
        let statuses = steps.map { "\($0["id"] ?? ""):\($0["status"] ?? "")" }
        #expect(
            statuses == [
                "login:succeeded", "domains:succeeded", "each-domain:failed", "logout:succeeded",
            ]
        )
        let items = try #require(steps[2]["items"] as? [[String: Any]])
        #expect(items.count == 20)
        #expect(items.filter { $0["status"] as? String == "succeeded" }.count == 19)
        let failed = items.filter { $0["status"] as? String == "failed" }
        #expect(failed.count == 1)
        let failedExport = (failed.first?["steps"] as? [[String: Any]])?.first
        #expect(
            (failedExport?["error"] as? [String: Any])?["code"] as? String
                == "err_validation_failed"
        )
        let retried = items.compactMap { ($0["steps"] as? [[String: Any]])?.first }
            .filter { ($0["attempts"] as? [Any])?.count == 2 }
        #expect(retried.count == 1)
        #expect(retried.first?["status"] as? String == "succeeded")

        let requests = try readLog(log)
        #expect(count(requests, command: "export-management") == 21)
        #expect(
            requests.filter {
                $0["command"] as? String == "export-management" && $0["status"] as? Int == 409
            }.isEmpty
        )
        #expect(count(requests, command: "login") == 1)
        #expect(count(requests, command: "logout") == 1)
    }
}
