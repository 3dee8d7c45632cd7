/// The time source of task waits and rate budgets, so that tests can run them without waiting.
public protocol APIClock: Sendable {
    /// Seconds since an arbitrary fixed point; never goes backwards.
    func now() -> Double
    /// Suspends until `now()` reaches the deadline; throws `CancellationError` when cancelled.
    func sleep(until deadline: Double) async throws
    /// Suspends until `now()` reaches the deadline while a request is in flight, to give the
    /// request up when its reply is late; throws `CancellationError` when cancelled.
    func sleepAwaitingReply(until deadline: Double) async throws
}

extension APIClock {
    /// Waits the time left in real time: the reply, not this clock, is what is waited for, so a
    /// clock that tests move by hand must not jump to the deadline while the reply is on its way.
    public func sleepAwaitingReply(until deadline: Double) async throws {
        let seconds = deadline - now()
        guard seconds > 0 else { return try Task.checkCancellation() }
        try await Task.sleep(for: .seconds(seconds))
    }
}

/// The real clock: monotonic time, and `Task.sleep`.
public struct SystemClock: APIClock {
    private let origin = ContinuousClock.now

    public init() {}

    public func now() -> Double {
        let elapsed = ContinuousClock.now - origin
        let (seconds, attoseconds) = elapsed.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }

    public func sleep(until deadline: Double) async throws {
        let seconds = deadline - now()
        guard seconds > 0 else { return try Task.checkCancellation() }
        try await Task.sleep(for: .seconds(seconds))
    }
}
