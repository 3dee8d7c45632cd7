internal import CCurl
internal import CPlacement
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A transfer that the thread drives on its multi handle, one at a time, in the order they came.
protocol ThreadTransfer: AnyObject, Sendable {
    var isCancelled: Bool { get }
    /// Sets the easy handle up for the request and returns it, or ends the transfer and returns
    /// nil when it cannot start. Runs on the thread.
    func begin() -> UnsafeMutableRawPointer?
    /// Reports libcurl's result, nil when the transfer was cancelled. Runs on the thread.
    func end(_ code: CURLcode?)
}

/// The thread of one session: it owns the libcurl multi handle, drives the session's transfers
/// on it, sleeps in `curl_multi_poll` when there is nothing to do, and is a task executor.
///
/// A task that prefers this executor (`withTaskExecutorPreference`), and the `Session` actor
/// while such a task calls it, run their code here: a reply then resumes the caller on the
/// thread that read it, with no other thread to wake. Without the preference, callers run on
/// Swift's own threads and only the transfers run here; either way, nothing blocks Swift's
/// cooperative threads.
///
/// The thread starts with the first job or transfer and ends after `stop()`; jobs that arrive
/// after that run on the global concurrent executor.
final class TransferThread: TaskExecutor, @unchecked Sendable {
    // @unchecked Sendable: everything shared is inside `state`, behind its mutex. The multi
    // handle is used by the thread alone, apart from curl_multi_wakeup, which libcurl documents
    // as safe from any thread; it is called with the lock held and only while the phase is
    // `running`, so never after the thread has cleaned the handle up.
    private let state = Mutex(State())

    private struct State {
        var phase = Phase.idle
        var multi: UnsafeMutableRawPointer?
        var work: [Work] = []
        var arrivals: [any ThreadTransfer] = []
        /// Whether the thread sleeps, or is about to, in `curl_multi_poll`.
        var polling = false
    }

    private enum Phase {
        case idle, running, stopping, stopped
    }

    private enum Work: Sendable {
        case job(UnownedJob)
        case block(@Sendable () -> Void)
    }

    /// Whether a thread of this process waits for a reply without sleeping.
    private static let spinning = Atomic<Bool>(false)

    private static func claimSpinning() -> Bool {
        spinning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    /// A `sched_yield()` that lasts longer than this let another thread run on the core: with
    /// nothing else ready it returns within a few microseconds.
    private static let yieldTaken = 0.00002

    /// The least time between two moves of the thread to another core while it waits.
    private static let moveInterval = 0.001

    /// How long the thread sleeps at most between two looks at its transfers' cancel flags.
    private static let pollMilliseconds: Int32 = 1000

    init() {}

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        guard add(.job(unowned)) else {
            return globalConcurrentExecutor.enqueue(ExecutorJob(unowned))
        }
    }

    /// Runs `block` on the thread, or at once on the caller's thread once the thread has ended.
    func run(_ block: @escaping @Sendable () -> Void) {
        if !add(.block(block)) { block() }
    }

    /// Queues a transfer; it begins once those before it have ended.
    ///
    /// A transfer submitted after `stop()` ends at once as cancelled.
    func submit(_ transfer: any ThreadTransfer) {
        let accepted = state.withLock { state in
            guard Self.accepts(&state, owner: self) else { return false }
            state.arrivals.append(transfer)
            Self.wakeIfPolling(&state)
            return true
        }
        if !accepted { transfer.end(nil) }
    }

    /// Wakes the thread so that it looks at its transfers' cancel flags at once.
    func wake() {
        state.withLock { state in
            if state.phase == .running, let multi = state.multi { curl_multi_wakeup(multi) }
        }
    }

    /// Asks the thread to end once the work queued so far has run.
    func stop() {
        state.withLock { state in
            switch state.phase {
            case .idle: state.phase = .stopped
            case .running:
                state.phase = .stopping
                if let multi = state.multi { curl_multi_wakeup(multi) }
            case .stopping, .stopped: break
            }
        }
    }

    private func add(_ work: Work) -> Bool {
        state.withLock { state in
            guard Self.accepts(&state, owner: self) else { return false }
            state.work.append(work)
            Self.wakeIfPolling(&state)
            return true
        }
    }

    /// Whether the thread takes new work, starting it first when it has not run yet.
    private static func accepts(_ state: inout State, owner: TransferThread) -> Bool {
        switch state.phase {
        case .running, .stopping: return true
        case .stopped: return false
        case .idle:
            guard curlGlobalReady, let multi = curl_multi_init() else { return false }
            guard spawn(owner, multi) else {
                curl_multi_cleanup(multi)
                return false
            }
            state.multi = multi
            state.phase = .running
            return true
        }
    }

    private static func wakeIfPolling(_ state: inout State) {
        guard state.polling, let multi = state.multi else { return }
        state.polling = false
        curl_multi_wakeup(multi)
    }

    private static func spawn(_ owner: TransferThread, _ multi: UnsafeMutableRawPointer) -> Bool {
        // The thread holds the retained pair until it ends and releases it there, once.
        let context = Unmanaged.passRetained(ThreadStart(owner: owner, multi: multi)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread,
            nil,
            { raw in
                guard let raw else { return nil }
                let start = Unmanaged<ThreadStart>.fromOpaque(raw).takeRetainedValue()
                start.owner.serve(start.multi)
                return nil
            },
            context
        )
        guard result == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            return false
        }
        pthread_detach(thread)
        return true
    }

    // MARK: - The thread

    /// The loop of the thread: run queued jobs, drive the current transfer, then sleep.
    private func serve(_ multi: UnsafeMutableRawPointer) {
        var loop = ServeLoop(multi: multi)
        var work: [Work] = []
        var arrivals: [any ThreadTransfer] = []
        while true {
            state.withLock { state in
                state.polling = false
                swap(&state.work, &work)
                swap(&state.arrivals, &arrivals)
            }
            for item in work { perform(item) }
            work.removeAll(keepingCapacity: true)
            loop.waiting.append(contentsOf: arrivals)
            arrivals.removeAll(keepingCapacity: true)
            if loop.step() { continue }
            if loop.expectsQuickReply, spinUntilReady(&loop) { continue }
            guard let sleep = sleepOrEnd(idle: loop.isIdle) else { break }
            if sleep { curl_multi_poll(multi, nil, 0, Self.pollMilliseconds, nil) }
        }
        curl_multi_cleanup(multi)
    }

    /// Waits for the reply without sleeping; true once there is something to do (the reply,
    /// new work, a cancellation), false after `ServeLoop.quickReply` or once another thread
    /// turns out to need this core.
    ///
    /// For a server that answers that quickly, falling asleep and being woken would take
    /// longer than the wait itself. Between two looks the loop offers the core to any other
    /// thread ready on it: a server on the same core, woken by the request, then answers at
    /// once instead of after this loop's time slice. When the offer was taken (the yield
    /// lasted longer than `yieldTaken`), the thread moves to another core and goes on waiting
    /// there, so that the two threads stop taking turns on one core while another stands idle
    /// (the scheduler puts a thread woken by a local socket on its waker's core, and leaves
    /// it there while both keep busy). It moves at most once per `moveInterval`; when it may
    /// not move, it sleeps instead, leaving the core to the thread that took it, until the
    /// reply wakes it.
    private func spinUntilReady(_ loop: inout ServeLoop) -> Bool {
        // One thread of the process at a time: many sessions waiting like this at once would
        // take the cores their server needs to answer.
        guard Self.claimSpinning() else { return false }
        defer { Self.spinning.store(false, ordering: .releasing) }
        let deadline = MonotonicTime.now() + ServeLoop.quickReply
        var ready: Int32 = 0
        repeat {
            curl_multi_poll(loop.multi, nil, 0, 0, &ready)
            if ready > 0 || loop.current?.transfer.isCancelled != false { return true }
            if state.withLock({ !$0.work.isEmpty || !$0.arrivals.isEmpty }) { return true }
            let offered = MonotonicTime.now()
            sched_yield()
            let now = MonotonicTime.now()
            if now - offered > Self.yieldTaken {
                guard now - loop.movedAt > Self.moveInterval, chk_move_to_another_core(nil) >= 0
                else { return false }
                loop.movedAt = now
            }
        } while MonotonicTime.now() < deadline
        return false
    }

    private func perform(_ work: Work) {
        switch work {
        case .job(let job): job.runSynchronously(on: asUnownedTaskExecutor())
        case .block(let block): block()
        }
    }

    /// True to sleep, false to loop at once (work came in), nil to end the thread.
    private func sleepOrEnd(idle: Bool) -> Bool? {
        state.withLock { state in
            guard state.work.isEmpty, state.arrivals.isEmpty else { return false }
            if state.phase == .stopping, idle {
                state.phase = .stopped
                return nil
            }
            state.polling = true
            return true
        }
    }
}

/// What a new thread starts with; it keeps the owner alive until the thread ends.
private final class ThreadStart {
    let owner: TransferThread
    let multi: UnsafeMutableRawPointer

    init(owner: TransferThread, multi: UnsafeMutableRawPointer) {
        self.owner = owner
        self.multi = multi
    }
}

/// The transfers of the thread: the one on the multi handle and those waiting for it.
///
/// Used on the thread only.
private struct ServeLoop {
    let multi: UnsafeMutableRawPointer
    var waiting: [any ThreadTransfer] = []
    var current: (transfer: any ThreadTransfer, easy: UnsafeMutableRawPointer)?
    /// When the current transfer began.
    var began = 0.0
    /// One bit per recent transfer, the latest lowest: set when it was answered within
    /// `quickReply`.
    var quickReplies: UInt8 = 0
    /// When the thread last moved to another core while it waited; see `spinUntilReady`.
    var movedAt = -Double.infinity

    /// The longest reply time for which waiting without sleeping pays: against a server on
    /// this machine it saves a wake-up per call; against one across a network it never starts.
    static let quickReply = 0.0005

    var isIdle: Bool { current == nil && waiting.isEmpty }

    /// Whether a transfer is under way and one of the last eight was answered quickly (one
    /// slow reply, on a busy machine, does not end the waiting for good).
    var expectsQuickReply: Bool { current != nil && quickReplies != 0 }

    /// Moves the transfers along; true when one ended, so that its caller may already have
    /// queued more work.
    mutating func step() -> Bool {
        var ended = endCancelledWaiting()
        if current == nil, !waiting.isEmpty {
            let next = waiting.removeFirst()
            guard let easy = next.begin() else { return true }
            curl_multi_add_handle(multi, easy)
            current = (next, easy)
            began = MonotonicTime.now()
        }
        guard let active = current else { return ended }
        if active.transfer.isCancelled {
            finish(nil)
            return true
        }
        var running: Int32 = 0
        guard curl_multi_perform(multi, &running) == CURLM_OK else {
            finish(CURLE_FAILED_INIT)
            return true
        }
        if let code = finishedCode() {
            finish(code)
            ended = true
        }
        return ended
    }

    private mutating func endCancelledWaiting() -> Bool {
        guard waiting.contains(where: \.isCancelled) else { return false }
        var kept: [any ThreadTransfer] = []
        for transfer in waiting {
            if transfer.isCancelled { transfer.end(nil) } else { kept.append(transfer) }
        }
        waiting = kept
        return true
    }

    private func finishedCode() -> CURLcode? {
        var queued: Int32 = 0
        var code: CURLcode?
        while let message = curl_multi_info_read(multi, &queued) {
            if message.pointee.msg == CURLMSG_DONE { code = message.pointee.data.result }
        }
        return code
    }

    /// Takes the current transfer off the multi handle, which aborts it if it still runs.
    private mutating func finish(_ code: CURLcode?) {
        guard let active = current else { return }
        current = nil
        let quick = code != nil && MonotonicTime.now() - began <= Self.quickReply
        quickReplies = quickReplies << 1 | (quick ? 1 : 0)
        curl_multi_remove_handle(multi, active.easy)
        active.transfer.end(code)
    }
}

/// Seconds on the monotonic clock, for the thread's own timing.
enum MonotonicTime {
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
