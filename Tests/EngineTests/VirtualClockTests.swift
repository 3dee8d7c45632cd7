import Synchronization
import Testing

/// What woke when, in the order it did.
private final class WakeLog: Sendable {
    private let log = Mutex<[String]>([])

    func append(_ entry: String) { log.withLock { $0.append(entry) } }

    var entries: [String] { log.withLock { $0 } }
}

/// The virtual clock on its own: time moves only when every task waits on it.
@Suite struct VirtualClockTests {
    /// Counts hops, to give a task work that suspends many times.
    private actor Counter {
        var count = 0
        func bump() { count += 1 }
    }

    @Test func aDeadlineSetAfterLongWorkStillComesBeforeALaterOneSetAtOnce() async {
        let clock = VirtualClock()
        let woken = WakeLog()
        await withTaskExecutorPreference(clock) {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await clock.sleep(until: 40)
                    woken.append("late@\(clock.now())")
                }
                group.addTask {
                    let counter = Counter()
                    for _ in 0..<500 {
                        await Task.yield()
                        await counter.bump()
                    }
                    try? await clock.sleep(until: 30)
                    woken.append("early@\(clock.now())")
                }
            }
        }
        #expect(woken.entries == ["early@30.0", "late@40.0"])
        #expect(clock.strays == 0)
    }

    @Test(arguments: [
        ([3.0, 1, 2, 1], ["1@1.0", "3@1.0", "2@2.0", "0@3.0"]),
        ([0.5, 0.25, 0.5], ["1@0.25", "0@0.5", "2@0.5"]),
        ([0.0, 7], ["0@0.0", "1@7.0"]),
    ])
    func sleepersWakeInDeadlineOrderThenInTheOrderTheySlept(
        _ deadlines: [Double],
        _ expected: [String]
    ) async {
        let clock = VirtualClock()
        let woken = WakeLog()
        await withTaskExecutorPreference(clock) {
            await withTaskGroup(of: Void.self) { group in
                for (index, deadline) in deadlines.enumerated() {
                    group.addTask {
                        try? await clock.sleep(until: deadline)
                        woken.append("\(index)@\(clock.now())")
                    }
                }
            }
        }
        #expect(woken.entries == expected)
    }

    @Test func aCancelledSleepEndsAtOnceWithoutMovingTime() async {
        let clock = VirtualClock()
        let ends = await withTaskExecutorPreference(clock) {
            await withTaskGroup(of: String.self) { group in
                group.addTask {
                    do {
                        try await clock.sleep(until: 100)
                        return "woke@\(clock.now())"
                    } catch {
                        return "\(type(of: error))@\(clock.now())"
                    }
                }
                group.addTask {
                    try? await clock.sleep(until: 5)
                    return "timer@\(clock.now())"
                }
                var ends: [String] = []
                if let first = await group.next() { ends.append(first) }
                group.cancelAll()
                if let second = await group.next() { ends.append(second) }
                return ends
            }
        }
        #expect(ends == ["timer@5.0", "CancellationError@5.0"])
    }

    @Test func aSleepOffTheClocksThreadIsCountedAsAStray() async throws {
        let clock = VirtualClock()
        try await clock.sleep(until: 2)
        #expect(clock.now() == 2)
        #expect(clock.strays == 1)
    }
}
