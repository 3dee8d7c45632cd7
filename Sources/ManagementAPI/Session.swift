import ChkflowCore

/// Counts of what a session sent, for reports and benchmarks.
public struct CallStatistics: Sendable, Equatable {
    /// HTTP requests sent, logins and logouts included.
    public var calls: Int = 0
    /// Successful logins, first and repeated.
    public var logins: Int = 0
    /// TCP connections opened (libcurl's `CURLINFO_NUM_CONNECTS`, summed over the requests).
    public var connections: Int = 0

    public init(calls: Int = 0, logins: Int = 0, connections: Int = 0) {
        self.calls = calls
        self.logins = logins
        self.connections = connections
    }
}

/// One session with one management server: login, calls, task waits and logout over a single
/// kept-alive connection.
///
/// Calls on one session go out one at a time, in the order they were made. A call that meets a
/// session error (`generic_err_session_expired`, `generic_err_wrong_session_id`,
/// `generic_err_missing_session_id`) logs in once more with the same credentials and sends the
/// same request again: the server refused the first one without acting on it, so this is safe
/// for once-only commands too.
public actor Session {
    /// The User-Agent sent when the caller names none.
    public static let defaultUserAgent = "chkflow/0.1.0"

    /// Commands that start work on the server and must not be sent twice by accident.
    ///
    /// They go out on a fresh connection so that libcurl never re-sends them on its own.
    public static let onceOnlyCommands: Set<String> = [
        "export-management", "import-management", "publish", "install-policy",
        "install-database", "run-script",
    ]

    public nonisolated let endpoint: Endpoint
    private let userAgent: String
    let clock: any APIClock
    /// The rate budget this session draws on, shared with the run's other sessions.
    public nonisolated let budget: RateBudget?
    private var transport: CurlTransport?
    /// The thread that sends this session's requests; see ``transferExecutor``.
    private nonisolated let thread: TransferThread
    private var address: ServerAddress?
    private var sessionID: String?
    private var credentials: Credentials?
    private var loginOptions = LoginOptions()
    private var relogin: Task<Void, any Error>?
    /// Counts the session ids this session has held, so that a refused request can tell
    /// whether the id it was sent with has been renewed since.
    private var generation = 0

    /// The API version the server reported at login, such as `2.0.1`.
    public private(set) var apiServerVersion: String?
    public private(set) var statistics = CallStatistics()

    public var isLoggedIn: Bool { sessionID != nil }

    /// The administrator the session logged in as; nil for an api-key login, whose name the
    /// login reply does not always give.
    public var administrator: String? {
        if case .password(let user, _)? = credentials { return user }
        return nil
    }

    /// The idle timeout the server gave the session at login (`session-timeout`, seconds).
    public private(set) var sessionTimeout: Int?
    private var lastRequest: Double?
    /// When each task this session started was started, on its clock (see `noteTasks`).
    var taskOrigins: [String: ClosedRange<Double>] = [:]
    /// What kind of request started each task in `taskOrigins` (see `noteTasks`), until a
    /// poll sees the task end.
    var taskKinds: [String: String] = [:]
    /// When a poll last saw each task of `taskKinds` still running: when it went out.
    var lastSeenRunning: [String: Double] = [:]
    /// The earliest and latest end of each task of `taskKinds` that its progress allows.
    var estimatedEnds: [String: ClosedRange<Double>] = [:]
    /// How long the tasks of each kind took, as this session's polls saw them end.
    var taskDurations: [String: TaskDurations] = [:]
    /// When the waits of this session plan to poll their tasks next, by task-id.
    var plannedPolls: [String: Double] = [:]
    /// The latest show-task entry any wait of this session read of a task, and when.
    var lastPolled: [String: (info: TaskInfo, time: Double)] = [:]
    /// The pauses of waits between polls, by task-id, so that a poll of another wait that sees
    /// the task end can wake its wait at once.
    var pausedWaits: [String: Task<Void, any Error>] = [:]
    /// How many show-task requests on their way ask for each task.
    var pollsInFlight: [String: Int] = [:]

    /// Seconds since the last request of this session went out (0 before the first).
    public var idleSeconds: Double { lastRequest.map { clock.now() - $0 } ?? 0 }

    /// Sends `keepalive` when the session has been idle for a third of its timeout, so that
    /// a caller waiting for something other than a task (a retry pause, the change window)
    /// can keep the session from expiring; returns whether it sent one.
    @discardableResult
    public func keepaliveIfIdle() async throws -> Bool {
        guard isLoggedIn, idleSeconds >= Double(sessionTimeout ?? 600) / 3 else { return false }
        try await keepalive()
        return true
    }

    /// The executor of the thread that sends this session's requests and reads the replies.
    ///
    /// Code that makes calls on this session runs fastest with it as its task executor
    /// preference (`withTaskExecutorPreference(session.transferExecutor) { … }`): the session
    /// and the caller then run on that thread, and each reply resumes them there without waking
    /// another thread. The thread is not one of Swift's cooperative threads, so the calls stay
    /// free to block in libcurl; without the preference, everything works the same, with two
    /// thread hand-overs per call.
    public nonisolated var transferExecutor: any TaskExecutor { thread }

    public init(endpoint: Endpoint, userAgent: String = Session.defaultUserAgent) {
        self.init(endpoint: endpoint, userAgent: userAgent, budget: nil)
    }

    /// A session that paces its requests and logins by a budget shared with other sessions,
    /// and whose task waits sleep on the given clock (tests pass one they control).
    ///
    /// With `thread`, the session sends its requests from that thread (see ``SessionThread``)
    /// instead of one of its own.
    public init(
        endpoint: Endpoint,
        userAgent: String = Session.defaultUserAgent,
        budget: RateBudget?,
        clock: any APIClock = SystemClock(),
        thread: SessionThread? = nil
    ) {
        self.endpoint = endpoint
        self.userAgent = userAgent
        self.budget = budget
        self.clock = clock
        self.thread = thread?.thread ?? TransferThread()
    }

    deinit { thread.stop() }

    // MARK: - Login and logout

    /// Logs in and returns the login reply without its `sid`; throws ``APIError``.
    public func login(
        _ credentials: Credentials,
        options: LoginOptions = .init()
    ) async throws
        -> JSON
    {
        let reply = try await sendLogin(credentials, options)
        self.credentials = credentials
        loginOptions = options
        return reply
    }

    private func sendLogin(_ credentials: Credentials, _ options: LoginOptions) async throws -> JSON
    {
        var body: [String: JSON] = [:]
        switch credentials {
        case .password(let user, let password):
            body["user"] = .string(user)
            body["password"] = .string(password)
        case .apiKey(let key):
            body["api-key"] = .string(key)
        }
        if let domain = options.domain { body["domain"] = .string(domain) }
        if options.readOnly { body["read-only"] = true }
        if let name = options.sessionName { body["session-name"] = .string(name) }
        if let timeout = options.sessionTimeout { body["session-timeout"] = .int(Int64(timeout)) }
        let reply = try await exchange("login", .object(body), withSession: false)
        return try adopt(reply, from: "login")
    }

    /// Takes the session id out of a login-shaped reply and keeps it.
    private func adopt(_ reply: JSON, from command: String) throws -> JSON {
        guard var members = reply.objectValue, let sid = members["sid"]?.stringValue, !sid.isEmpty
        else {
            throw APIError.invalidReply(command, status: 200, "the reply has no session id (sid)")
        }
        members["sid"] = nil
        sessionID = sid
        generation += 1
        apiServerVersion = members["api-server-version"]?.stringValue ?? apiServerVersion
        sessionTimeout = members["session-timeout"]?.intValue.map { Int($0) } ?? sessionTimeout
        statistics.logins += 1
        return .object(members)
    }

    /// Moves the session into another domain with `login-to-domain` (from a System Data
    /// session); later re-logins go straight to that domain.
    public func loginToDomain(_ domain: String) async throws -> JSON {
        let reply = try await call("login-to-domain", ["domain": .string(domain)])
        let previous = sessionID
        let result = try adopt(reply, from: "login-to-domain")
        loginOptions.domain = domain
        if let previous { _ = try? await exchange("logout", [:], withSession: true, sid: previous) }
        return result
    }

    /// Logs out; a session the server has already dropped counts as logged out.
    public func logout() async throws {
        guard sessionID != nil else { return }
        do {
            _ = try await exchange("logout", [:], withSession: true)
        } catch is SessionRefusal {
            // The server no longer knows the session: it is closed all the same.
        }
        // Only a logout the server answered closes the session; after a cancelled or failed
        // one the session stays open here, so that the run's clean-up can try again.
        sessionID = nil
        credentials = nil
    }

    /// Keeps an idle session alive.
    public func keepalive() async throws { _ = try await call("keepalive") }

    // MARK: - Calls

    /// Sends one command with a JSON object body and returns the reply; throws ``APIError`` or
    /// `CancellationError`.
    public func call(_ command: String, _ body: JSON = [:]) async throws -> JSON {
        do {
            return try await exchange(command, body, withSession: true)
        } catch let refusal as SessionRefusal {
            guard credentials != nil, command != "logout" else { throw refusal.error }
            try await renewSession(after: refusal.generation)
            do {
                return try await exchange(command, body, withSession: true)
            } catch let again as SessionRefusal {
                throw again.error
            }
        }
    }

    /// Logs in again with the same credentials and options, as an `on-error: relogin` rule asks;
    /// the old session is left to expire (it may be the one the server no longer accepts).
    public func loginAgain() async throws {
        try await renewSession(after: generation)
    }

    /// Logs in again unless another call already did so since the refused request was sent;
    /// calls that meet the same expiry together share one login.
    private func renewSession(after failedGeneration: Int) async throws {
        if let relogin { return try await relogin.value }
        guard generation == failedGeneration, let credentials else { return }
        let options = loginOptions
        let attempt = Task { _ = try await self.sendLogin(credentials, options) }
        relogin = attempt
        defer { relogin = nil }
        try await attempt.value
    }

    /// One request and its reply, with statistics and errors in the shape the caller sees.
    func exchange(
        _ command: String,
        _ body: JSON,
        withSession: Bool,
        sid explicitSID: String? = nil
    )
        async throws -> JSON
    {
        let transport = try readyTransport(for: command)
        guard body.objectValue != nil else {
            throw APIError.usage(command, "the request body must be a JSON object")
        }
        let reply: HTTPReply
        var sent: ClosedRange<Double>?
        var reservation: LoginReservation?
        var usedSID: String?
        var usedGeneration = generation
        do {
            reservation = try await waitForBudget(command)
            // The session id is read after the waits: another call may have renewed it.
            usedSID = explicitSID ?? sessionID
            usedGeneration = generation
            statistics.calls += 1
            let sentAt = clock.now()
            lastRequest = sentAt
            reply = try await transport.post(
                request(command, body, sid: withSession ? usedSID : nil)
            )
            sent = sentAt...clock.now()
            await finish(reservation)
        } catch let failure as TransportFailure {
            await finish(reservation)
            // Only the post throws this: a request refused before it left (no connection, a
            // certificate that does not match) was never sent.
            if !failure.requestMayHaveReachedServer { statistics.calls -= 1 }
            throw APIError(
                kind: failure.kind,
                command: command,
                message: failure.message,
                requestMayHaveReachedServer: failure.requestMayHaveReachedServer
            )
        } catch {
            await finish(reservation)
            throw error
        }
        statistics.connections += reply.newConnections
        do {
            let decoded = try decode(reply, command: command, sid: usedSID)
            if let sent { noteTasks(startedBy: decoded, request: (command, body), during: sent) }
            return decoded
        } catch let error as APIError where error.code == "err_too_many_requests" {
            await budget?.recordTooManyRequests(duringLogin: Self.loginCommands.contains(command))
            throw error
        } catch let error as APIError where error.isSessionError && withSession {
            throw SessionRefusal(error: error, generation: usedGeneration)
        }
    }

    /// Remembers when the tasks a reply names were started (between the request going out and
    /// its reply), so that waits for them can tell how far along they are from the first poll,
    /// and what kind of request started them: the command and the names of its parameters, so
    /// that the exports of twenty domains count as one kind and a verification-only export as
    /// another.
    private func noteTasks(
        startedBy reply: JSON,
        request: (command: String, body: JSON),
        during sent: ClosedRange<Double>
    ) {
        var ids = reply["task-id"]?.stringValue.map { [$0] } ?? []
        ids += (reply["tasks"]?.arrayValue ?? []).compactMap { $0["task-id"]?.stringValue }
        guard !ids.isEmpty, reply["tasks"]?.arrayValue?.first?["status"] == nil else { return }
        if taskOrigins.count > 10_000 {
            taskOrigins.removeAll()
            taskKinds.removeAll()
            lastSeenRunning.removeAll()
            estimatedEnds.removeAll()
        }
        let names = request.body.objectValue.map { $0.keys.sorted() } ?? []
        let kind = request.command + "(" + names.joined(separator: ",") + ")"
        for id in ids {
            taskOrigins[id] = sent
            taskKinds[id] = kind
        }
    }

    private func request(_ command: String, _ body: JSON, sid: String?) -> HTTPRequest {
        var headers = ["Content-Type: application/json", "Accept: application/json", "Expect:"]
        if let sid { headers.append("X-chkp-sid: " + sid) }
        return HTTPRequest(
            url: (address?.base ?? "") + "/web_api/" + command,
            body: body.serializedBytes(),
            headers: headers,
            freshConnection: Self.onceOnlyCommands.contains(command)
        )
    }

    /// Commands that open a session and count against the login budget.
    static let loginCommands: Set<String> = ["login", "login-to-domain"]

    private func finish(_ reservation: LoginReservation?) async {
        if let reservation { await budget?.loginFinished(reservation) }
    }

    /// Waits for the budget's slot; returns the login's reservation for a login command.
    private func waitForBudget(_ command: String) async throws -> LoginReservation? {
        guard let budget else { return nil }
        var reservation: LoginReservation?
        if Self.loginCommands.contains(command) { reservation = try await budget.acquireLogin() }
        try await budget.acquireRequest()
        return reservation
    }

    private func decode(_ reply: HTTPReply, command: String, sid: String?) throws -> JSON {
        guard reply.status == 200 else {
            throw APIError.fromReply(command: command, status: reply.status, body: reply.body)
                .redacting(sid)
        }
        guard let json = try? JSON.parse(reply.body), json.objectValue != nil else {
            throw APIError.invalidReply(command, status: 200, "the reply is not a JSON object")
        }
        return json
    }

    /// The transport, made on first use once the endpoint has been checked.
    private func readyTransport(for command: String) throws -> CurlTransport {
        guard !command.isEmpty, command.utf8.allSatisfy(Self.isCommandByte) else {
            throw APIError.usage(command, "\"\(command)\" is not a management API command name")
        }
        if let transport { return transport }
        let address: ServerAddress
        switch ServerAddress.parse(endpoint.url) {
        case .success(let parsed): address = parsed
        case .failure(let error): throw APIError.usage(command, error.message)
        }
        guard address.isHTTPS || address.isLoopback else {
            throw APIError.usage(
                command,
                "plain http:// is accepted only for this machine (127.0.0.1, ::1, localhost);"
                    + " use https:// for \(address.host)"
            )
        }
        var pin: CertificatePin?
        if case .fingerprint(let text) = endpoint.tls, address.isHTTPS {
            guard let parsed = CertificatePin(text) else {
                throw APIError.usage(command, CertificatePin.formatMessage)
            }
            pin = parsed
        }
        let settings = TransportSettings(
            tls: endpoint.tls,
            connectTimeout: endpoint.connectTimeout,
            requestTimeout: endpoint.requestTimeout,
            userAgent: userAgent,
            noProxy: address.isLoopback,
            pin: pin
        )
        guard let made = CurlTransport(settings: settings, thread: thread) else {
            throw APIError.usage(command, "libcurl could not be initialised")
        }
        self.address = address
        transport = made
        return made
    }
}

extension Session {
    /// Whether a byte may be part of a command name: an ASCII letter, digit or `-`.
    fileprivate static func isCommandByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}

/// A request refused with a session error, and which session id generation it was sent with.
struct SessionRefusal: Error {
    var error: APIError
    var generation: Int
}
