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

    /// Pacing counts what left in the last second, so a request that left late and the next
    /// one on time never put rate + 1 requests in one sliding second, which a server counting
    /// that way (the simulator does) refuses with err_too_many_requests.
    @Test func requestsStayUnderTheServersLimit() async throws {
        var harness = Harness()
        harness.scenario.rateLimits = RateLimits(requestsPerSecond: 4)
        harness.maxParallel = 12
        let rehearsal = try await harness.run(Self.playbook)
        #expect(rehearsal.count("show-api-versions") >= 12)
        #expect(rehearsal.exitCode == 0)
        #expect(rehearsal.requests.filter { $0.code == "err_too_many_requests" }.isEmpty)
    }
}
