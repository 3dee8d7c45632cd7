import Synchronization
import Testing

@testable import ManagementAPI

/// Virtual time: `sleep` moves the clock forward to the deadline at once and records the
/// pause it stands for.
final class ManualClock: APIClock {
    private let state = Mutex((now: 0.0, sleeps: [Double]()))

    var sleeps: [Double] { state.withLock { $0.sleeps } }

    func now() -> Double { state.withLock { $0.now } }

    func advance(_ seconds: Double) { state.withLock { $0.now += seconds } }

    func sleep(until deadline: Double) async throws {
        try Task.checkCancellation()
        state.withLock { state in
            guard deadline > state.now else { return }
            state.sleeps.append(deadline - state.now)
            state.now = deadline
        }
    }
}

/// A clock moved by hand whose first sleep ends late, as a loaded machine wakes a task late.
final class LateWakingClock: APIClock {
    private let state = Mutex((now: 0.0, late: 0.125))

    func now() -> Double { state.withLock { $0.now } }

    func sleep(until deadline: Double) async throws {
        try Task.checkCancellation()
        state.withLock { state in
            guard deadline > state.now else { return }
            state.now = deadline + state.late
            state.late = 0
        }
    }
}

/// Real time sped up `scale` times, to agree with a simulator running at the same time scale.
struct ScaledClock: APIClock {
    var scale: Double
    private let base = SystemClock()

    init(scale: Double) { self.scale = scale }

    func now() -> Double { base.now() * scale }

    func sleep(until deadline: Double) async throws {
        try await base.sleep(until: deadline / scale)
    }
}

@Suite("Rate budgets")
struct RateBudgetTests {
    @Test func loginsNeverExceedTheWindow() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(loginsPerMinute: 3), clock: clock)
        var moments: [Double] = []
        for _ in 0..<7 {
            try await budget.acquireLogin()
            moments.append(clock.now())
        }
        #expect(moments == [0, 0, 0, 61, 61, 61, 122])
    }

    @Test func aLoginCountsFromItsReplyWhenThatIsLater() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(loginsPerMinute: 3), clock: clock)
        var reservations: [LoginReservation] = []
        for _ in 0..<3 { reservations.append(try await budget.acquireLogin()) }
        clock.advance(5)
        for reservation in reservations { await budget.loginFinished(reservation) }
        try await budget.acquireLogin()
        #expect(clock.now() == 66)
    }

    @Test func loginReservationsAreSharedByParallelSessions() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(loginsPerMinute: 3), clock: clock)
        let moments = try await withThrowingTaskGroup(of: Double.self) { group in
            for _ in 0..<5 {
                group.addTask {
                    try await budget.acquireLogin()
                    return clock.now()
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(moments.sorted() == [0, 0, 0, 61, 61])
    }

    @Test func aRefusedLoginHoldsBackEveryLoginForAWindow() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(loginsPerMinute: 3), clock: clock)
        try await budget.acquireLogin()
        clock.advance(5)
        await budget.recordTooManyRequests(duringLogin: true)
        try await budget.acquireLogin()
        #expect(clock.now() == 66)
        #expect(await budget.currentRequestsPerSecond == nil)
    }

    @Test func aRefusalHoldsBackEveryRequestForASecond() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(requestsPerSecond: 100), clock: clock)
        try await budget.acquireRequest()
        await budget.recordTooManyRequests(duringLogin: false)
        try await budget.acquireRequest()
        #expect(clock.now() == 1)
        try await budget.acquireRequest()
        #expect(clock.now() == 1.02)
    }

    @Test func requestsAreSpacedToTheRate() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(requestsPerSecond: 4), clock: clock)
        var moments: [Double] = []
        for _ in 0..<4 {
            try await budget.acquireRequest()
            moments.append(clock.now())
        }
        #expect(moments == [0, 0.25, 0.5, 0.75])
    }

    @Test func aRequestThatLeftLateStillCountsInTheLastSecond() async throws {
        let clock = LateWakingClock()
        let budget = RateBudget(.init(requestsPerSecond: 4, windowMargin: 0.0625), clock: clock)
        var moments: [Double] = []
        for _ in 0..<8 {
            try await budget.acquireRequest()
            moments.append(clock.now())
        }
        // The second request left 0.125 s late; from the fifth on, each waits until the one
        // four before it is more than a second (and the margin) old.
        #expect(moments == [0, 0.375, 0.5, 0.75, 1.0625, 1.4375, 1.5625, 1.8125])
        for moment in moments {
            #expect(moments.filter { $0 > moment - 1 && $0 <= moment }.count <= 4, "\(moment)")
        }
    }

    @Test func aRefusalHalvesTheRateWhichThenRecoversByHalves() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(requestsPerSecond: 8), clock: clock)
        await budget.recordTooManyRequests(duringLogin: false)
        var rates: [Double?] = [await budget.currentRequestsPerSecond]
        for _ in 0..<3 {
            clock.advance(10)
            rates.append(await budget.currentRequestsPerSecond)
        }
        #expect(rates == [4, 6, 8, 8])
    }

    @Test func anUnpacedBudgetStartsPacingAtHalfWhatItSaw() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(unpacedAbove: 20), clock: clock)
        for _ in 0..<12 { try await budget.acquireRequest() }
        #expect(clock.sleeps.isEmpty)
        await budget.recordTooManyRequests(duringLogin: false)
        #expect(await budget.currentRequestsPerSecond == 6)
        clock.advance(0.5)
        await budget.recordTooManyRequests(duringLogin: false)
        #expect(await budget.currentRequestsPerSecond == 6)
        clock.advance(1.5)
        await budget.recordTooManyRequests(duringLogin: false)
        #expect(await budget.currentRequestsPerSecond == 3)
        var rates: [Double?] = []
        for _ in 0..<4 {
            clock.advance(10)
            rates.append(await budget.currentRequestsPerSecond)
        }
        #expect(rates == [4.5, 6.75, 10.125, 15.1875])
        clock.advance(10)
        #expect(await budget.currentRequestsPerSecond == nil)
    }

    @Test func theRateNeverFallsBelowTheFloor() async throws {
        let clock = ManualClock()
        let budget = RateBudget(.init(requestsPerSecond: 1), clock: clock)
        for _ in 0..<5 {
            await budget.recordTooManyRequests(duringLogin: false)
            clock.advance(1.5)
        }
        #expect(await budget.currentRequestsPerSecond == 0.5)
    }

    @Test func budgetsAreSharedPerServerAdminAndDomain() {
        let budgets = RateBudgets()
        let first = budgets.budget(server: "https://mgmt", admin: "admin", domain: nil)
        #expect(first === budgets.budget(server: "HTTPS://MGMT", admin: "admin", domain: nil))
        #expect(first !== budgets.budget(server: "https://mgmt", admin: "admin", domain: "Global"))
        #expect(first !== budgets.budget(server: "https://mgmt", admin: "other", domain: nil))
    }
}

@Suite("Task polling")
struct PollPolicyTests {
    typealias Sample = ProgressSample

    @Test(
        arguments: [
            (0, nil, nil, 0.25),
            (1, Sample(time: 0, progress: 0), Sample(time: 0.3, progress: 0), 0.375),
            (2, nil, nil, 0.5625),
            (10, nil, nil, 5.0),
            // 10 points in 10 s, 80 to go: about 80 s left, so the cap.
            (3, Sample(time: 0, progress: 10), Sample(time: 10, progress: 20), 5.0),
            // 80 points in 16 s, 10 to go: about 2 s left, a quarter of that.
            (3, Sample(time: 2, progress: 10), Sample(time: 18, progress: 90), 0.5),
            // almost done: the shortest pause.
            (3, Sample(time: 0, progress: 50), Sample(time: 4, progress: 99), 0.25),
            // measured over 200 s: never more often than every 5 s / 40... capped by the maximum.
            (3, Sample(time: 0, progress: 1), Sample(time: 200, progress: 99), 5.0),
            // measured over 100 s, 1 point left: no more often than every 100 / 40 s.
            (3, Sample(time: 0, progress: 50), Sample(time: 100, progress: 99), 2.5),
            // stuck: progress has not moved during the wait, so the growing pause.
            (4, Sample(time: 0, progress: 99), Sample(time: 30, progress: 99), 1.265625),
            // resumed late: the task was at 50% before the wait began; only the wait's own
            // measurements count (5 points in 10 s, 45 to go: about 90 s left).
            (3, Sample(time: 0, progress: 50), Sample(time: 10, progress: 55), 5.0),
        ] as [(Int, Sample?, Sample?, Double)]
    )
    func intervals(poll: Int, first: Sample?, latest: Sample?, expected: Double) {
        let policy = PollPolicy()
        #expect(policy.interval(afterPoll: poll, first: first, latest: latest) == expected)
    }
}

@Suite("Task end estimates")
struct ProgressHistoryTests {
    typealias Sample = ProgressSample

    @Test(
        arguments: [
            // Started at 0, 6% at 0.25 s: at least 0.25 × 100/7, at most 0.25 × 100/6.
            (0.0...0.0, [Sample(time: 0.25, progress: 6)], 25.0 / 7...25.0 / 6),
            // Started elsewhere, 10% then 20% a second later: a rate of 9 to 11% a second.
            (
                nil, [Sample(time: 1, progress: 10), Sample(time: 2, progress: 20)],
                1 + 0.9 / 0.11...1 + 0.89 / 0.09
            ),
            // Half done a second after a start known to 10 ms: from a start at 0.01 and 51%,
            // to a start at 0 and 50%.
            (0.0...0.01, [Sample(time: 1, progress: 50)], 0.01 + 0.99 / 0.51...2.0),
        ] as [(ClosedRange<Double>?, [Sample], ClosedRange<Double>)]
    )
    func rangesOfTheEnd(
        origin: ClosedRange<Double>?,
        samples: [Sample],
        expected: ClosedRange<Double>
    ) throws {
        var history = ProgressHistory(origin: origin)
        for sample in samples { history.record(sample) }
        let range = try #require(history.endRange())
        #expect(abs(range.lowerBound - expected.lowerBound) < 1e-6, "\(range)")
        #expect(abs(range.upperBound - expected.upperBound) < 1e-6, "\(range)")
    }

    @Test(
        arguments: [
            // One poll of a task started elsewhere says nothing about its rate.
            (nil, [Sample(time: 1, progress: 10)]),
            // Half done in a second, then one point more in the next: not a steady task.
            (0.0...0.0, [Sample(time: 1, progress: 50), Sample(time: 2, progress: 51)]),
            // No poll yet.
            (0.0...0.0, []),
        ] as [(ClosedRange<Double>?, [Sample])]
    )
    func noRangeWhenThePollsCannotTell(origin: ClosedRange<Double>?, samples: [Sample]) {
        var history = ProgressHistory(origin: origin)
        for sample in samples { history.record(sample) }
        #expect(history.endRange() == nil)
    }

    @Test func anHourOfPollsKeepsTheFirstAndTheLatest() throws {
        var history = ProgressHistory(origin: 0...0)
        for second in stride(from: 36, through: 3564, by: 36) {
            history.record(Sample(time: Double(second), progress: second / 36))
        }
        #expect(history.samples.map(\.progress) == [1, 2, 96, 97, 98, 99])
        let range = try #require(history.endRange())
        #expect(range.lowerBound > 3564 - 1e-6 && range.upperBound < 3600 + 1e-6, "\(range)")
    }

    @Test(
        arguments: [
            // Far from the end: aim at the earliest end, 1/100 of the time waited past it.
            (0.25, 3.5...4.2, 0.25, 3.5 + 0.02 - 0.25),
            // Narrowed down to less than 1/100 of the time waited: just past the latest end.
            (3.6, 3.97...4.0, 3.6, 4.005 - 3.6),
            // Hours away: the longest pause.
            (10.0, 3600.0...3700.0, 10.0, 5.0),
            // Should have ended already: again after 1/100 of the time waited.
            (5.0, 3.0...4.0, 5.0, 0.05),
            // Never more often than the shortest pause.
            (0.5, 0.5...0.5, 0.5, 0.02),
        ] as [(Double, ClosedRange<Double>, Double, Double)]
    )
    func pausesAimAtTheEnd(now: Double, end: ClosedRange<Double>, waited: Double, expected: Double)
    {
        let pause = PollPolicy().interval(now: now, end: end, waited: waited)
        #expect(abs(pause - expected) < 1e-9, "\(pause)")
    }
}
