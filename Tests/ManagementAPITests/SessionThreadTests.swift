import ChkflowCore
import Simulator
import Synchronization
import Testing

@testable import ManagementAPI

#if canImport(Glibc)
import Glibc
#endif

@Suite("A session thread made in advance")
struct SessionThreadTests {
    @Test func onlyTheFirstClaimGetsTheThread() {
        let shared = SessionThread()
        let first = shared.claim()
        #expect(first === shared)
        #expect(shared.claim() == nil)
        #expect(shared.claim() == nil)
    }

    @Test func theClaimingSessionSendsFromTheThreadItsCallerPrefers() async throws {
        let server = SimulatorServer()
        try server.start()
        defer { server.stop() }
        let shared = SessionThread()
        let session = Session(
            endpoint: Endpoint(url: server.baseURL),
            budget: nil,
            thread: shared.claim()
        )
        #expect(
            ObjectIdentifier(session.transferExecutor as AnyObject)
                == ObjectIdentifier(shared.executor as AnyObject)
        )
        let threads = Mutex<Set<pthread_t>>([])
        try await withTaskExecutorPreference(shared.executor) {
            threads.withLock { _ = $0.insert(pthread_self()) }
            _ = try await session.login(.password(user: "admin", password: "chkflow"))
            threads.withLock { _ = $0.insert(pthread_self()) }
            _ = try await session.call("show-session")
            threads.withLock { _ = $0.insert(pthread_self()) }
            try await session.logout()
            threads.withLock { _ = $0.insert(pthread_self()) }
        }
        #expect(threads.withLock { $0.count } == 1)
        #expect(server.requests.map(\.command) == ["login", "show-session", "logout"])
        shared.stopUnlessClaimed()
    }

    @Test func anUnclaimedThreadThatWasStoppedLeavesItsWorkToSwiftsThreads() async {
        let shared = SessionThread()
        let first = await withTaskExecutorPreference(shared.executor) {
            pthread_self()
        }
        let second = await withTaskExecutorPreference(shared.executor) {
            pthread_self()
        }
        #expect(first == second)
        shared.stopUnlessClaimed()
        // The thread ends once idle; work that prefers it afterwards still runs.
        for _ in 0..<3 {
            let ran = await withTaskExecutorPreference(shared.executor) { true }
            #expect(ran)
        }
    }
}
