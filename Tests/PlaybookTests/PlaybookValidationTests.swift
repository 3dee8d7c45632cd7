import ChkflowCore
import Foundation
import Playbook
import Testing

/// A minimal valid playbook, with `extra` lines appended to its steps.
private func playbook(steps: String, head: String = "") -> String {
    """
    chkflow: 1
    name: t
    servers:
      primary:
        url: https://mgmt.example.net
    \(head)steps:
      - id: login
        login:
          user: admin
          password: x
    \(steps)
    """
}

private func diagnostics(_ text: String) -> [String] {
    do {
        _ = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "p.yaml")
        return []
    } catch {
        return error.diagnostics.map(\.description)
    }
}

@Suite struct InvalidPlaybookTests {
    static let cases: [(String, String, [String])] = [
        (
            "unknown top-level key with a suggestion",
            "chkflow: 1\nname: t\nstep:\n  - id: a\n    assert: {that: true}\n",
            [
                "p.yaml:1:1: error: the playbook needs 'steps'",
                "p.yaml:3:1: error: unknown key 'step' in the playbook; did you mean 'steps'?",
            ]
        ),
        (
            "missing version",
            "name: t\nsteps:\n  - id: a\n    assert: {that: true}\n",
            [
                "p.yaml:1:1: error: the playbook needs 'chkflow: 1' (the version of the playbook language)"
            ]
        ),
        (
            "wrong version",
            "chkflow: 2\nname: t\nsteps:\n  - id: a\n    assert: {that: true}\n",
            ["p.yaml:1:10: error: this chkflow reads playbook language version 1, not '2'"]
        ),
        (
            "export without file-path",
            playbook(steps: "  - id: e\n    export:\n      version: R82\n"),
            [
                "p.yaml:13:7: error: an export needs 'file-path' (only a pre-export verification may leave it out)"
            ]
        ),
        (
            "bad target version",
            playbook(steps: "  - id: v\n    verify:\n      version: 82\n"),
            [
                "p.yaml:13:16: error: 'version' must be a target version such as R81.20 or R82, not 82"
            ]
        ),
        (
            "days-of-logs not positive",
            playbook(
                steps: "  - id: e\n    export:\n      file-path: /x.tgz\n      days-of-logs: 0\n"
            ),
            ["p.yaml:14:21: error: 'days-of-logs' must be a positive whole number of days, not 0"]
        ),
        (
            "domain backup without domain-name",
            playbook(
                steps:
                    "  - id: e\n    export:\n      file-path: /x.tgz\n      is-domain-backup: true\n"
            ),
            ["p.yaml:13:7: error: 'is-domain-backup' needs 'domain-name' (the domain to back up)"]
        ),
        (
            "domain backup and smc-to-mds together",
            playbook(
                steps:
                    "  - id: e\n    export:\n      file-path: /x.tgz\n      domain-name: d\n      is-domain-backup: true\n      is-smc-to-mds: true\n"
            ),
            ["p.yaml:13:7: error: 'is-domain-backup' and 'is-smc-to-mds' cannot both be true"]
        ),
        (
            "unknown export field with a suggestion",
            playbook(
                steps: "  - id: e\n    export:\n      file-path: /x.tgz\n      include-log: true\n"
            ),
            [
                "p.yaml:14:7: error: export-management has no field 'include-log' (in the export of step 'e'); did you mean 'include-logs'?"
            ]
        ),
        (
            "on-error code not in the catalogue",
            playbook(
                steps:
                    "  - id: w\n    wait:\n      task: abc\n    on-error:\n      - code: err_to_many_requests\n        then: fail\n"
            ),
            [
                "p.yaml:15:15: error: 'err_to_many_requests' is not an error code Check Point lists; did you mean 'err_too_many_requests'? (see 'chkflow codes')"
            ]
        ),
        (
            "prefix pattern that matches nothing",
            playbook(
                steps:
                    "  - id: w\n    wait:\n      task: abc\n    on-error:\n      - code: err_nothing_*\n        then: fail\n"
            ),
            [
                "p.yaml:15:15: error: the pattern 'err_nothing_*' matches no error code Check Point lists (see 'chkflow codes')"
            ]
        ),
        (
            "reference to an unknown step",
            playbook(steps: "  - id: w\n    wait:\n      task: ${{ steps.exprt.task-id }}\n"),
            ["p.yaml:11:5: error: step 'w' reads step 'exprt', which does not exist"]
        ),
        (
            "reference to an output the step does not have",
            playbook(steps: "  - id: w\n    wait:\n      task: ${{ steps.login.task-id }}\n"),
            [
                "p.yaml:11:5: error: step 'w' reads 'steps.login.task-id', but a login step has no output 'task-id' (it has status, outcome, api-server-version, url, session-timeout, response)"
            ]
        ),
        (
            "unknown input",
            playbook(steps: "  - id: v\n    verify:\n      version: ${{ inputs.target }}\n"),
            ["p.yaml:11:5: error: step 'v' reads input 'target', which 'inputs' does not declare"]
        ),
        (
            "expression syntax error",
            playbook(steps: "  - id: w\n    wait:\n      task: ${{ steps.login. }}\n"),
            ["p.yaml:13:29: error: invalid expression: expected a name after '.'"]
        ),
        (
            "a cycle",
            playbook(
                steps:
                    "  - id: a\n    needs: [b]\n    assert: {that: true}\n  - id: b\n    needs: [a]\n    assert: {that: true}\n"
            ),
            ["p.yaml:11:5: error: the steps wait for each other in a cycle: a -> b -> a"]
        ),
        (
            "duplicate step id",
            playbook(steps: "  - id: login\n    logout: {}\n"),
            ["p.yaml:11:5: error: duplicate step id 'login' (first at 7:5)"]
        ),
        (
            "step with two kinds",
            playbook(steps: "  - id: x\n    logout: {}\n    assert: {that: true}\n"),
            [
                "p.yaml:11:5: error: step 'x' has more than one of: login, logout, verify, export, wait, call, assert, for-each"
            ]
        ),
        (
            "login with neither password nor api-key",
            "chkflow: 1\nname: t\nservers:\n  s:\n    url: https://h\nsteps:\n  - id: l\n    login:\n      user: admin\n",
            ["p.yaml:9:7: error: the login of step 'l' needs 'user' and 'password', or 'api-key'"]
        ),
        (
            "bad duration",
            playbook(steps: "  - id: w\n    timeout: soon\n    wait:\n      task: abc\n"),
            ["p.yaml:12:14: error: 'timeout' must be a duration such as 90s, 20m or 3h, not 'soon'"]
        ),
        (
            "unknown server",
            "chkflow: 1\nname: t\nservers:\n  primary:\n    url: https://h\nsteps:\n  - id: l\n    login:\n      server: primry\n      api-key: k\n",
            [
                "p.yaml:7:5: error: step 'l' logs in to server 'primry', which 'servers' does not define; did you mean 'primary'?"
            ]
        ),
        (
            "call used for export-management",
            playbook(steps: "  - id: c\n    call:\n      command: export-management\n"),
            [
                "p.yaml:13:16: error: use a 'export' or 'verify' step for export-management, not 'call'"
            ]
        ),
        (
            "window with a bad time",
            playbook(steps: "", head: "window:\n  closes: tomorrow\n"),
            [
                "p.yaml:7:11: error: 'closes' must be an RFC 3339 time such as 2026-12-05T04:00:00Z, not 'tomorrow'"
            ]
        ),
        (
            "unknown function",
            playbook(steps: "  - id: a\n    assert:\n      that: ${{ sucess() }}\n"),
            ["p.yaml:11:5: error: step 'a' calls unknown function 'sucess()'"]
        ),
    ]

    @Test(arguments: cases)
    func reportsExactMessages(name: String, text: String, expected: [String]) {
        #expect(diagnostics(text) == expected, "\(name)")
    }
}

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

    @Test func allErrorsAreReportedSortedByPosition() {
        let text = playbook(
            steps:
                "  - id: w\n    timeout: soon\n    wait:\n      task: abc\n  - id: e\n    export: {}\n"
        )
        let lines = diagnostics(text)
        #expect(lines.count == 2)
        #expect(
            lines
                == lines.sorted {
                    $0.split(separator: ":")[1].count < $1.split(separator: ":")[1].count || $0 < $1
                }
        )
    }
}

func examplePath(_ name: String) -> String {
    let file = #filePath
    let root = String(file[..<file.range(of: "/Tests/")!.lowerBound])
    return root + "/playbooks/" + name
}
