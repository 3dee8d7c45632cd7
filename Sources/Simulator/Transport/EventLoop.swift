import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One serving thread with its own poll set.
///
/// Every loop watches the shared listening socket, accepts what it can, and serves the
/// connections it accepted until they close.
///
/// `@unchecked Sendable` is safe because the mutable state (`poller`, `connections`, `scratch`,
/// `nextDelayDue`, `lastSweep` and every `Connection`) is used only inside `run()`, on the
/// loop's own thread; other threads only call `requestStop()`, which uses an atomic and a
/// write to the wake-up pipe.
final class EventLoop: @unchecked Sendable {
    private let wakeReadFD: Int32
    private let wakeWriteFD: Int32
    private var poller = Poller()
    private let listenerFD: Int32
    private let responder: any HTTPResponder
    private let settings: TransportSettings
    private let counter: ConnectionCounter
    private let secure: (any SecureChannelFactory)?
    private let stopping = Atomic<Bool>(false)
    private let scratch: UnsafeMutableRawBufferPointer
    private var connections: [Int32: Connection] = [:]
    private var nextDelayDue = Double.infinity
    /// When this loop last produced a reply; see `TransportSettings.busyPoll`.
    private var lastReply = -Double.infinity
    private var lastSweep = 0.0
    private var acceptPausedUntil: Double?

    /// Replies stop being produced for a connection whose unwritten output exceeds this, until
    /// the client reads.
    private static let outputHighWater = 256 * 1024
    private static let sweepInterval = 0.5
    /// A `sched_yield()` that lasts longer than this let another thread run on the core.
    private static let yieldTaken = 0.00002
    private static let acceptPause = 0.1

    init(
        listenerFD: Int32,
        responder: any HTTPResponder,
        settings: TransportSettings,
        counter: ConnectionCounter,
        secure: (any SecureChannelFactory)? = nil
    ) throws(SimulatorError) {
        self.secure = secure
        self.listenerFD = listenerFD
        self.responder = responder
        self.settings = settings
        self.counter = counter
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            throw .cannotListen(
                host: "",
                port: 0,
                reason: "pipe: \(String(cString: strerror(errno)))"
            )
        }
        for fd in pipeFDs {
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeReadFD = pipeFDs[0]
        wakeWriteFD = pipeFDs[1]
        scratch = .allocate(byteCount: 64 * 1024, alignment: 16)
        poller.add(wakeReadFD, events: Poller.readable)
        poller.add(listenerFD, events: Poller.readable)
    }

    deinit {
        scratch.deallocate()
        close(wakeReadFD)
        close(wakeWriteFD)
    }

    /// Asks the loop to close its connections and return from `run()`; callable from any thread.
    func requestStop() {
        stopping.store(true, ordering: .releasing)
        var byte: UInt8 = 1
        _ = write(wakeWriteFD, &byte, 1)
    }

    /// Serves until `requestStop()`; then closes every connection of this loop.
    func run() {
        while !stopping.load(ordering: .acquiring) {
            let ready = nextEvents()
            let now = MonotonicClock.now()
            for (fd, events) in ready { handle(fd: fd, events: events, now: now) }
            runTimers(now: now)
        }
        for connection in Array(connections.values) { discard(connection) }
    }

    /// The ready descriptors, polled without sleeping for a while after a reply.
    ///
    /// Only while the loop serves a single connection: a client that waits for each reply
    /// before it sends its next request. One loop of the server at a time does so (two would
    /// take both cores of a small machine from the clients), and never a loop with more
    /// connections, which has other work coming in anyway and would only waste the core the
    /// other loop could use.
    ///
    /// Between two looks the loop offers its core to any other thread ready on it (a client on
    /// the same core then sends its next request at once), and when the offer was taken it
    /// stops polling and waits as usual, leaving the core to that thread.
    private func nextEvents() -> [(fd: Int32, events: Int16)] {
        let until = lastReply + settings.busyPoll
        guard connections.count == 1, MonotonicClock.now() < until, counter.claimBusyPoll()
        else {
            return poller.wait(milliseconds: waitMilliseconds())
        }
        defer { counter.releaseBusyPoll() }
        repeat {
            let ready = poller.wait(milliseconds: 0)
            if !ready.isEmpty { return ready }
            let offered = MonotonicClock.now()
            sched_yield()
            if MonotonicClock.now() - offered > Self.yieldTaken { break }
        } while MonotonicClock.now() < until && !stopping.load(ordering: .relaxed)
        return poller.wait(milliseconds: waitMilliseconds())
    }

    // MARK: - Events

    private func handle(fd: Int32, events: Int16, now: Double) {
        if fd == wakeReadFD {
            var bytes: (UInt64, UInt64) = (0, 0)
            _ = read(wakeReadFD, &bytes, MemoryLayout<(UInt64, UInt64)>.size)
        } else if fd == listenerFD {
            acceptPending(now: now)
        } else if let connection = connections[fd] {
            if events & Poller.writable != 0 { writable(connection, now: now) }
            if events & (Poller.readable | Poller.failed) != 0,
                connections[fd] === connection
            {
                readable(connection, now: now)
            }
        }
    }

    private func acceptPending(now: Double) {
        for _ in 0..<64 {
            switch Socket.accept(on: listenerFD) {
            case .connection(let fd):
                var channel: (any SecureChannel)?
                if let secure {
                    channel = secure.makeChannel(fd: fd)
                    guard channel != nil else {
                        close(fd)
                        continue
                    }
                }
                let connection = Connection(
                    fd: fd,
                    info: ConnectionInfo(id: counter.next()),
                    channel: channel,
                    now: now
                )
                connections[fd] = connection
                poller.add(fd, events: Poller.readable)
            case .none:
                return
            case .outOfDescriptors:
                // The pending connection stays queued; stop watching the listener for a moment
                // instead of spinning on it until descriptors are free again.
                poller.modify(listenerFD, events: 0)
                acceptPausedUntil = now + Self.acceptPause
                return
            }
        }
    }

    private func readable(_ connection: Connection, now: Double) {
        repeat {
            switch connection.receive(into: scratch) {
            case .wouldBlock:
                return
            case .closed:
                discard(connection)
                return
            case .bytes(let count):
                connection.lastActivity = now
                guard connection.lingerUntil == nil else { continue }
                connection.input.append(
                    contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<count])
                )
                if connection.requestStartedAt == nil { connection.requestStartedAt = now }
            }
            // Decrypted bytes left inside TLS do not wake poll, so they are read now.
        } while connection.channel?.hasBufferedInput == true
            && connection.input.count <= Self.inputHighWater(settings.limits)
        guard connection.lingerUntil == nil else { return }
        process(connection, now: now)
    }

    private func writable(_ connection: Connection, now: Double) {
        flush(connection)
        guard connections[connection.fd] === connection, connection.pendingOutputBytes == 0 else {
            return
        }
        if !connection.input.isEmpty { process(connection, now: now) }
    }

    // MARK: - Requests

    /// Answers every complete request in the connection's input, then writes what it can.
    private func process(_ connection: Connection, now: Double) {
        while connection.delayed == nil, !connection.closeAfterFlush,
            connection.pendingOutputBytes < Self.outputHighWater
        {
            let request: HTTPRequest
            do {
                guard let next = try nextRequest(from: connection, now: now) else { break }
                request = next
            } catch {
                reject(connection, error)
                break
            }
            guard dispatch(request, on: connection, now: now) else { return }
        }
        pauseReadsIfFlooded(connection)
        flush(connection)
    }

    private func nextRequest(
        from connection: Connection,
        now: Double
    ) throws(HTTPParseError) -> HTTPRequest? {
        let limits = settings.limits
        if connection.head == nil {
            let start = HTTPParser.skipEmptyLines(in: connection.input, from: 0)
            if start > 0 {
                connection.input.removeFirst(start)
                connection.headScanned = 0
            }
            guard !connection.input.isEmpty else {
                connection.requestStartedAt = nil
                return nil
            }
            let scanFrom = max(0, connection.headScanned - 3)
            guard let end = HTTPParser.headEnd(in: connection.input, from: scanFrom) else {
                if connection.input.count > limits.maximumHeadBytes {
                    throw Self.headTooLarge(limits)
                }
                connection.headScanned = connection.input.count
                if !connection.requestLineChecked {
                    connection.requestLineChecked = try HTTPParser.checkRequestLine(
                        in: connection.input
                    )
                }
                return nil
            }
            guard end <= limits.maximumHeadBytes else { throw Self.headTooLarge(limits) }
            connection.head = try HTTPParser.parseHead(
                connection.input,
                from: 0,
                to: end,
                limits: limits
            )
            connection.bodyStart = end
            connection.headScanned = 0
            connection.requestLineChecked = false
        }
        guard let head = connection.head else { return nil }
        let progress = try HTTPParser.body(
            head.framing,
            in: connection.input,
            from: connection.bodyStart,
            limits: limits
        )
        guard case .complete(let body, let end) = progress else {
            if head.expectsContinue, !connection.sentContinue {
                connection.output.append(contentsOf: HTTPResponse.continueBytes)
                connection.sentContinue = true
            }
            return nil
        }
        connection.input.removeFirst(end)
        connection.head = nil
        connection.sentContinue = false
        connection.requestStartedAt = connection.input.isEmpty ? nil : now
        return HTTPRequest(head: head, body: body)
    }

    private static func headTooLarge(_ limits: HTTPLimits) -> HTTPParseError {
        .tooLarge("request head larger than \(limits.maximumHeadBytes) bytes")
    }

    /// Hands a request to the responder; false when the connection was closed.
    private func dispatch(_ request: HTTPRequest, on connection: Connection, now: Double) -> Bool {
        switch responder.respond(to: request, on: connection.info) {
        case .drop:
            discard(connection)
            return false
        case .reply(let response, let delay, let close):
            lastReply = now
            let keepAlive = request.head.keepAlive && !close
            let bytes = response.serialized(keepAlive: keepAlive)
            if delay > 0 {
                connection.delayed = DelayedReply(
                    bytes: bytes,
                    due: now + delay,
                    closeAfter: !keepAlive
                )
                nextDelayDue = min(nextDelayDue, now + delay)
            } else {
                connection.output.append(contentsOf: bytes)
                connection.closeAfterFlush = !keepAlive
            }
            return true
        }
    }

    private func reject(_ connection: Connection, _ error: HTTPParseError) {
        let response = responder.reject(error, on: connection.info)
        connection.output.append(contentsOf: response.serialized(keepAlive: false))
        connection.closeAfterFlush = true
        connection.input = []
        connection.head = nil
    }

    // MARK: - Writing and closing

    private func flush(_ connection: Connection) {
        while connection.pendingOutputBytes > 0 {
            switch connection.send() {
            case .bytes(let count):
                connection.outputOffset += count
            case .wouldBlock:
                setWriteWatch(connection, true)
                return
            case .closed:
                discard(connection)
                return
            }
        }
        connection.output.removeAll(keepingCapacity: true)
        connection.outputOffset = 0
        setWriteWatch(connection, false)
        if connection.closeAfterFlush, connection.lingerUntil == nil { linger(connection) }
    }

    /// Half-closes after the last reply and keeps reading for a moment, so that a client still
    /// sending its (rejected) request reads the reply instead of a reset.
    private func linger(_ connection: Connection) {
        connection.channel?.closeNotify()
        shutdown(connection.fd, Int32(SHUT_WR))
        connection.lingerUntil = MonotonicClock.now() + settings.lingerTime
        connection.input = []
    }

    private func discard(_ connection: Connection) {
        guard connections[connection.fd] === connection else { return }
        connections[connection.fd] = nil
        poller.remove(connection.fd)
        close(connection.fd)
    }

    private func setWriteWatch(_ connection: Connection, _ enabled: Bool) {
        guard connection.watchesWrites != enabled else { return }
        connection.watchesWrites = enabled
        updateInterest(connection)
    }

    /// Stops reading from a client whose unprocessed input has grown past what one request may
    /// be (it sends while a reply is held back or not read), and starts again once it shrinks.
    private func pauseReadsIfFlooded(_ connection: Connection) {
        let flooded = connection.input.count > Self.inputHighWater(settings.limits)
        guard connection.readsPaused != flooded else { return }
        connection.readsPaused = flooded
        updateInterest(connection)
    }

    private func updateInterest(_ connection: Connection) {
        guard connections[connection.fd] === connection else { return }
        let events =
            (connection.readsPaused ? 0 : Poller.readable)
            | (connection.watchesWrites ? Poller.writable : 0)
        poller.modify(connection.fd, events: events)
    }

    private static func inputHighWater(_ limits: HTTPLimits) -> Int {
        limits.maximumHeadBytes + limits.maximumBodyBytes + 64 * 1024
    }

    // MARK: - Timers

    private func waitMilliseconds() -> Int32 {
        let now = MonotonicClock.now()
        let untilDelay = nextDelayDue - now
        let untilSweep = lastSweep + Self.sweepInterval - now
        let untilAccept = (acceptPausedUntil ?? .infinity) - now
        let wait = max(0, min(untilDelay, untilSweep, untilAccept))
        return Int32((wait * 1000).rounded(.up))
    }

    private func runTimers(now: Double) {
        if now >= nextDelayDue { releaseDelayedReplies(now: now) }
        if let until = acceptPausedUntil, now >= until {
            acceptPausedUntil = nil
            poller.modify(listenerFD, events: Poller.readable)
        }
        guard now - lastSweep >= Self.sweepInterval else { return }
        lastSweep = now
        for connection in Array(connections.values) where isOverdue(connection, now: now) {
            discard(connection)
        }
    }

    private func releaseDelayedReplies(now: Double) {
        nextDelayDue = .infinity
        for connection in Array(connections.values) {
            guard let delayed = connection.delayed else { continue }
            guard delayed.due <= now else {
                nextDelayDue = min(nextDelayDue, delayed.due)
                continue
            }
            connection.delayed = nil
            connection.output.append(contentsOf: delayed.bytes)
            connection.closeAfterFlush = delayed.closeAfter
            process(connection, now: now)
        }
    }

    /// Whether a connection has lingered, dawdled over a request, or idled too long.
    private func isOverdue(_ connection: Connection, now: Double) -> Bool {
        if let lingerUntil = connection.lingerUntil { return now >= lingerUntil }
        if let started = connection.requestStartedAt, connection.delayed == nil {
            return now - started > settings.requestTimeout
        }
        let idle = connection.delayed == nil && connection.pendingOutputBytes == 0
        return idle && now - connection.lastActivity > settings.idleTimeout
    }
}

/// What the loops of one server share: the numbering of connections from 1, and which loop
/// may poll without sleeping.
final class ConnectionCounter: Sendable {
    private let last = Atomic<Int>(0)
    private let busyPolling = Atomic<Bool>(false)

    func next() -> Int { last.add(1, ordering: .relaxed).newValue }

    func claimBusyPoll() -> Bool {
        busyPolling.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
    }

    func releaseBusyPoll() { busyPolling.store(false, ordering: .releasing) }
}
