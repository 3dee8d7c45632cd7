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

    /// `limits` are read but no request is ever paced by them.
    ///
    /// Sources/Engine/RunSetup.swift:31-33: the default connection factory makes
    /// `Session(endpoint:userAgent:)` without a `RateBudget`, and nothing in Sources/Engine reads
    /// `Server.requestsPerSecond` or `Server.loginsPerMinute` (Playbook.swift:55-56), so a run
    /// sends as fast as it can and meets the server's own limit (err_too_many_requests) instead.
    /// Fix: make one RateBudget per server (and per admin and domain for logins) from the
    /// limits and pass it to each Session.
    static let limitsIgnored =
        "RunSetup.swift:31: servers.*.limits are never applied to the requests"

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
