import ChkflowCore
import ManagementAPI
import Playbook

/// What to do about one failed attempt.
enum ErrorDecision: Equatable {
    case retry(after: Double)
    /// Log in again, then send the request again.
    case relogin
    case fail(reason: String?)
    /// Record the step as failed but let the run go on (`on-error: continue`).
    case ignore
}

/// Applies a step's `on-error` rules, then the defaults, then the retry policies, then the
/// catalogue's class of the code, in that order.
struct ErrorPolicy {
    let step: Step
    let defaults: Defaults
    let commandClass: CommandClass
    /// The policy used for transient codes when the playbook says nothing.
    static let transientDefault = RetryPolicy(
        on: [],
        attempts: 4,
        initialDelay: 1,
        factor: 2,
        maximumDelay: 30,
        jitter: true,
        budget: 300
    )

    /// Whether an error matches one matcher.
    static func matches(_ matcher: ErrorMatcher, _ error: APIError) -> Bool {
        switch matcher {
        case .code(let code): return error.code == code
        case .codePrefix(let prefix): return error.code?.hasPrefix(prefix) ?? false
        case .httpStatus(let status): return error.httpStatus == status
        case .transport: return error.kind == .transport
        }
    }

    /// The decision after `attempt` attempts (1-based) that began `elapsed` seconds ago.
    func decide(
        _ error: APIError,
        attempt: Int,
        elapsed: Double,
        random: (Double) -> Double
    ) -> ErrorDecision {
        if let unsafe = onceOnlyRefusal(error) { return .fail(reason: unsafe) }
        let rules = step.onError + defaults.onError
        if let rule = rules.first(where: { $0.matchers.contains { Self.matches($0, error) } }) {
            switch rule.action {
            case .fail: return .fail(reason: nil)
            case .continue: return .ignore
            case .relogin: return attempt < 2 ? .relogin : .fail(reason: nil)
            case .retry(let policy):
                return retry(policy, attempt: attempt, elapsed: elapsed, random: random)
            }
        }
        for policy in [step.retry, defaults.retry].compactMap({ $0 })
        where policy.on.contains(where: { Self.matches($0, error) }) {
            return retry(policy, attempt: attempt, elapsed: elapsed, random: random)
        }
        if error.errorClass == .transient || error.kind == .transport {
            return retry(Self.transientDefault, attempt: attempt, elapsed: elapsed, random: random)
        }
        return .fail(reason: nil)
    }

    /// A once-only command whose request may have reached the server is never sent again: the
    /// server may have started the task.
    private func onceOnlyRefusal(_ error: APIError) -> String? {
        guard commandClass == .onceOnly, error.kind == .transport, error.requestMayHaveReachedServer
        else { return nil }
        return "\(error.description); not sent again: the server may have started the task "
            + "(look for it with show-tasks before running the step again)"
    }

    private func retry(
        _ policy: RetryPolicy,
        attempt: Int,
        elapsed: Double,
        random: (Double) -> Double
    )
        -> ErrorDecision
    {
        guard attempt < policy.attempts else { return .fail(reason: nil) }
        let growth = policy.initialDelay * pow(policy.factor, Double(attempt - 1))
        let ceiling = min(policy.maximumDelay, growth)
        let delay = policy.jitter ? random(ceiling) : ceiling
        if let budget = policy.budget, elapsed + delay > budget { return .fail(reason: nil) }
        return .retry(after: delay)
    }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var count = Int(exponent)
    while count > 0 {
        result *= base
        count -= 1
    }
    return result
}
