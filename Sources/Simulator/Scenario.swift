import ChkflowCore

/// The kind of management server the simulator plays.
public enum ServerType: String, Sendable {
    /// A Security Management Server: one domain, "SMC User", beside "System Data".
    case singleServer = "single-server"
    /// A Multi-Domain Server: "System Data" plus the named domains of the scenario.
    case multiDomain = "multi-domain"
}

/// An administrator who may log in to the simulated server.
public struct SimulatedAdmin: Sendable, Equatable {
    /// The login name, sent as `user`.
    public var name: String
    /// The password, or nil when the admin logs in with an api-key only.
    public var password: String?
    /// The api-key, or nil when the admin logs in with a password only.
    public var apiKey: String?

    public init(name: String, password: String? = nil, apiKey: String? = nil) {
        self.name = name
        self.password = password
        self.apiKey = apiKey
    }
}

/// How a kind of server task behaves: how long it stays `in progress` and how it ends.
public struct TaskBehaviour: Sendable, Equatable {
    /// Simulated seconds between the start of the task and its end.
    public var duration: Double
    /// The status the task ends with.
    public var finalStatus: TaskStatus = .succeeded
    /// When set, the task never ends: it stays `in progress`, its progress stopped at this
    /// percentage once reached.
    public var hangAt: Int?
    /// Warning messages the task reports (a verification's warnings, for instance).
    public var warnings: [String] = []
    /// Blocking errors the task reports (what stops a real export after verification).
    public var blockingErrors: [String] = []
    /// When set, the `task-details` of the ended task, exactly; otherwise the simulator makes
    /// one entry of its own.
    public var taskDetails: [JSON]?

    public init(
        duration: Double,
        finalStatus: TaskStatus = .succeeded,
        hangAt: Int? = nil,
        warnings: [String] = [],
        blockingErrors: [String] = [],
        taskDetails: [JSON]? = nil
    ) {
        self.duration = duration
        self.finalStatus = finalStatus
        self.hangAt = hangAt
        self.warnings = warnings
        self.blockingErrors = blockingErrors
        self.taskDetails = taskDetails
    }
}

/// Limits a real server puts on API clients.
public struct RateLimits: Sendable, Equatable {
    /// Logins (login and login-to-domain) per admin and domain in any 60 simulated seconds.
    ///
    /// Real servers since R81 allow 3. Nil: no limit.
    public var loginsPerMinute: Int?
    /// Requests of any kind in any simulated second, counted over the whole server.
    ///
    /// Nil: no limit.
    public var requestsPerSecond: Int?

    public init(loginsPerMinute: Int? = nil, requestsPerSecond: Int? = nil) {
        self.loginsPerMinute = loginsPerMinute
        self.requestsPerSecond = requestsPerSecond
    }
}

/// Everything that makes one simulated server differ from another.
public struct Scenario: Sendable, Equatable {
    /// Single management server or Multi-Domain Server.
    public var serverType: ServerType = .singleServer
    /// The API version the server runs; unversioned paths get this version.
    public var apiVersion: String = "2.0.1"
    /// The administrators who may log in.
    public var admins: [SimulatedAdmin] = [
        SimulatedAdmin(name: "admin", password: "chkflow", apiKey: "chkflow-demo-key")
    ]
    /// Named domains of a Multi-Domain Server.
    ///
    /// "System Data" always exists, "Global" exists on a Multi-Domain Server, and "SMC User"
    /// on a single server.
    public var domains: [String] = []
    /// The idle timeout, in simulated seconds, of a session whose login does not set one.
    public var sessionTimeout: Int = 600
    /// The task that `export-management` with `pre-export-verification-only` starts.
    public var verification: TaskBehaviour = .init(duration: 1)
    /// The task that a real `export-management` starts.
    public var export: TaskBehaviour = .init(duration: 2)
    /// Simulated seconds per real second: 60 runs an hour-long export in a minute.
    public var timeScale: Double = 1
    /// The task that `import-management` starts (and its pre-import verification).
    public var importTask: TaskBehaviour = .init(duration: 2)
    /// The task that `publish` starts.
    public var publish: TaskBehaviour = .init(duration: 0.5)
    /// How many exports (not verifications) may run at once; nil: any number.
    public var exportsAtOnce: Int?
    /// Login and request rate limits; none by default.
    public var rateLimits = RateLimits()
    /// Faults to inject, checked in order; the first that matches a call applies.
    public var faults: [FaultRule] = []
    /// Simulated moments (seconds since start) at which every session open at that moment
    /// expires, as after a server restart.
    public var sessionsExpireAt: [Double] = []

    /// A single management server on API 2.0.1 with the admin `admin`, password `chkflow`,
    /// api-key `chkflow-demo-key`.
    public static let `default` = Scenario()

    public init() {}
}

extension Scenario {
    /// The domain a login without `domain` lands in.
    var defaultDomain: String {
        serverType == .multiDomain ? DomainName.systemData : DomainName.smcUser
    }

    /// Every domain a login may name on this server.
    var loginDomains: [String] {
        switch serverType {
        case .singleServer: [DomainName.smcUser, DomainName.systemData]
        case .multiDomain: [DomainName.systemData, DomainName.global] + domains
        }
    }

    /// The versions this server answers on versioned paths: every known version up to its own.
    var supportedVersions: [String] {
        guard let position = APIVersions.known.firstIndex(of: apiVersion) else {
            return APIVersions.known + [apiVersion]
        }
        return Array(APIVersions.known[...position])
    }
}

/// Names of the domains that exist on every server.
enum DomainName {
    static let systemData = "System Data"
    static let smcUser = "SMC User"
    static let global = "Global"
}

/// The API versions Check Point has published, oldest first (R80 to R82 JHF41).
enum APIVersions {
    static let known = [
        "1", "1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.6.1", "1.7", "1.7.1", "1.8", "1.8.1",
        "1.9",
        "1.9.1", "2", "2.0.1",
    ]
}
