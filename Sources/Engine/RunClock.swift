import FoundationEssentials
import Glibc
import ManagementAPI

/// The time source of a run: the wall clock that timestamps and the change window read, and
/// the monotonic clock that step timeouts, retry waits, the clean-up limit and the waits for
/// export slots sleep on.
///
/// ``RunOptions/clock`` is the real clock unless a test gives one it controls. The run hands the
/// same clock to the sessions it opens and to its rate budgets, so that one time drives both the
/// engine and the client's task waits.
public protocol RunClock: APIClock {
    /// Seconds since 1970, for timestamps and the change window.
    func wallTime() -> Double

    /// The executor the tasks of the run run on; nil for the default one.
    ///
    /// A clock that tests move gives its own, so that it can tell when every task of the run is
    /// waiting on it.
    var executor: (any TaskExecutor)? { get }
}

extension RunClock {
    public var executor: (any TaskExecutor)? { nil }

    /// Suspends for `seconds` of this clock; throws `CancellationError` when cancelled.
    func sleep(seconds: Double) async throws {
        try await sleep(until: now() + seconds)
    }

    /// Runs `work` against `deadline` on this clock, cancelling it when the deadline comes
    /// first; returns what the work returned (it always ends, cancelled or not) and whether the
    /// deadline came before it.
    func race<T: Sendable>(
        until deadline: Double,
        _ work: @escaping @Sendable () async -> T
    ) async -> (result: T, expired: Bool) {
        await withTaskGroup(of: RaceChild<T>.self) { group in
            group.addTask { .finished(await work()) }
            group.addTask {
                do {
                    try await sleep(until: deadline)
                    return .expired
                } catch {
                    return .timerCancelled
                }
            }
            var result: T?
            var expired = false
            while let child = await group.next() {
                switch child {
                case .finished(let finished):
                    result = finished
                    group.cancelAll()
                case .expired:
                    expired = result == nil
                    group.cancelAll()
                case .timerCancelled: break
                }
            }
            // The group ends only when the work has, so its result is there.
            return (result!, expired)
        }
    }
}

/// A child of ``RunClock/race(until:_:)``.
private enum RaceChild<T: Sendable>: Sendable {
    case finished(T)
    case expired
    case timerCancelled
}

extension SystemClock: RunClock {
    /// The system's wall clock.
    public func wallTime() -> Double { Date().timeIntervalSince1970 }
}
