import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A fake Check Point management server on a real socket, for rehearsals and tests.
///
/// ```swift
/// let server = SimulatorServer()
/// try server.start()
/// // point a client at server.baseURL …
/// server.stop()
/// ```
///
/// Serving happens on threads of the server's own; `start` returns as soon as it listens.
public final class SimulatorServer: Sendable {
    /// The scenario the server plays.
    public let scenario: Scenario
    private let logPath: String?
    private let log = RequestLog()
    private let settings: TransportSettings
    private let runtime = Mutex(Runtime.idle)
    /// The API once started, kept after `stop` so that tests can still ask what it issued.
    private let served = Mutex<SimulatedAPI?>(nil)

    private enum Runtime {
        case idle
        case running(Running)
        case stopped
    }

    private struct Running {
        var listenerFD: Int32
        var host: String
        var port: UInt16
        var loops: [EventLoop]
        var threads: [pthread_t]
        var secure: Bool
    }

    /// A server for a scenario; with `logPath`, every request is also appended to that file as
    /// one JSON line (keys time, connection, method, path, command, status, code, session).
    public init(scenario: Scenario = .default, logPath: String? = nil) {
        self.scenario = scenario
        self.logPath = logPath
        self.settings = TransportSettings()
    }

    /// A server with transport settings other than the defaults (shorter timeouts in tests).
    init(scenario: Scenario, logPath: String? = nil, settings: TransportSettings) {
        self.scenario = scenario
        self.logPath = logPath
        self.settings = settings
    }

    deinit { stop() }

    /// Binds and listens, then serves on threads of its own; returns the port (useful with 0).
    @discardableResult
    public func start(host: String = "127.0.0.1", port: UInt16 = 0) throws -> UInt16 {
        try start(host: host, port: port, secure: nil)
    }

    /// Like `start(host:port:)`, serving HTTPS with `tls` instead of plain HTTP.
    ///
    /// Throws `SimulatorError.tlsUnavailable` when this build has no OpenSSL.
    @discardableResult
    public func start(
        host: String = "127.0.0.1",
        port: UInt16 = 0,
        tls: TLSIdentity
    ) throws
        -> UInt16
    {
        try start(host: host, port: port, secure: try OpenSSLSupport.serverContext(tls))
    }

    /// Whether this build can serve HTTPS (it was built with OpenSSL).
    public static var supportsTLS: Bool { OpenSSLSupport.isAvailable }

    private func start(
        host: String,
        port: UInt16,
        secure: (any SecureChannelFactory)?
    ) throws(SimulatorError) -> UInt16 {
        try runtime.withLock { runtime throws(SimulatorError) in
            guard case .idle = runtime else { throw .alreadyStarted }
            runtime = .running(try launch(host: host, port: port, secure: secure))
        }
        return self.port
    }

    /// The port listened on, or 0 when not running.
    public var port: UInt16 {
        runtime.withLock { runtime in
            if case .running(let running) = runtime { return running.port }
            return 0
        }
    }

    /// `http://<host>:<port>` of the listener.
    public var baseURL: String {
        runtime.withLock { runtime in
            guard case .running(let running) = runtime else { return "http://127.0.0.1:0" }
            let scheme = running.secure ? "https" : "http"
            return "\(scheme)://\(Self.authority(host: running.host, port: running.port))"
        }
    }

    /// Every request answered so far, oldest first (the last million at most).
    public var requests: [RequestRecord] { log.records }

    /// Every session id the server has issued, oldest first.
    ///
    /// For tests that look for a sid in what a client wrote; empty before `start`.
    public var issuedSessionIDs: [String] { api?.state.sessionIDs().issued ?? [] }

    /// The issued session ids that were neither logged out nor found expired.
    public var openSessionIDs: [String] { api?.state.sessionIDs().open ?? [] }

    /// The `task-name` of every task started so far ("Export Management", …), oldest first.
    public var startedTaskNames: [String] { api?.state.allTasks().map(\.name) ?? [] }

    private var api: SimulatedAPI? { served.withLock { $0 } }

    /// Closes the listener and every connection and waits for the serving threads to end.
    ///
    /// Calling it again, or before `start`, does nothing.
    public func stop() {
        let previous = runtime.withLock { runtime in
            defer { if case .running = runtime { runtime = .stopped } }
            return runtime
        }
        guard case .running(let running) = previous else { return }
        for loop in running.loops { loop.requestStop() }
        for thread in running.threads { pthread_join(thread, nil) }
        close(running.listenerFD)
        log.close()
    }

    private func launch(
        host: String,
        port: UInt16,
        secure: (any SecureChannelFactory)?
    ) throws(SimulatorError) -> Running {
        if let logPath { try log.open(path: logPath) }
        let (listenerFD, boundPort) = try Socket.listen(host: host, port: port)
        let api = SimulatedAPI(
            scenario: scenario,
            log: log,
            clock: SimulationClock(timeScale: scenario.timeScale),
            endpoint: Self.authority(host: host, port: boundPort),
            scheme: secure == nil ? "http" : "https"
        )
        served.withLock { $0 = api }
        let counter = ConnectionCounter()
        var loops: [EventLoop] = []
        var threads: [pthread_t] = []
        do throws(SimulatorError) {
            for _ in 0..<max(1, settings.threads) {
                let loop = try EventLoop(
                    listenerFD: listenerFD,
                    responder: api,
                    settings: settings,
                    counter: counter,
                    secure: secure
                )
                loops.append(loop)
                threads.append(try Self.spawn(loop))
            }
        } catch {
            for loop in loops { loop.requestStop() }
            for thread in threads { pthread_join(thread, nil) }
            close(listenerFD)
            throw error
        }
        return Running(
            listenerFD: listenerFD,
            host: host,
            port: boundPort,
            loops: loops,
            threads: threads,
            secure: secure != nil
        )
    }

    private static func spawn(_ loop: EventLoop) throws(SimulatorError) -> pthread_t {
        var thread = pthread_t()
        let context = Unmanaged.passRetained(loop).toOpaque()
        let result = pthread_create(
            &thread,
            nil,
            { raw in
                // The pointer is the retained loop passed below; it is released here, once.
                guard let raw else { return nil }
                Unmanaged<EventLoop>.fromOpaque(raw).takeRetainedValue().run()
                return nil
            },
            context
        )
        guard result == 0 else {
            Unmanaged<EventLoop>.fromOpaque(context).release()
            throw .cannotListen(host: "", port: 0, reason: "pthread_create failed (\(result))")
        }
        return thread
    }

    private static func authority(host: String, port: UInt16) -> String {
        let literal = host == "localhost" ? "127.0.0.1" : host
        let bracketed = literal.contains(":") && !literal.hasPrefix("[") ? "[\(literal)]" : literal
        return "\(bracketed):\(port)"
    }
}
