import ChkflowCore
import Foundation
import Playbook
import Simulator
import Testing

@testable import Engine

@Suite struct EngineTests {
    @Test func forEachExportsEveryDomainThreeAtATimeAndKeepsGoingPastAFailure() async throws {
        var harness = EngineHarness()
        harness.scenario.serverType = .multiDomain
        harness.scenario.domains = (1...20).map { "Domain-\($0 < 10 ? "0" : "")\($0)" }
        harness.scenario.export = TaskBehaviour(duration: 0.2)
        harness.scenario.exportsAtOnce = 3
        harness.scenario.faults = [
            FaultRule(
                command: "export-management",
                call: 5,
                action: .error(
                    status: 400,
                    code: "err_validation_failed",
                    message: "Domain is locked"
                )
            ),
            FaultRule(
                command: "export-management",
                call: 9,
                action: .error(
                    status: 429,
                    code: "err_too_many_requests",
                    message: "Too many requests in a given amount of time"
                )
            ),
        ]
        let text =
            playbookHead + """
                  - id: domains
                    call:
                      command: show-domains
                      body:
                        limit: 50
                  - id: each
                    for-each: ${{ steps.domains.response.objects[*].name }}
                    as: domain
                    max-parallel: 3
                    steps:
                      - id: export
                        export:
                          file-path: /var/log/${{ domain }}.tgz
                          domain-name: ${{ domain }}
                          is-domain-backup: true
                        on-error:
                          - code: err_too_many_requests
                            retry:
                              attempts: 3
                              backoff: {initial: 100ms, jitter: none}
                      - id: exported
                        wait:
                          task: ${{ steps.export.task-id }}
                  - id: logout
                    if: ${{ always() }}
                    logout: {}
                """
        let (result, requests) = try await harness.run(text)
        #expect(
            result.statuses == [
                "login:succeeded", "domains:succeeded", "each:failed", "logout:succeeded",
            ]
        )
        let each = try #require(result.step("each"))
        #expect(each.items.count == 20)
        #expect(each.items.filter { $0.status == .succeeded }.count == 19)
        let failed = each.items.filter { $0.status == .failed }
        #expect(failed.count == 1)
        #expect(failed.first?.steps.map(\.status) == [.failed, .skipped])
        #expect(failed.first?.steps.first?.error?.code == "err_validation_failed")
        #expect(each.reason == "1 of 20 items failed: \(failed.first?.item.interpolated ?? "")")
        let retried = each.items.flatMap(\.steps).filter { $0.attempts.count == 2 }
        #expect(retried.count == 1)
        #expect(retried.first?.attempts.first?.error?.code == "err_too_many_requests")
        #expect(retried.first?.status == .succeeded)
        // 20 exports, one refused by validation and one sent twice; never more than three at
        // once, or the simulator would have refused one.
        #expect(requests.count(of: "export-management") == 21)
        #expect(
            requests.filter { $0.command == "export-management" && $0.status == 200 }.count == 19
        )
        #expect(requests.count(of: "login") == 1)
        #expect(requests.count(of: "logout") == 1)
        #expect(result.outcome == .failed)
        #expect(result.apiCalls == requests.count)
    }

    @Test func aStepAfterAFailureIsSkippedUnlessItsConditionAsks() async throws {
        let text =
            playbookHead + exportAndWaitSteps + """
                  - id: report-failure
                    needs: [exported]
                    if: ${{ failure() }}
                    assert:
                      that: false
                      message: export went wrong
                  - id: only-on-success
                    needs: [exported]
                    assert:
                      that: true
                """
        var harness = EngineHarness()
        harness.scenario.faults = [
            FaultRule(
                command: "export-management",
                action: .error(status: 500, code: "generic_err_invalid_parameter", message: "bad")
            )
        ]
        let (result, requests) = try await harness.run(text)
        #expect(
            result.statuses == [
                "login:succeeded", "export:failed", "exported:skipped", "report-failure:failed",
                "only-on-success:skipped",
            ]
        )
        #expect(result.step("exported")?.reason == "it depends on 'export' ended failed")
        #expect(result.step("report-failure")?.reason == "export went wrong")
        #expect(result.step("only-on-success")?.reason == "it depends on 'exported' was skipped")
        #expect(result.cleanupLogouts == ["login"])
        #expect(requests.count(of: "logout") == 1)
        #expect(requests.count(of: "export-management") == 1)
    }

    @Test func onErrorContinueRecordsTheStepAsIgnored() async throws {
        let text =
            playbookHead + """
                  - id: publish
                    call:
                      command: publish
                    on-error:
                      - code: err_publish_failed
                        then: continue
                  - id: after
                    needs: [publish]
                    assert:
                      that: ${{ steps.publish.status == 'ignored' }}
                """
        var harness = EngineHarness()
        harness.scenario.faults = [
            FaultRule(
                command: "publish",
                action: .error(
                    status: 409,
                    code: "err_publish_failed",
                    message: "nothing to publish"
                )
            )
        ]
        let (result, _) = try await harness.run(text)
        #expect(result.statuses == ["login:succeeded", "publish:ignored", "after:succeeded"])
        #expect(result.outcome == .succeeded)
    }

    @Test func aReloginRuleLogsInAgainAndResendsOnce() async throws {
        let text =
            playbookHead + """
                  - id: versions
                    call:
                      command: show-api-versions
                    on-error:
                      - code: generic_err_no_permissions
                        then: relogin
                """
        var harness = EngineHarness()
        harness.scenario.faults = [
            FaultRule(
                command: "show-api-versions",
                call: 1,
                action: .error(status: 403, code: "generic_err_no_permissions", message: "denied")
            )
        ]
        let (result, requests) = try await harness.run(text)
        #expect(result.statuses == ["login:succeeded", "versions:succeeded"])
        #expect(result.step("versions")?.attempts.count == 2)
        #expect(
            requests.map(\.command).prefix(4) == [
                "login", "show-api-versions", "login", "show-api-versions",
            ]
        )
    }

    @Test func transientCodesAreRetriedByDefaultAndPermanentOnesAreNot() async throws {
        let text =
            playbookHead + """
                  - id: versions
                    call:
                      command: show-api-versions
                """
        var harness = EngineHarness()
        harness.scenario.faults = [
            FaultRule(
                command: "show-api-versions",
                call: 1,
                action: .error(
                    status: 500,
                    code: "generic_server_initializing",
                    message: "starting"
                )
            )
        ]
        let (result, requests) = try await harness.run(text)
        #expect(result.statuses == ["login:succeeded", "versions:succeeded"])
        #expect(result.step("versions")?.attempts.count == 2)
        #expect(requests.count(of: "show-api-versions") == 2)
    }

    @Test func anExportWhoseReplyWasLostIsAdoptedNotSentAgain() async throws {
        let text =
            playbookHead + """
                  - id: export
                    export:
                      file-path: /var/log/x.tgz
                    retry:
                      on: [transport]
                      attempts: 5
                  - id: exported
                    wait:
                      task: ${{ steps.export.task-id }}
                  - id: logout
                    if: ${{ always() }}
                    logout: {}
                """
        var harness = EngineHarness()
        harness.scenario.export = TaskBehaviour(duration: 0.3)
        harness.scenario.faults = [FaultRule(command: "export-management", action: .dropAfterRead)]
        let (result, requests) = try await harness.run(text)
        #expect(
            result.statuses == [
                "login:succeeded", "export:succeeded", "exported:succeeded", "logout:succeeded",
            ]
        )
        #expect(requests.count(of: "export-management") == 1)
        #expect(requests.count(of: "show-tasks") == 1)
        let export = try #require(result.step("export"))
        #expect(
            export.reason
                == "the reply to export-management was lost; adopted task \(export.taskID ?? ""), found with show-tasks"
        )
        #expect(result.step("exported")?.taskID == export.taskID)
    }

    @Test func aLostExportWithNoTaskToAdoptStopsWithoutSendingAgain() async throws {
        let text =
            playbookHead + """
                  - id: export
                    export:
                      file-path: /var/log/x.tgz
                    retry:
                      on: [transport]
                      attempts: 5
                """
        var harness = EngineHarness()
        harness.scenario.faults = [FaultRule(command: "export-management", action: .dropBeforeRead)]
        let (result, requests) = try await harness.run(text)
        #expect(result.statuses == ["login:succeeded", "export:failed"])
        #expect(requests.count(of: "export-management") == 1)
        let reason = try #require(result.step("export")?.reason)
        #expect(reason.hasPrefix("the reply to export-management was lost ("))
        #expect(
            reason.hasSuffix(
                "show-tasks found no task in progress that could be it, so the request was not sent again; check the server before running the step again"
            )
        )
    }

    @Test func theWindowRefusesAnExportThatWouldEndTooLate() async throws {
        let closes = RFC3339.format(Date().timeIntervalSince1970 + 1800)
        let text = """
            chkflow: 1
            name: window-test
            window:
              closes: \(closes)
              reserve: 10m
            servers:
              lab:
                url: https://mgmt.example.net
            steps:
              - id: login
                login:
                  user: admin
                  password: chkflow
                  domain: System Data
              - id: export
                expect: 45m
                export:
                  file-path: /var/log/x.tgz
              - id: logout
                if: ${{ always() }}
                logout: {}
            """
        let (result, requests) = try await EngineHarness().run(text)
        #expect(result.statuses == ["login:succeeded", "export:refused", "logout:succeeded"])
        let reason = try #require(result.step("export")?.reason)
        #expect(reason.hasPrefix("refused: it is expected to take 45m00s and would end at "))
        #expect(reason.hasSuffix("(the window closes at \(closes) and keeps 10m00s in reserve)"))
        #expect(requests.count(of: "export-management") == 0)
        #expect(result.outcome == .failed)
    }

    @Test func exportsAtOnceKeepsTheServerUnderItsLimit() async throws {
        var harness = EngineHarness()
        harness.maxParallel = 8
        harness.scenario.serverType = .multiDomain
        harness.scenario.domains = (1...8).map { "D\($0)" }
        harness.scenario.export = TaskBehaviour(duration: 0.3)
        harness.scenario.exportsAtOnce = 2
        let text = """
            chkflow: 1
            name: slots
            servers:
              lab:
                url: https://mgmt.example.net
                limits:
                  exports-at-once: 2
            steps:
              - id: login
                login:
                  user: admin
                  password: chkflow
                  domain: System Data
              - id: each
                for-each: [D1, D2, D3, D4, D5, D6, D7, D8]
                max-parallel: 8
                steps:
                  - id: export
                    export:
                      file-path: /var/log/${{ item }}.tgz
                      domain-name: ${{ item }}
                  - id: exported
                    wait:
                      task: ${{ steps.export.task-id }}
            """
        let (result, requests) = try await harness.run(text)
        #expect(result.statuses == ["login:succeeded", "each:succeeded"])
        #expect(requests.count(of: "export-management") == 8)
        #expect(requests.filter { $0.command == "export-management" && $0.status != 200 }.isEmpty)
    }

    @Test func aVerificationWhoseReplyWasLostIsSimplySentAgain() async throws {
        let text =
            playbookHead + """
                  - id: verify
                    verify:
                      version: R82
                """
        var harness = EngineHarness()
        harness.scenario.faults = [
            FaultRule(command: "export-management", call: 1, action: .dropAfterRead)
        ]
        let (result, requests) = try await harness.run(text)
        #expect(result.statuses == ["login:succeeded", "verify:succeeded"])
        #expect(result.step("verify")?.attempts.count == 2)
        #expect(requests.count(of: "export-management") == 2)
        #expect(requests.count(of: "show-tasks") == 0)
    }

    @Test func aTaskThatEndsFailedFailsItsWait() async throws {
        let text =
            playbookHead + """
                  - id: verify
                    verify:
                      version: R82
                  - id: verified
                    wait:
                      task: ${{ steps.verify.task-id }}
                """
        var harness = EngineHarness()
        harness.scenario.verification = TaskBehaviour(
            duration: 0.1,
            finalStatus: .failed,
            blockingErrors: ["Unsupported blade configuration"]
        )
        let (result, _) = try await harness.run(text)
        #expect(
            result.statuses == ["login:succeeded", "verify:succeeded", "verified:failed"],
            "\(result.steps.map { $0.reason ?? "" })"
        )
        let verified = try #require(result.step("verified"))
        #expect(verified.task?.status == .failed)
        #expect(verified.reason?.hasPrefix("task \(verified.taskID ?? "") ended 'failed'") == true)
    }
}

@Suite struct SecretTests {
    @Test func valuesBuiltFromSecretsNeverReachAReason() async throws {
        let text = """
            chkflow: 1
            name: secrets
            servers:
              lab:
                url: https://mgmt.example.net
            secrets:
              token:
                env: CHKFLOW_TEST_TOKEN
                simulator: s3cr3t-value
            steps:
              - id: login
                login:
                  user: admin
                  password: chkflow
                  domain: System Data
              - id: export
                export:
                  file-path: /var/log/x.tgz
                  days-of-logs: ${{ secrets.token }}
              - id: check
                if: ${{ always() }}
                assert:
                  that: false
                  message: token is ${{ secrets.token }}
            """
        let (result, _) = try await EngineHarness().run(text)
        #expect(
            result.step("export")?.reason
                == "not sent: 'days-of-logs' is not valid (its value is built from a secret and not shown)"
        )
        #expect(
            result.step("check")?.reason
                == "the assertion is false (its message is built from a secret and not shown)"
        )
        #expect(!result.steps.contains { ($0.reason ?? "").contains("s3cr3t") })
    }

    @Test func sessionIDsInRepliesAreDropped() {
        let reply: JSON = ["sid": "abc", "uid": "u", "nested": [["sid": "def", "x": 1]]]
        #expect(
            StepExecutor.withoutSessionIDs(reply) == ["uid": "u", "nested": [["x": 1]]]
        )
    }

    @Test(
        arguments: [
            ("playbooks/smc-export.yaml", "playbooks/smc-export.yaml"),
            ("my playbook.yaml", "'my playbook.yaml'"),
            ("it's.yaml", "'it'\\''s.yaml'"),
            ("", "''"),
        ]
    )
    func aPlaybookPathIsQuotedForTheShellOnlyWhenItNeedsIt(path: String, word: String) {
        #expect(StepExecutor.shellWord(path) == word)
    }
}
