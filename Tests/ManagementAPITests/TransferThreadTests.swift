import ChkflowCore
import Simulator
import Synchronization
import Testing

@testable import ManagementAPI

#if canImport(Glibc)
import Glibc
#endif

private let admin = Credentials.password(user: "admin", password: "chkflow")

/// The pthread the calling code runs on, as a number that can be compared.
private func currentThread() -> UInt { UInt(pthread_self()) }

/// Waits until the server has logged `count` requests for `command`.
private func waitForRequests(_ server: SimulatorServer, _ command: String, count: Int) async throws
{
    while server.requests.filter({ $0.command == command }).count < count {
        try await Task.sleep(for: .milliseconds(10))
    }
}

@Suite("The session's transfer thread as a task executor")
struct TransferThreadTests {
    @Test func tasksThatPreferTheThreadRunOnItAndNowhereElse() async throws {
        let thread = TransferThread()
        defer { thread.stop() }
        let first = await Task(executorPreference: thread) { currentThread() }.value
        let second = await Task(executorPreference: thread) { currentThread() }.value
        let elsewhere = await Task { currentThread() }.value
        #expect(first == second)
        #expect(elsewhere != first)
    }

    @Test func jobsStillRunOnceTheThreadIsStopped() async throws {
        let used = TransferThread()
        #expect(await Task(executorPreference: used) { 1 }.value == 1)
        used.stop()
        let unused = TransferThread()
        unused.stop()
        // A stopping thread runs what comes in before it ends; after that, and on a thread
        // that never started, the jobs go to Swift's global executor. Either way they run.
        #expect(await Task(executorPreference: used) { 2 }.value == 2)
        #expect(await Task(executorPreference: unused) { 3 }.value == 3)
    }

    @Test func aCallUnderThePreferenceResumesOnTheThread() async throws {
        let server = SimulatorServer()
        try server.start()
        defer { server.stop() }
        let session = Session(endpoint: Endpoint(url: server.baseURL))
        let threads = try await withTaskExecutorPreference(session.transferExecutor) {
            let before = currentThread()
            _ = try await session.login(admin)
            let afterLogin = currentThread()
            _ = try await session.call("show-session")
            return [before, afterLogin, currentThread()]
        }
        #expect(Set(threads).count == 1)
        #expect(await session.statistics == CallStatistics(calls: 2, logins: 1, connections: 1))
    }

    @Test func manyTasksOnOneSessionUnderThePreferenceShareItsConnection() async throws {
        let server = SimulatorServer()
        try server.start()
        defer { server.stop() }
        let session = Session(endpoint: Endpoint(url: server.baseURL))
        _ = try await session.login(admin)
        let names = try await withTaskExecutorPreference(session.transferExecutor) {
            try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        var names: [String] = []
                        for _ in 0..<5 {
                            let reply = try await session.call("show-session")
                            names.append(reply["user-name"]?.stringValue ?? "?")
                        }
                        return names
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
        }
        #expect(names == Array(repeating: "admin", count: 100))
        #expect(server.requests.map(\.command).filter { $0 == "show-session" }.count == 100)
        #expect(await session.statistics == CallStatistics(calls: 101, logins: 1, connections: 1))
    }

    @Test func callsFromTasksWithAndWithoutThePreferenceMix() async throws {
        let server = SimulatorServer()
        try server.start()
        defer { server.stop() }
        let session = Session(endpoint: Endpoint(url: server.baseURL))
        _ = try await session.login(admin)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<10 {
                let executor: (any TaskExecutor)? =
                    number.isMultiple(of: 2)
                    ? session.transferExecutor : nil
                group.addTask(executorPreference: executor) {
                    for _ in 0..<3 { _ = try await session.call("show-session") }
                }
            }
            try await group.waitForAll()
        }
        #expect(await session.statistics == CallStatistics(calls: 31, logins: 1, connections: 1))
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellingACallOnTheThreadAbortsItsTransfer() async throws {
        var scenario = Scenario()
        scenario.faults = [FaultRule(command: "show-session", call: 1, action: .neverAnswer)]
        let server = SimulatorServer(scenario: scenario)
        try server.start()
        defer { server.stop() }
        // Without the abort the call would wait an hour for its reply.
        let session = Session(endpoint: Endpoint(url: server.baseURL, requestTimeout: 3600))
        _ = try await session.login(admin)
        let call = Task(executorPreference: session.transferExecutor) {
            try await session.call("show-session")
        }
        try await waitForRequests(server, "show-session", count: 1)
        call.cancel()
        let result = await call.result
        #expect(throws: CancellationError.self) { try result.get() }
        // The aborted transfer took its connection with it; the session goes on on a new one.
        let reply = try await withTaskExecutorPreference(session.transferExecutor) {
            try await session.call("show-session")
        }
        #expect(reply["user-name"] == "admin")
        #expect(await session.statistics == CallStatistics(calls: 3, logins: 1, connections: 2))
    }

    @Test(.timeLimit(.minutes(1)))
    func cancellingACallWaitingBehindAnotherEndsItWithoutSendingIt() async throws {
        var scenario = Scenario()
        scenario.faults = [FaultRule(command: "show-session", call: 1, action: .neverAnswer)]
        let server = SimulatorServer(scenario: scenario)
        try server.start()
        defer { server.stop() }
        let session = Session(endpoint: Endpoint(url: server.baseURL, requestTimeout: 3600))
        _ = try await session.login(admin)
        let first = Task(executorPreference: session.transferExecutor) {
            try await session.call("show-session")
        }
        try await waitForRequests(server, "show-session", count: 1)
        let second = Task(executorPreference: session.transferExecutor) {
            try await session.call("show-hosts")
        }
        while await session.statistics.calls < 3 { try await Task.sleep(for: .milliseconds(10)) }
        second.cancel()
        let secondResult = await second.result
        #expect(throws: CancellationError.self) { try secondResult.get() }
        first.cancel()
        let firstResult = await first.result
        #expect(throws: CancellationError.self) { try firstResult.get() }
        #expect(server.requests.map(\.command) == ["login", "show-session"])
    }
}
