import ChkflowCore
import Foundation
import Testing

@testable import Simulator

@Suite("export-management and show-task")
struct ExportTaskTests {
    struct ExportCase: Sendable, CustomTestStringConvertible {
        var body: String
        var status: Int
        var code: String?
        var message: String?
        var testDescription: String { body }
    }

    static let cases: [ExportCase] = [
        .init(body: #"{"file-path": "/var/log/export.tgz"}"#, status: 200),
        .init(body: #"{"pre-export-verification-only": true}"#, status: 200),
        .init(body: #"{"pre-export-verification-only": true, "version": "R82"}"#, status: 200),
        .init(
            body: #"""
                {"file-path": "/var/log/e.tgz", "version": "R82", "include-logs": true,
                 "include-logs-indexes": false, "days-of-logs": 7,
                 "include-endpoint-configuration": true, "include-endpoint-database": false,
                 "is-smc-to-mds": false, "verify-all-servers": true, "ignore-warnings": true}
                """#,
            status: 200
        ),
        .init(
            body: #"{}"#,
            status: 400,
            code: "generic_err_missing_required_parameters",
            message: "Missing parameter: [file-path]"
        ),
        .init(
            body: #"{"pre-export-verification-only": false}"#,
            status: 400,
            code: "generic_err_missing_required_parameters",
            message: "Missing parameter: [file-path]"
        ),
        .init(
            body: #"{"file-path": 7}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [file-path]. Invalid value"
        ),
        .init(
            body: #"{"file-path": ""}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [file-path]. Value must not be empty"
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "include-logs": "true"}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [include-logs]. Invalid value"
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "version": 82}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [version]. Invalid value"
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "days-of-logs": 0}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [days-of-logs]. Value must be a positive integer"
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "days-of-logs": "3"}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [days-of-logs]. Invalid value"
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "days-of-logs": 1.5}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [days-of-logs]. Invalid value"
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "is-domain-backup": true}"#,
            status: 400,
            code: "generic_err_missing_required_parameters",
            message: "Missing parameter: [domain-name]"
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "domain-name": "Europe"}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message:
                "Invalid parameter for [domain-name]. A single management server has no domains"
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "target-version": "R82"}"#,
            status: 400,
            code: "generic_err_invalid_parameter_name",
            message: "Unrecognized parameter [target-version]"
        ),
        .init(
            body: #"[1, 2]"#,
            status: 400,
            code: "generic_err_invalid_syntax",
            message: "Request body must be a JSON object"
        ),
    ]

    @Test("the seed's parameter rules", arguments: cases)
    func exportRules(_ testCase: ExportCase) throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let reply = try client.post("/web_api/export-management", body: testCase.body, sid: sid)
        #expect(reply.status == testCase.status)
        #expect(reply.code == testCase.code)
        #expect(reply.message == testCase.message)
        if testCase.status == 200 {
            let object = try #require(reply.json?.objectValue)
            #expect(Array(object.keys) == ["task-id"])
            let id = try #require(object["task-id"]?.stringValue)
            #expect(Identifiers.isUUID(id) && id == id.lowercased())
        }
    }

    struct DomainCase: Sendable, CustomTestStringConvertible {
        var body: String
        var status: Int
        var code: String?
        var testDescription: String { body }
    }

    static let domainCases: [DomainCase] = [
        .init(body: #"{"file-path": "/x.tgz", "domain-name": "Europe"}"#, status: 200),
        .init(
            body: #"{"file-path": "/x.tgz", "domain-name": "Europe", "is-domain-backup": true}"#,
            status: 200
        ),
        .init(
            body: #"{"file-path": "/x.tgz", "domain-name": "Asia"}"#,
            status: 404,
            code: "generic_err_object_not_found"
        ),
        .init(
            body:
                #"{"file-path": "/x.tgz", "domain-name": "Europe", "is-domain-backup": true, "is-smc-to-mds": true}"#,
            status: 400,
            code: "generic_err_invalid_parameter"
        ),
    ]

    @Test("domain exports on a Multi-Domain Server", arguments: domainCases)
    func domainExport(_ testCase: DomainCase) throws {
        var scenario = Scenario()
        scenario.serverType = .multiDomain
        scenario.domains = ["Europe"]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let reply = try client.post(
            "/web_api/export-management",
            body: testCase.body,
            sid: try harness.login(on: client)
        )
        #expect(reply.status == testCase.status)
        #expect(reply.code == testCase.code)
    }

    @Test("export-management runs only from a System Data session")
    func systemDataOnly() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let reply = try client.post(
            "/web_api/export-management",
            body: #"{"file-path": "/x.tgz"}"#,
            sid: try harness.login(on: client)
        )
        #expect(reply.status == 403)
        #expect(reply.code == "err_not_a_system_domain_session")
        #expect(reply.message == "This command is available only in the System Data domain")
    }

    @Test("a task stays in progress with rising progress, then succeeds at 100")
    func taskProgress() throws {
        var scenario = Scenario()
        scenario.export = TaskBehaviour(duration: 100)
        scenario.timeScale = 100
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let started = try client.post(
            "/web_api/export-management",
            body: #"{"file-path": "/var/log/e.tgz"}"#,
            sid: sid
        )
        let id = try #require(started.json?["task-id"]?.stringValue)

        var seen: [(status: String, percentage: Int64)] = []
        for _ in 0..<200 {
            let reply = try client.post(
                "/web_api/show-task",
                body: #"{"task-id": "\#(id)", "details-level": "full"}"#,
                sid: sid
            )
            let task = try #require(reply.json?["tasks"]?[0])
            seen.append(
                (task["status"]?.stringValue ?? "", task["progress-percentage"]?.intValue ?? -1)
            )
            if task["status"] != "in progress" {
                #expect(task["task-details"]?[0]?["file-path"] == "/var/log/e.tgz")
                #expect(
                    task["task-details"]?[0]?["statusDescription"] == "Exported to /var/log/e.tgz"
                )
                #expect(task["task-name"] == "Export Management")
                #expect(task["suppressed"] == false)
                #expect(task["start-time"]?["posix"]?.intValue != nil)
                #expect(task["last-update-time"]?["iso-8601"]?.stringValue != nil)
                break
            }
            pause(seconds: 0.05)
        }
        let progress = seen.filter { $0.status == "in progress" }.map(\.percentage)
        #expect(progress.count >= 3)
        #expect(progress == progress.sorted())
        #expect(progress.allSatisfy { (0...99).contains($0) })
        #expect(Set(progress).count >= 3)
        #expect(seen.last?.status == "succeeded")
        #expect(seen.last?.percentage == 100)
    }

    @Test(
        "final statuses come from the scenario",
        arguments: TaskStatus.allCases.filter(\.isTerminal)
    )
    func finalStatus(_ status: TaskStatus) throws {
        var scenario = Scenario()
        scenario.verification = TaskBehaviour(duration: 0, finalStatus: status)
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let started = try client.post(
            "/web_api/export-management",
            body: #"{"pre-export-verification-only": true}"#,
            sid: sid
        )
        let id = try #require(started.json?["task-id"]?.stringValue)
        let reply = try client.post(
            "/web_api/show-task",
            body: #"{"task-id": ["\#(id)"]}"#,
            sid: sid
        )
        let task = try #require(reply.json?["tasks"]?[0])
        #expect(task["status"] == .string(status.rawValue))
        #expect(task["progress-percentage"] == 100)
        #expect(task["task-name"] == "Pre-Export Verification")
        #expect(task["start-time"] == nil)
        #expect(task["task-details"]?[0]?["verification-summary"] != nil)
        #expect((task["task-details"]?[0]?["fault-message"] != nil) == (status == .failed))
    }

    @Test("tasks keep running after logout and are visible to a new session")
    func taskOutlivesSession() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let started = try client.post(
            "/web_api/export-management",
            body: #"{"file-path": "/x.tgz"}"#,
            sid: sid
        )
        let id = try #require(started.json?["task-id"]?.stringValue)
        #expect(try client.post("/web_api/logout", sid: sid).status == 200)
        let again = try harness.login(on: client)
        let reply = try client.post(
            "/web_api/show-task",
            body: #"{"task-id": "\#(id)"}"#,
            sid: again
        )
        #expect(reply.status == 200)
        #expect(reply.json?["tasks"]?[0]?["task-id"] == .string(id))
    }

    @Test("show-task with several ids answers in order")
    func severalTasks() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.systemDataLogin(on: client)
        let first = try client.post(
            "/web_api/export-management",
            body: #"{"pre-export-verification-only": true}"#,
            sid: sid
        )
        let second = try client.post(
            "/web_api/export-management",
            body: #"{"file-path": "/x.tgz"}"#,
            sid: sid
        )
        let ids = [first, second].compactMap { $0.json?["task-id"]?.stringValue }
        let reply = try client.post(
            "/web_api/show-task",
            body: #"{"task-id": ["\#(ids[1])", "\#(ids[0])"]}"#,
            sid: sid
        )
        #expect(
            reply.json?["tasks"]?.arrayValue?.compactMap { $0["task-id"]?.stringValue } == [
                ids[1], ids[0],
            ]
        )
    }

    struct ShowTaskCase: Sendable, CustomTestStringConvertible {
        var body: String
        var status: Int
        var code: String
        var message: String
        var testDescription: String { body }
    }

    static let showTaskCases: [ShowTaskCase] = [
        .init(
            body: #"{"task-id": "01234567-89ab-4def-8123-456789abcdef"}"#,
            status: 404,
            code: "generic_err_object_not_found",
            message: "Requested object [01234567-89ab-4def-8123-456789abcdef] not found"
        ),
        .init(
            body: #"{"task-id": "not-a-task"}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [task-id]. Invalid value"
        ),
        .init(
            body: #"{"task-id": []}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [task-id]. Invalid value"
        ),
        .init(
            body: #"{"task-id": 5}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [task-id]. Invalid value"
        ),
        .init(
            body: #"{}"#,
            status: 400,
            code: "generic_err_missing_required_parameters",
            message: "Missing parameter: [task-id]"
        ),
        .init(
            body: #"{"task-id": "01234567-89ab-4def-8123-456789abcdef", "details-level": "all"}"#,
            status: 400,
            code: "generic_err_invalid_parameter",
            message: "Invalid parameter for [details-level]. Invalid value"
        ),
        .init(
            body: #"{"task-id": "01234567-89ab-4def-8123-456789abcdef", "limit": 5}"#,
            status: 400,
            code: "generic_err_invalid_parameter_name",
            message: "Unrecognized parameter [limit]"
        ),
    ]

    @Test("show-task errors", arguments: showTaskCases)
    func showTaskErrors(_ testCase: ShowTaskCase) throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let reply = try client.post(
            "/web_api/show-task",
            body: testCase.body,
            sid: try harness.login(on: client)
        )
        #expect(reply.status == testCase.status)
        #expect(reply.code == testCase.code)
        #expect(reply.message == testCase.message)
    }
}
