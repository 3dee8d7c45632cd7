import ChkflowCore
import ManagementAPI

/// What the engine needs of a session with a management server.
///
/// ``Session`` (libcurl, a real server or the simulator) is the one chkflow runs with; tests
/// and benchmarks put an in-memory connection in its place through
/// ``RunOptions/connectionFactory``.
public protocol Connection: Sendable {
    func login(_ credentials: Credentials, options: LoginOptions) async throws -> JSON
    func call(_ command: String, _ body: JSON) async throws -> JSON
    func showTasks(_ ids: [String]) async throws -> [TaskInfo]
    func waitForTask(
        _ id: String,
        timeout: Double?,
        onProgress: @escaping @Sendable (TaskInfo) -> Void
    ) async throws -> TaskInfo
    /// Logs in again with the credentials of the first login.
    func loginAgain() async throws
    func logout() async throws
    var isLoggedIn: Bool { get async }
    /// The administrator the session logged in as, when known.
    var administrator: String? { get async }
    var statistics: CallStatistics { get async }
}

extension Session: Connection {}

/// Makes the connection a login step opens, paced by the rate budget of its server, admin and
/// domain.
public typealias ConnectionFactory =
    @Sendable (Endpoint, _ userAgent: String, _ budget: RateBudget) -> any Connection
