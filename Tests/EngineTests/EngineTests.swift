import ChkflowCore
import Engine
import Playbook
import Simulator
import Testing

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
            playbookHead + """
                  - id: export
                    export:
                      file-path: /var/log/x.tgz
                  - id: exported
                    wait:
                      task: ${{ steps.export.task-id }}
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

    @Test func anExportWhoseReplyWasLostIsNeverSentAgain() async throws {
        let text =
            playbookHead + """
                  - id: export
                    export:
                      file-path: /var/log/x.tgz
                    retry:
                      on: [transport]
                      attempts: 5
                  - id: logout
                    if: ${{ always() }}
                    logout: {}
                """
        var harness = EngineHarness()
        harness.scenario.faults = [FaultRule(command: "export-management", action: .dropAfterRead)]
        let (result, requests) = try await harness.run(text)
        #expect(result.statuses == ["login:succeeded", "export:failed", "logout:succeeded"])
        #expect(requests.filter { $0.command == "export-management" }.count == 1)
        let reason = try #require(result.step("export")?.reason)
        #expect(reason.contains("not sent again: the server may have started the task"))
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
        #expect(result.statuses == ["login:succeeded", "verify:succeeded", "verified:failed"])
        let verified = try #require(result.step("verified"))
        #expect(verified.task?.status == .failed)
        #expect(verified.reason?.hasPrefix("task \(verified.taskID ?? "") ended 'failed'") == true)
    }
}
