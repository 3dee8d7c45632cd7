import ChkflowCore
import PlaybookYAML

/// A playbook as written, typed and checked, with every value still a template.
public struct Playbook: Sendable {
    public var file: String
    /// SHA-256 of the file's bytes, so a resumed run can tell the playbook changed.
    public var sha256: String
    public var name: String
    public var description: String?
    public var inputs: [Input]
    public var servers: [String: Server]
    public var secrets: [String: Secret]
    public var window: Window?
    public var defaults: Defaults
    public var steps: [Step]

    /// The top-level step with an id, if any.
    public func step(withID id: String) -> Step? { steps.first { $0.id == id } }

    /// The step with an id at any depth, inside `for-each` steps too.
    public func anyStep(withID id: String) -> Step? {
        func search(_ steps: [Step]) -> Step? {
            for step in steps {
                if step.id == id { return step }
                if case .forEach(let loop) = step.kind, let found = search(loop.steps) {
                    return found
                }
            }
            return nil
        }
        return search(steps)
    }
}

/// A value the operator may set with `--var NAME=VALUE`.
public struct Input: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case string, integer, boolean, list
    }

    public var name: String
    public var kind: Kind
    public var defaultValue: JSON?
    public var pattern: String?
    public var description: String?
    public var mark: Mark
}

/// A management server the playbook talks to.
public struct Server: Sendable {
    public var name: String
    public var url: Template
    public var tls: TLSSetting
    public var requestsPerSecond: Double?
    public var loginsPerMinute: Int?
    /// How many export-management tasks chkflow keeps running at once on this server.
    public var exportsAtOnce: Int?
    public var mark: Mark
}

/// How a server's certificate is checked.
public enum TLSSetting: Sendable, Equatable {
    case system
    case caFile(Template)
    case fingerprint(Template)
    case insecure
}

/// Where a secret comes from.
public struct Secret: Sendable {
    public enum Source: Sendable, Equatable {
        case environment(String)
        case file(String)
        case prompt
    }

    public var name: String
    public var source: Source
    /// The value used only against the built-in simulator, so rehearsals need no real secret.
    public var simulatorValue: String?
    public var mark: Mark
}

/// The change window: no step may be started that would end after `closes - reserve`.
public struct Window: Sendable {
    /// Seconds since 1970 (UTC).
    public var closes: Double
    public var closesText: String
    public var reserve: Double
}

/// Settings that apply to every step that does not set its own.
public struct Defaults: Sendable {
    public var retry: RetryPolicy?
    public var timeout: Double?
    /// The most time one attempt of a step's request may take (login, logout, verify, export
    /// and call steps).
    public var attemptTimeout: Double?
    public var onError: [ErrorRule] = []
}

/// When and how to try a failed request again.
public struct RetryPolicy: Sendable, Equatable {
    public var on: [ErrorMatcher]
    public var attempts: Int
    public var initialDelay: Double = 2
    public var factor: Double = 2
    public var maximumDelay: Double = 60
    public var jitter: Bool = true
    /// The most time all attempts together may take, waits included.
    public var budget: Double?

    public init(
        on: [ErrorMatcher],
        attempts: Int,
        initialDelay: Double = 2,
        factor: Double = 2,
        maximumDelay: Double = 60,
        jitter: Bool = true,
        budget: Double? = nil
    ) {
        self.on = on
        self.attempts = attempts
        self.initialDelay = initialDelay
        self.factor = factor
        self.maximumDelay = maximumDelay
        self.jitter = jitter
        self.budget = budget
    }
}

/// What an error must look like for a rule to apply.
public enum ErrorMatcher: Sendable, Equatable {
    case code(String)
    /// A code prefix, written with a trailing `*`.
    case codePrefix(String)
    case httpStatus(Int)
    /// No usable reply: a refused connection, a reset, a timeout.
    case transport
}

/// One `on-error` rule.
public struct ErrorRule: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        // Indirect: a policy takes 70 bytes, and most rules of a large playbook hold one.
        indirect case retry(RetryPolicy)
        case relogin
        case `continue`
        case fail
    }

    public var matchers: [ErrorMatcher]
    public var action: Action
    public var mark: Mark
}
