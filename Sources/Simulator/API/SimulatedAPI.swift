import ChkflowCore

/// The management API itself: routes `POST /web_api/[v<version>/]<command>`, applies faults
/// and rate limits, checks the session, runs the command against the shared state, and logs
/// every reply.
final class SimulatedAPI: HTTPResponder {
    let scenario: Scenario
    let state: SimulatorState
    let log: RequestLog
    let clock: SimulationClock
    let faults: FaultInjector
    let limiter: RateLimiter
    /// `host:port` of the listener, echoed in login replies when a request has no Host field.
    let endpoint: String
    /// `http` or `https`, for the same echo.
    let scheme: String

    init(
        scenario: Scenario,
        log: RequestLog,
        clock: SimulationClock,
        endpoint: String,
        scheme: String = "http"
    ) {
        self.scenario = scenario
        self.log = log
        self.clock = clock
        self.endpoint = endpoint
        self.scheme = scheme
        state = SimulatorState(expiryMoments: scenario.sessionsExpireAt)
        faults = FaultInjector(rules: scenario.faults)
        limiter = RateLimiter(limits: scenario.rateLimits)
    }

    /// What one call needs from the request besides its command.
    struct Call {
        var version: String?
        var parameters: [String: JSON]
        var session: Session?
        var host: String
        var now: Double
    }

    /// What the log records about a call beyond its reply.
    private struct Trace {
        var command = ""
        var sessionHash: String?
    }

    /// How a reply leaves: at once, later, at once and then closing, held for ever, or not at
    /// all.
    private enum Delivery {
        case now
        case after(Double)
        case closing
        case held
        case never

        var isNever: Bool {
            switch self {
            case .never, .held: true
            default: false
            }
        }
    }

    /// How long a reply that never comes is held: longer than any client waits.
    private static let heldSeconds = 1e9

    func respond(to request: HTTPRequest, on connection: ConnectionInfo) -> ResponderOutcome {
        let path = String(request.head.target.prefix { $0 != "?" })
        var trace = Trace()
        var delivery = Delivery.now
        var response: HTTPResponse
        var code: String?
        do throws(APIError) {
            response = try handle(request, path: path, trace: &trace, delivery: &delivery)
        } catch {
            response = HTTPResponse(status: error.status, body: error.body.serializedBytes())
            code = error.code
            if error.status == 405 { response.extraFields.append(("Allow", "POST")) }
        }
        if delivery.isNever { code = nil }
        let record = RequestRecord(
            time: clock.realElapsed(),
            connection: connection.id,
            path: path,
            command: trace.command,
            status: delivery.isNever ? 0 : response.status,
            code: code,
            session: trace.sessionHash
        )
        log.append(record, method: request.head.method)
        switch delivery {
        case .now: return .reply(response, delay: 0, close: false)
        case .after(let seconds): return .reply(response, delay: seconds, close: false)
        case .closing: return .reply(response, delay: 0, close: true)
        case .held: return .reply(response, delay: Self.heldSeconds, close: true)
        case .never: return .drop
        }
    }

    func reject(_ error: HTTPParseError, on connection: ConnectionInfo) -> HTTPResponse {
        let code = error.status == 400 ? "generic_err_invalid_syntax" : "generic_error"
        let body: JSON = ["code": .string(code), "message": .string(error.reason)]
        let record = RequestRecord(
            time: clock.realElapsed(),
            connection: connection.id,
            path: "",
            command: "",
            status: error.status,
            code: code
        )
        log.append(record, method: "")
        return HTTPResponse(status: error.status, body: body.serializedBytes())
    }

    // MARK: - Routing

    private func handle(
        _ request: HTTPRequest,
        path: String,
        trace: inout Trace,
        delivery: inout Delivery
    ) throws(APIError) -> HTTPResponse {
        let route = Route(path: path)
        trace.command = route?.command ?? ""
        guard request.head.method == "POST" else { throw .methodNotAllowed(request.head.method) }
        guard let route else { throw .badURL(path) }

        let action = faults.action(for: route.command)
        switch action {
        case .error(let status, let code, let message):
            throw APIError(status: status, code: code, message: message)
        case .nonJSONForbidden:
            return HTTPResponse(status: 403, body: Self.forbiddenPage, contentType: "text/html")
        case .dropBeforeRead:
            delivery = .never
            return HTTPResponse(status: 0, body: [])
        case .dropAfterRead:
            delivery = .never
        case .slowReply(let seconds):
            delivery = .after(seconds)
        case .neverAnswer:
            delivery = .held
            return HTTPResponse(status: 0, body: [])
        case .hugeReply, .truncatedReply, .nonJSONReply, .wrongShape, .taskGoesBackwards:
            break
        case nil:
            break
        }

        guard let action, !Self.isPlain(action) else {
            let body = try run(request, route: route, trace: &trace)
            return HTTPResponse(status: 200, body: body.serializedBytes())
        }
        let body = Self.runsCommand(action) ? try run(request, route: route, trace: &trace) : [:]
        let (response, close) = Self.hostileReply(action, to: body)
        if close { delivery = .closing }
        return response
    }

    private func run(
        _ request: HTTPRequest,
        route: Route,
        trace: inout Trace
    ) throws(APIError) -> JSON {
        try checkVersion(route)
        guard let command = Command(rawValue: route.command) else {
            throw .commandNotFound(route.command)
        }
        try checkAvailability(of: command, in: route)
        guard limiter.admitRequest(at: clock.now()) else { throw .tooManyRequests }

        var session: Session?
        if command != .login {
            guard let sid = request.head.value(of: "X-chkp-sid"), !sid.isEmpty else {
                throw .missingSession
            }
            do throws(APIError) {
                session = try state.use(sid: sid, at: clock.now())
                trace.sessionHash = session?.hash
            } catch {
                trace.sessionHash = Identifiers.sessionHash(sid)
                throw error
            }
        }
        let call = Call(
            version: route.version,
            parameters: try Self.parameters(from: request.body),
            session: session,
            host: Self.hostField(of: request.head) ?? endpoint,
            now: clock.now()
        )
        let reply = try perform(command, call)
        if command == .login || command == .loginToDomain, let sid = reply["sid"]?.stringValue {
            trace.sessionHash = Identifiers.sessionHash(sid)
        }
        return reply
    }

    private func perform(_ command: Command, _ call: Call) throws(APIError) -> JSON {
        switch command {
        case .login: try login(call)
        case .loginToDomain: try loginToDomain(call)
        case .logout: try logout(call)
        case .keepalive: try keepalive(call)
        case .showSession: try showSession(call)
        case .setSession: try setSession(call)
        case .publish: try publish(call)
        case .discard: try discard(call)
        case .showAPIVersions: try showAPIVersions(call)
        case .showDomains: try showDomains(call)
        case .exportManagement: try exportManagement(call)
        case .importManagement: try importManagement(call)
        case .showTask: try showTask(call)
        case .showTasks: try showTasks(call)
        }
    }

    private func checkVersion(_ route: Route) throws(APIError) {
        guard let version = route.version else { return }
        guard scenario.supportedVersions.contains(version) else {
            throw APIError(
                status: 400,
                code: "err_unknown_api_version",
                message: "Unknown API version: \(version)"
            )
        }
    }

    /// Commands newer than the version asked for (or than the server) do not exist there.
    private func checkAvailability(of command: Command, in route: Route) throws(APIError) {
        guard let introduced = command.introducedIn,
            let needed = APIVersions.known.firstIndex(of: introduced)
        else { return }
        let version = route.version ?? scenario.apiVersion
        guard let asked = APIVersions.known.firstIndex(of: version), asked < needed else { return }
        guard route.version != nil else { throw .commandNotFound(route.command) }
        throw APIError(
            status: 404,
            code: "generic_err_command_version_not_found",
            message: "Command \(route.command) is not available in API version \(version)"
        )
    }

    private static func parameters(from body: [UInt8]) throws(APIError) -> [String: JSON] {
        let blank = body.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        guard !blank else { return [:] }
        let value: JSON
        do {
            value = try JSON.parse(body)
        } catch {
            throw APIError(
                status: 400,
                code: "generic_err_invalid_syntax",
                message: "Request body is not valid JSON: \(error.description)"
            )
        }
        guard case .object(let members) = value else {
            throw APIError(
                status: 400,
                code: "generic_err_invalid_syntax",
                message: "Request body must be a JSON object"
            )
        }
        return members
    }

    /// The Host field when it looks like `host[:port]`, for echoing in login replies.
    private static func hostField(of head: HTTPHead) -> String? {
        guard let host = head.value(of: "Host"), !host.isEmpty, host.utf8.count <= 255,
            host.utf8.allSatisfy({ ASCII.isVisible($0) && $0 != ASCII.slash })
        else { return nil }
        return host
    }

    /// Whether a fault leaves the reply as the command makes it.
    private static func isPlain(_ action: FaultAction) -> Bool {
        switch action {
        case .slowReply, .dropAfterRead: true
        default: false
        }
    }

    /// What a management server sends to a client whose address its API settings refuse: an
    /// HTML page, not JSON.
    static let forbiddenPage = Array(
        """
        <html><head><title>403 Forbidden</title></head>\
        <body><h1>Forbidden</h1><p>Access denied.</p></body></html>
        """.utf8
    )
}

/// The commands the simulator answers.
enum Command: String, Sendable {
    case login
    case loginToDomain = "login-to-domain"
    case logout
    case keepalive
    case showSession = "show-session"
    case setSession = "set-session"
    case publish
    case discard
    case showAPIVersions = "show-api-versions"
    case showDomains = "show-domains"
    case exportManagement = "export-management"
    case importManagement = "import-management"
    case showTask = "show-task"
    case showTasks = "show-tasks"

    /// The API version that introduced the command, when later than the first.
    var introducedIn: String? {
        switch self {
        case .exportManagement, .importManagement: "1.8"
        default: nil
        }
    }
}

/// A parsed `/web_api/[v<version>/]<command>` path.
struct Route {
    var version: String?
    var command: String

    init?(path: String) {
        let prefix = "/web_api/"
        guard path.hasPrefix(prefix) else { return nil }
        let segments = path.dropFirst(prefix.count).split(
            separator: "/",
            omittingEmptySubsequences: false
        )
        switch segments.count {
        case 1:
            command = String(segments[0])
        case 2 where segments[0].first == "v" && segments[0].count > 1:
            version = String(segments[0].dropFirst())
            command = String(segments[1])
        default:
            return nil
        }
        guard !command.isEmpty else { return nil }
    }
}

extension APIError {
    static func methodNotAllowed(_ method: String) -> APIError {
        APIError(
            status: 405,
            code: "generic_error",
            message: "Method \(method) is not allowed: the management API accepts POST only"
        )
    }

    static func badURL(_ path: String) -> APIError {
        APIError(status: 404, code: "err_bad_url", message: "Bad URL: \(path)")
    }
}
