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
    func logout() async throws
    var isLoggedIn: Bool { get async }
    var statistics: CallStatistics { get async }
}

extension Session: Connection {}

/// Makes the connection a login step opens.
public typealias ConnectionFactory = @Sendable (Endpoint, _ userAgent: String) -> any Connection
