import ChkflowCore
import ManagementAPI
import Playbook

/// How a step ended.
public enum StepStatus: String, Sendable, Codable {
    case succeeded
    case failed
    /// Its condition was false, or a step it depends on did not succeed.
    case skipped
    /// The change window had no room for it; it was never started.
    case refused
    case timedOut = "timed-out"
    case cancelled
    /// It failed, and an `on-error` rule said to continue.
    case ignored

    /// Whether the run as a whole fails because of this status.
    public var failsRun: Bool {
        switch self {
        case .failed, .refused, .timedOut: true
        default: false
        }
    }
}

/// An API failure as the report keeps it: never a session id, never a secret.
public struct ErrorSummary: Sendable, Equatable {
    public var code: String?
    public var httpStatus: Int?
    public var message: String
    public var errors: [String] = []
    public var warnings: [String] = []
    public var blockingErrors: [String] = []

    public init(message: String, code: String? = nil, httpStatus: Int? = nil) {
        self.message = message
        self.code = code
        self.httpStatus = httpStatus
    }

    init(_ error: APIError) {
        self.init(message: error.message, code: error.code, httpStatus: error.httpStatus)
        errors = error.errors
        warnings = error.warnings
        blockingErrors = error.blockingErrors
    }
}

/// One try of a step's request.
public struct Attempt: Sendable {
    public var number: Int
    public var started: Double
    public var ended: Double
    public var error: ErrorSummary?
    /// Seconds waited before the next attempt, if there was one.
    public var waitBefore: Double?
    /// Whether the attempt ran out of the step's `attempt-timeout` and was given up.
    public var timedOut = false
}

/// The outcome of one step.
public struct StepResult: Sendable {
    public var id: String
    public var kind: String
    public var status: StepStatus
    public var reason: String?
    public var started: Double?
    public var ended: Double?
    public var attempts: [Attempt] = []
    public var taskID: String?
    public var task: TaskInfo?
    /// What later expressions see as `steps.<id>.…` (besides `status`).
    public var outputs: [String: JSON] = [:]
    public var error: ErrorSummary?
    /// The items of a `for-each` step, each with its own steps.
    public var items: [ItemResult] = []

    public var duration: Double? {
        guard let started, let ended else { return nil }
        return ended - started
    }
}

/// One item of a `for-each` step.
public struct ItemResult: Sendable {
    public var index: Int
    public var item: JSON
    public var status: StepStatus
    public var steps: [StepResult]
}

/// A server as the run met it.
public struct ServerSummary: Sendable {
    public var name: String
    public var url: String
    public var apiServerVersion: String?
    public var simulated: Bool
}

/// The whole run: what the report and the exit code are made from.
public struct RunResult: Sendable {
    public enum Outcome: String, Sendable {
        case succeeded, failed, cancelled
    }

    public var runID: String
    public var playbookName: String
    public var playbookFile: String
    public var playbookSHA256: String
    public var started: Double
    public var ended: Double
    public var outcome: Outcome
    public var steps: [StepResult]
    public var servers: [ServerSummary]
    public var apiCalls: Int
    public var logins: Int
    public var waitingSeconds: Double
    /// Sessions the engine logged out itself because no logout step did.
    public var cleanupLogouts: [String]
    /// Sessions still open at the end that the engine could not log out: their logout failed
    /// or got no reply in time, so they stay on the server until its idle timeout.
    public var sessionsLeftOpen: [String] = []
    /// Sessions of a cancelled run whose unpublished changes the clean-up could not discard:
    /// the discard failed or got no reply in time.
    public var discardsFailed: [String] = []
}

/// What the engine reports while it runs; the CLI turns these into progress lines and the
/// NDJSON event stream.
///
/// Step ids inside a `for-each` are labelled with the loop and item: `each[3].export`.
public enum EngineEvent: Sendable {
    case stepStarted(id: String, kind: String, at: Double)
    /// An attempt failed; `retryAfter` is the wait before the next one, nil when none follows.
    case attemptFailed(id: String, attempt: Attempt, retryAfter: Double?)
    case stepProgress(id: String, taskID: String, percent: Int, status: String, at: Double)
    case stepEnded(StepResult)
    case notice(String, at: Double)
}
