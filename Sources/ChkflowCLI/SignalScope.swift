import Dispatch
import FoundationEssentials
import Glibc
import Synchronization

/// Runs work that Ctrl-C or SIGTERM cancels: the first signal cancels the task (sessions are
/// still logged out), a second one exits at once with status 130.
enum SignalScope {
    static func run<T: Sendable>(_ work: @escaping @Sendable () async -> T) async -> T {
        let task = Task { await work() }
        let count = SignalCount()
        let sources = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                // At once, as chkflow always ends: without the libraries' clean-up at exit.
                if count.increment() > 1 { _exit(130) }
                Console.writeError(
                    "\nchkflow: interrupted; stopping and logging out (again to quit at once)\n"
                )
                task.cancel()
            }
            source.resume()
            return source
        }
        let value = await task.value
        for source in sources { source.cancel() }
        return value
    }

    /// Counts signals across both sources' handlers.
    private final class SignalCount: Sendable {
        private let count = Mutex(0)

        func increment() -> Int {
            count.withLock { value in
                value += 1
                return value
            }
        }
    }
}
