import Synchronization

/// The thread of a session, made before the session exists.
///
/// A run's scheduling prefers this executor from its start, and the run's first session sends
/// its requests from the same thread: a step that ends then starts the next one, and the reply
/// to a call resumes its step, without waking any other thread. `Session.init(…, thread:)`
/// takes it; a thread given to no session is ended with `stop()`.
public final class SessionThread: Sendable {
    let thread = TransferThread()
    private let claimed = Atomic<Bool>(false)

    public init() {}

    /// The executor to prefer for work that should run where the session's replies arrive.
    public var executor: any TaskExecutor { thread }

    /// The thread for one session: the first call returns it, later calls nil (two sessions on
    /// one thread would wait for each other's transfers).
    public func claim() -> SessionThread? {
        claimed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
            ? self : nil
    }

    /// Ends the thread once its queued work has run, unless a session has claimed it: that
    /// session ends it when it goes.
    public func stopUnlessClaimed() {
        if !claimed.load(ordering: .relaxed) { thread.stop() }
    }
}
