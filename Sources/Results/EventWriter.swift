import ChkflowCore
import Engine
import FoundationEssentials
import Glibc
import Synchronization

/// Appends one NDJSON line per engine event to a file or to standard output.
///
/// Each line goes out in a single locked `write(2)` loop, so lines from steps that run at once
/// never interleave and a reader sees every line as soon as its event happened. A write error
/// stops the stream (the run goes on) and is kept in `failure` for the command line to report.
public final class EventWriter: Sendable {
    private struct State {
        var descriptor: Int32
        var ownsDescriptor: Bool
        var runID = ""
        var failure: FileWriteError?
    }

    private let state: Mutex<State>
    private let name: String
    private let clock: @Sendable () -> Double

    /// Writes to a descriptor the caller keeps open and closes.
    public init(
        descriptor: Int32,
        name: String = "standard output",
        clock: @escaping @Sendable () -> Double = EventWriter.systemClock
    ) {
        self.state = Mutex(State(descriptor: descriptor, ownsDescriptor: false))
        self.name = name
        self.clock = clock
    }

    /// Writes to a file, or to standard output for `-`.
    ///
    /// A file is created with mode 0600 if needed and appended to: lines of earlier runs stay,
    /// told apart by their run-id.
    public convenience init(
        path: String,
        clock: @escaping @Sendable () -> Double = EventWriter.systemClock
    ) throws(FileWriteError) {
        guard path != "-" else {
            self.init(descriptor: STDOUT_FILENO, clock: clock)
            return
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw FileWriteError(path: path, reason: String(cString: strerror(errno)))
        }
        self.init(descriptor: descriptor, name: path, clock: clock)
        state.withLock { $0.ownsDescriptor = true }
    }

    deinit { close() }

    /// The current time, in seconds since 1970.
    @Sendable public static func systemClock() -> Double { Date().timeIntervalSince1970 }

    /// Sets the run id that every following line carries; call it once the run is prepared.
    public func begin(runID: String) {
        state.withLock { $0.runID = runID }
    }

    /// The first write error, if any; nothing more was written after it.
    public var failure: FileWriteError? { state.withLock { $0.failure } }

    /// Writes the event's line; does nothing once a write has failed or after `close`.
    public func write(_ event: EngineEvent) {
        let now = clock()
        state.withLock { state in
            guard state.failure == nil, state.descriptor >= 0 else { return }
            let line = EventLine.json(event, runID: state.runID, now: now).serialized() + "\n"
            if let reason = Self.writeAll(Array(line.utf8), to: state.descriptor) {
                state.failure = FileWriteError(path: name, reason: reason)
            }
        }
    }

    /// Closes the file if the writer opened it; later events are dropped.
    public func close() {
        state.withLock { state in
            if state.ownsDescriptor, state.descriptor >= 0 { Glibc.close(state.descriptor) }
            state.descriptor = -1
        }
    }

    /// Writes every byte, retrying after signals and short writes; the error text on failure.
    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> String? {
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes {
                Glibc.write(descriptor, $0.baseAddress, $0.count)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { return String(cString: strerror(errno)) }
            written += result
        }
        return nil
    }
}
