import Engine
import Foundation

/// A clock that moves only when everything the run does is waiting on it, and the executor the
/// tasks of the run run on.
///
/// Every task of a run on this clock runs on one thread at a time, the clock's (the run asks
/// for it through ``executor``). When that thread has no job left to run, no task of the run can
/// go on until time passes: the in-memory server takes its time on this clock too. Only then
/// does the clock jump to the earliest deadline anyone sleeps until, and wake the sleepers of
/// that moment in the order they went to sleep. A step timeout of 30 s racing a reply that comes
/// at 40 s therefore times out at exactly 30 s, every time, without real waiting.
///
/// A run on this clock must wait on nothing else: a socket or a real sleep would look like
/// idleness. ``strays`` counts the sleeps that did not come from the clock's thread, which would
/// mean some task of the run escaped it; the tests expect none.
final class VirtualClock: RunClock, TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: every stored property below `lock` is read and written only with
    // `lock` held.
    private let lock = NSLock()
    /// The wall time at virtual time 0, seconds since 1970.
    let origin: Double
    private var time: Double = 0
    private var jobs: [UnownedJob] = []
    private var sleepers: [Sleeper] = []
    private var cancelledBeforeSleeping: Set<Int> = []
    private var lastSleeper = 0
    private var drainer: Thread?
    private var strayCount = 0

    private struct Sleeper {
        var id: Int
        var deadline: Double
        var continuation: CheckedContinuation<Void, any Error>
    }

    /// A clock at virtual time 0, which is `origin` on the wall (2026-12-05T01:00:00Z unless
    /// said).
    init(origin: Double = 1_796_432_400) { self.origin = origin }

    var executor: (any TaskExecutor)? { self }

    /// Virtual seconds since the clock was made.
    func now() -> Double { lock.withLock { time } }

    func wallTime() -> Double { origin + now() }

    /// Sleeps that did not run on the clock's thread: none, when the run stayed on the clock.
    var strays: Int { lock.withLock { strayCount } }

    func sleep(until deadline: Double) async throws {
        let id: Int = lock.withLock {
            if Thread.current !== drainer { strayCount += 1 }
            lastSleeper += 1
            return lastSleeper
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let (early, thread) = lock.withLock { () -> (Result<Void, any Error>?, Thread?) in
                    if cancelledBeforeSleeping.remove(id) != nil {
                        return (.failure(CancellationError()), nil)
                    }
                    if deadline <= time { return (.success(()), nil) }
                    sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    // A stray sleep may come when nothing runs on the clock: time still moves,
                    // so that the test fails on `strays` instead of hanging.
                    return (nil, drainer == nil ? startDrainer() : nil)
                }
                if let early { continuation.resume(with: early) }
                thread?.start()
            }
        } onCancel: {
            let sleeper: Sleeper? = lock.withLock {
                guard let index = sleepers.firstIndex(where: { $0.id == id }) else {
                    cancelledBeforeSleeping.insert(id)
                    return nil
                }
                return sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The reply comes from the in-memory server, which takes its time on this clock too.
    func sleepAwaitingReply(until deadline: Double) async throws {
        try await sleep(until: deadline)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let thread: Thread? = lock.withLock {
            jobs.append(job)
            return drainer == nil ? startDrainer() : nil
        }
        thread?.start()
    }

    /// The thread that is to run the jobs from now on; call with `lock` held, and start it
    /// once `lock` is released.
    private func startDrainer() -> Thread {
        let thread = Thread { [self] in drain() }
        drainer = thread
        return thread
    }

    private enum Next {
        case run(UnownedJob)
        case wake([Sleeper])
        case stop
    }

    /// Runs the jobs one at a time; when none is left, moves time to the earliest deadline and
    /// wakes whoever sleeps until it; ends when nobody sleeps either.
    private func drain() {
        while true {
            let next: Next = lock.withLock {
                if !jobs.isEmpty { return .run(jobs.removeFirst()) }
                guard let earliest = sleepers.map(\.deadline).min() else {
                    drainer = nil
                    return .stop
                }
                time = max(time, earliest)
                let due = sleepers.filter { $0.deadline <= time }
                sleepers.removeAll { $0.deadline <= time }
                return .wake(due.sorted { ($0.deadline, $0.id) < ($1.deadline, $1.id) })
            }
            switch next {
            case .run(let job): job.runSynchronously(on: asUnownedTaskExecutor())
            case .wake(let due): for sleeper in due { sleeper.continuation.resume() }
            case .stop: return
            }
        }
    }
}
