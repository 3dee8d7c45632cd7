import ChkflowCore
import Synchronization
import Testing

@testable import ManagementAPI

/// A server whose exports take as long as their file name says (`/4.tgz`: 4 s on the test's
/// clock; `/fail-4.tgz`: fails after 4 s), so that waits can be run on a clock moved by hand.
private final class TimedTaskServer: Sendable {
    private struct Task {
        var start: Double
        var duration: Double
        var fails: Bool
    }

    private let clock: any APIClock
    private let tasks = Mutex<[String: Task]>([:])

    init(clock: any APIClock) { self.clock = clock }

    func reply(_ request: LoopbackResponder.Request) -> LoopbackResponder.Reply {
        let command = String(request.path.split(separator: "/").last ?? "")
        let body = (try? JSON.parse(request.body)) ?? [:]
        switch command {
        case "login":
            return .json(200, #"{"sid":"s1","session-timeout":600,"api-server-version":"2"}"#)
        case "export-management":
            let name = body["file-path"]?.stringValue ?? "/1.tgz"
            let stem = name.dropFirst().prefix { $0 != "." }
            let fails = stem.hasPrefix("fail-")
            let duration = Double(stem.split(separator: "-").last ?? "") ?? 1
            let id = tasks.withLock { tasks in
                let id = "t\(tasks.count + 1)"
                tasks[id] = Task(start: clock.now(), duration: duration, fails: fails)
                return id
            }
            return .json(200, #"{"task-id":"\#(id)"}"#)
        case "show-task":
            let asked =
                body["task-id"]?.stringValue.map { [$0] }
                ?? (body["task-id"]?.arrayValue ?? []).compactMap(\.stringValue)
            let now = clock.now()
            let entries = tasks.withLock { tasks in
                asked.compactMap { id in tasks[id].map { entry(id, $0, now) } }
            }
            return .json(200, #"{"tasks":[\#(entries.joined(separator: ","))]}"#)
        default:
            return .json(200, #"{"message":"OK"}"#)
        }
    }

    private func entry(_ id: String, _ task: Task, _ now: Double) -> String {
        let done = now >= task.start + task.duration
        let status = done ? (task.fails ? "failed" : "succeeded") : "in progress"
        let progress = done ? 100 : Int((now - task.start) / task.duration * 100)
        return #"{"task-id":"\#(id)","status":"\#(status)","progress-percentage":\#(progress)}"#
    }
}

@Suite("Polling tasks whose kind the session has seen end")
struct ExpectedDurationTests {
    /// Each case: the exports waited for first (their file names), the export then waited for,
    /// and whether its first poll should aim at the end the earlier ones predict.
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var earlier: [JSON]
        var probe: JSON
        var predicted: Bool

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "nothing seen yet",
            earlier: [],
            probe: ["file-path": "/4.tgz"],
            predicted: false
        ),
        Case(
            name: "one of the same kind",
            earlier: [["file-path": "/4.tgz"]],
            probe: ["file-path": "/4.tgz"],
            predicted: true
        ),
        Case(
            name: "three of the same kind",
            earlier: [["file-path": "/4.tgz"], ["file-path": "/4.tgz"], ["file-path": "/4.tgz"]],
            probe: ["file-path": "/4.tgz"],
            predicted: true
        ),
        Case(
            name: "durations that disagree",
            earlier: [["file-path": "/4.tgz"], ["file-path": "/8.tgz"]],
            probe: ["file-path": "/4.tgz"],
            predicted: false
        ),
        Case(
            name: "a failed one only",
            earlier: [["file-path": "/fail-4.tgz"]],
            probe: ["file-path": "/4.tgz"],
            predicted: false
        ),
        Case(
            name: "one of another kind",
            earlier: [["file-path": "/4.tgz", "pre-export-verification-only": true]],
            probe: ["file-path": "/4.tgz"],
            predicted: false
        ),
    ]

    @Test(arguments: cases)
    func theFirstPollAimsAtTheExpectedEnd(_ testCase: Case) async throws {
        let clock = ManualClock()
        let server = TimedTaskServer(clock: clock)
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url), budget: nil, clock: clock)
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            for body in testCase.earlier {
                let id = try #require(try await session.call("export-management", body)["task-id"])
                _ = try await session.waitForTask(id.stringValue ?? "", timeout: 60) { _ in }
            }
            let pollsBefore = commands(responder).filter { $0 == "show-task" }.count
            let sleepsBefore = clock.sleeps.count
            let started = try await session.call("export-management", testCase.probe)
            let id = try #require(started["task-id"]?.stringValue)
            let task = try await session.waitForTask(id, timeout: 60) { _ in }
            #expect(task.status == .succeeded)
            let polls = commands(responder).filter { $0 == "show-task" }.count - pollsBefore
            let firstPause = try #require(clock.sleeps.dropFirst(sleepsBefore).first)
            let kind = "export-management(file-path)"
            let expected = await session.taskDurations[kind]?.expected
            if testCase.predicted {
                // The task took 4 s; the bound the earlier polls left is within 1% of that.
                let bound = try #require(expected)
                #expect(bound >= 4 && bound <= 4.04, "expected \(bound) s")
                // Times on the clock are sums, so the pause matches to rounding.
                let aimed = bound + PollPolicy().minimumInterval / 4
                #expect(abs(firstPause - aimed) < 1e-9, "first poll after \(firstPause) s")
                #expect(polls == 1)
            } else {
                #expect(firstPause == PollPolicy().initialInterval)
                #expect(polls > 1)
            }
        }
    }

    @Test func aPredictionNeverDelaysTheFirstPollPastTheLongestPause() async throws {
        let clock = ManualClock()
        let server = TimedTaskServer(clock: clock)
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url), budget: nil, clock: clock)
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            for _ in 0..<2 {
                let started = try await session.call("export-management", ["file-path": "/20.tgz"])
                let id = try #require(started["task-id"]?.stringValue)
                let sleepsBefore = clock.sleeps.count
                _ = try await session.waitForTask(id, timeout: 60) { _ in }
                // The first wait starts with the quick poll; the second expects 20 s but still
                // polls within the policy's longest pause, so an early failure shows in time.
                let firstPause = try #require(clock.sleeps.dropFirst(sleepsBefore).first)
                #expect(firstPause == (sleepsBefore == 0 ? 0.25 : 5))
            }
            let expected = try #require(
                await session.taskDurations["export-management(file-path)"]?.expected
            )
            #expect(expected >= 20 && expected <= 20.2, "expected \(expected) s")
        }
    }

    static let bounds: [(recorded: [ClosedRange<Double>], expected: Double?)] = [
        ([], nil),
        ([3.9...4.1], 4.1),
        ([3.9...4.1, 3.95...4.05], 4.05),
        // 4.4 is within 10% of 4.05: still one duration.
        ([3.9...4.1, 3.95...4.05, 4.4...4.5], 4.05),
        ([3.9...4.1, 4.6...4.7], nil),
    ]

    @Test(arguments: bounds)
    func durationsAgreeWithinTenPercent(recorded: [ClosedRange<Double>], expected: Double?) {
        var durations = TaskDurations()
        for range in recorded { durations.record(range) }
        #expect(durations.expected == expected)
        #expect(durations.count == recorded.count)
    }
}

/// A clock that moves only when told: to the earliest deadline of the tasks sleeping on it.
///
/// Tests move it once every wait they run is asleep, so that what happens between two moves
/// (requests, replies, one wait waking another) is the same on any machine.
private final class SteppedClock: APIClock {
    private struct Sleeper {
        var id: Int
        var deadline: Double
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = 0.0
        var nextID = 0
        var sleepers: [Sleeper] = []
        /// Sleeps cancelled before they were registered.
        var cancelled: Set<Int> = []
    }

    private let state = Mutex(State())

    func now() -> Double { state.withLock { $0.now } }

    /// How many sleeps are waiting for the clock.
    var sleeping: Int { state.withLock { $0.sleepers.count } }

    /// Moves the clock forward to `time` by hand, waking nobody; for requests sent apart.
    func move(to time: Double) { state.withLock { $0.now = max($0.now, time) } }

    /// Moves the clock to the earliest deadline and wakes every sleep due by then.
    func advance() {
        let due = state.withLock { state -> [Sleeper] in
            guard let next = state.sleepers.map(\.deadline).min() else { return [] }
            state.now = max(state.now, next)
            let now = state.now
            let due = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    func sleep(until deadline: Double) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let early = state.withLock { state -> (any Error)?? in
                    if state.cancelled.remove(id) != nil { return .some(CancellationError()) }
                    if deadline <= state.now { return .some(nil) }
                    state.sleepers.append(
                        Sleeper(id: id, deadline: deadline, continuation: continuation)
                    )
                    return nil
                }
                switch early {
                case .some(.some(let error)): continuation.resume(throwing: error)
                case .some(.none): continuation.resume()
                case .none: break
                }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Sleeper? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else {
                    state.cancelled.insert(id)
                    return nil
                }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }
}

/// How many waits of a wave are still running.
private final class WaitCount: Sendable {
    let value: Atomic<Int>
    init(_ count: Int) { value = Atomic(count) }
}

@Suite("Waits of one session sharing their polls, on a stepped clock")
struct SharedPollTests {
    /// Starts one 4 s export per offset (seconds after the first), waits for them all at
    /// once while moving the clock whenever every wait is asleep, and returns the show-task
    /// requests this made, each as the task-ids it asked for.
    private func wave(
        _ session: Session,
        _ clock: SteppedClock,
        _ responder: LoopbackResponder,
        offsets: [Double]
    ) async throws -> [[String]] {
        let before = responder.requests.count
        let start = clock.now()
        var ids: [String] = []
        for offset in offsets {
            clock.move(to: start + offset)
            let started = try await session.call("export-management", ["file-path": "/4.tgz"])
            ids.append(try #require(started["task-id"]?.stringValue))
        }
        let active = WaitCount(ids.count)
        let statuses = try await withThrowingTaskGroup(of: TaskStatus?.self) { group in
            for id in ids {
                group.addTask {
                    defer { active.value.subtract(1, ordering: .sequentiallyConsistent) }
                    return try await session.waitForTask(id, timeout: nil) { _ in }.status
                }
            }
            group.addTask {
                while active.value.load(ordering: .sequentiallyConsistent) > 0 {
                    let waits = active.value.load(ordering: .sequentiallyConsistent)
                    if waits > 0, clock.sleeping == waits { clock.advance() }
                    try await Task.sleep(for: .milliseconds(1))
                }
                return nil
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.compactMap { $0 } == Array(repeating: .succeeded, count: ids.count))
        return responder.requests.dropFirst(before).filter { $0.path.hasSuffix("/show-task") }
            .map { request in
                let body = (try? JSON.parse(request.body)) ?? [:]
                let asked = body["task-id"]
                return asked?.stringValue.map { [$0] }
                    ?? (asked?.arrayValue ?? []).compactMap(\.stringValue)
            }
    }

    @Test func waitsOfTasksStartedTogetherPollAsOne() async throws {
        let clock = SteppedClock()
        let server = TimedTaskServer(clock: clock)
        try await withServer(server.reply) { responder in
            let alone = Session(endpoint: Endpoint(url: responder.url), budget: nil, clock: clock)
            _ = try await alone.login(.password(user: "admin", password: "chkflow"))
            let single = try await wave(alone, clock, responder, offsets: [0])
            let session = Session(endpoint: Endpoint(url: responder.url), budget: nil, clock: clock)
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            let three = try await wave(session, clock, responder, offsets: [0, 0, 0])
            // Three waits poll as often as one alone, each poll asking for the three tasks.
            #expect(three.count == single.count)
            #expect(three.allSatisfy { Set($0).count == 3 }, "\(three)")
        }
    }

    @Test(arguments: [[0, 0.01, 0.02], [0, 0.02, 0.045]])
    func waitsDueWithinTheSlackJoinTheLastPoll(offsets: [Double]) async throws {
        let clock = SteppedClock()
        let server = TimedTaskServer(clock: clock)
        try await withServer(server.reply) { responder in
            let session = Session(endpoint: Endpoint(url: responder.url), budget: nil, clock: clock)
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            _ = try await wave(session, clock, responder, offsets: [0, 0, 0])
            // The session now expects 4 s: each wait of the next wave aims at its own task's
            // end, and those due within the slack of the first poll wait for the last one.
            let polls = try await wave(session, clock, responder, offsets: offsets)
            #expect(polls.count == 1, "\(polls)")
            #expect(polls.first.map { Set($0).count } == 3)
        }
    }
}
