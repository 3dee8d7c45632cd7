import ChkflowCore
import Foundation
import Playbook
import Testing

@Suite struct PlanTests {
    @Test func examplePlaybookHasTheExpectedGraph() throws {
        let plan = try PlaybookLoader.plan(contentsOf: examplePath("smc-export.yaml"))
        let edges = plan.nodes.map { "\($0.step.id)<-\($0.dependencies.joined(separator: ","))" }
        #expect(
            edges == [
                "login<-", "verify<-login", "verified<-login,verify", "export<-login,verified",
                "exported<-export,login", "logout<-export,exported,login,verified,verify",
            ]
        )
        #expect(
            plan.nodes.map(\.commandClass.rawValue) == [
                "idempotent", "idempotent", "read-only", "once-only", "read-only", "idempotent",
            ]
        )
        #expect(plan.playbook.sha256.count == 64)
    }

    @Test func theExampleExportIsForTheTargetVersionWithLogs() throws {
        let plan = try PlaybookLoader.plan(contentsOf: examplePath("smc-export.yaml"))
        let step = try #require(plan.nodes.first { $0.step.id == "export" }?.step)
        guard case .export(let request) = step.kind else {
            Issue.record("the step 'export' is a \(step.kindName) step")
            return
        }
        #expect(
            request.fields.map(\.name) == ["file-path", "version", "include-logs", "days-of-logs"]
        )
        #expect(request.fields.map(\.value.literal) == [nil, nil, .bool(true), nil])
    }

    @Test func everyProblemOfAFileIsReportedAtOnceSortedByPosition() throws {
        let found = try problems(inFixture: "invalid/many-problems.yaml")
        // Problems found while reading the steps and problems found in the graph, together.
        #expect(found.count == 6)
        let positions = found.map { line in
            line.split(separator: ":").prefix(2).map { Int($0)! }
        }
        #expect(positions == positions.sorted { $0.lexicographicallyPrecedes($1) })
        #expect(found.contains { $0.hasPrefix("16:13: step 'exported' reads step 'exprt'") })
        #expect(found.contains { $0.hasPrefix("12:14: 'timeout' must be a duration") })
    }

    @Test func validFixturesAndExamplesHaveNoProblem() throws {
        let names = try fixtureNames(in: "valid")
        #expect(names.count >= 5)
        for name in names {
            #expect(try problems(inFixture: "valid/\(name).yaml") == [], "\(name)")
        }
        _ = try PlaybookLoader.plan(contentsOf: examplePath("smc-export.yaml"))
    }

    struct AttemptTimeoutCase: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var yaml: String
        /// The step's own `attempt-timeout` and that of `defaults`, in seconds.
        var own: Double?
        var inherited: Double?
    }

    static let attemptTimeoutCases: [AttemptTimeoutCase] = [
        AttemptTimeoutCase(
            testDescription: "on the step, equal to its timeout",
            yaml: "  - id: x\n    timeout: 90s\n    attempt-timeout: 1m30s\n"
                + "    call: {command: show-domains}\n",
            own: 90
        ),
        AttemptTimeoutCase(
            testDescription: "in defaults, longer than a step's own timeout",
            yaml: "  - id: x\n    timeout: 10s\n    call: {command: show-domains}\n"
                + "defaults: {timeout: 1h, attempt-timeout: 2m}\n",
            inherited: 120
        ),
        AttemptTimeoutCase(
            testDescription: "on the step, within the timeout of defaults",
            yaml: "  - id: x\n    attempt-timeout: 500ms\n    logout: {}\n"
                + "defaults: {timeout: 1s}\n",
            own: 0.5
        ),
    ]

    @Test(arguments: attemptTimeoutCases)
    func anAttemptTimeoutIsReadWhereItIsWritten(_ test: AttemptTimeoutCase) throws {
        let text =
            "chkflow: 1\nname: t\nservers:\n  primary:\n    url: https://mgmt.example.net\n"
            + "steps:\n  - id: login\n    login: {user: admin, password: x}\n" + test.yaml
        #expect(problems(in: text) == [])
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "p.yaml")
        #expect(plan.playbook.step(withID: "x")?.attemptTimeout == test.own)
        #expect(plan.playbook.defaults.attemptTimeout == test.inherited)
    }
}
