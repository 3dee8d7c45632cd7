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
}
