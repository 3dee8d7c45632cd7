import Synchronization

/// Decides which calls meet an injected fault, counting calls per command.
final class FaultInjector: Sendable {
    private struct Storage {
        var calls: [String: Int] = [:]
        var allCalls = 0
        var generators: [SeededGenerator]
    }

    private let rules: [FaultRule]
    private let storage: Mutex<Storage>

    init(rules: [FaultRule]) {
        self.rules = rules
        storage = Mutex(Storage(generators: rules.map { SeededGenerator(seed: $0.seed) }))
    }

    /// Counts a call of `command` and returns the action of the first rule it meets.
    func action(for command: String) -> FaultAction? {
        guard !rules.isEmpty else { return nil }
        return storage.withLock { storage in
            storage.allCalls += 1
            storage.calls[command, default: 0] += 1
            for (index, rule) in rules.enumerated()
            where rule.command == nil || rule.command == command {
                let number =
                    rule.command == nil ? storage.allCalls : storage.calls[command, default: 0]
                if let first = rule.call {
                    if number >= first && number - first < max(1, rule.count) { return rule.action }
                } else if let chance = rule.probability {
                    let draw = Double.random(in: 0..<1, using: &storage.generators[index])
                    if draw < chance { return rule.action }
                } else {
                    return rule.action
                }
            }
            return nil
        }
    }
}

/// Sliding-window limits on logins per admin and domain and on requests per second.
final class RateLimiter: Sendable {
    private struct Storage {
        var logins: [String: [Double]] = [:]
        var requests: [Double] = []
        var oldestRequest = 0
    }

    private let limits: RateLimits
    private let storage = Mutex(Storage())

    init(limits: RateLimits) { self.limits = limits }

    /// Whether one more login of this admin into this domain is allowed at `now`; counts it
    /// when it is.
    func admitLogin(admin: String, domain: String, at now: Double) -> Bool {
        guard let limit = limits.loginsPerMinute else { return true }
        return storage.withLock { storage in
            let key = admin + "\u{0}" + domain
            var recent = storage.logins[key, default: []].filter { now - $0 < 60 }
            guard recent.count < limit else { return false }
            recent.append(now)
            storage.logins[key] = recent
            return true
        }
    }

    /// Whether one more request is allowed at `now`; counts it when it is.
    func admitRequest(at now: Double) -> Bool {
        guard let limit = limits.requestsPerSecond else { return true }
        return storage.withLock { storage in
            while storage.oldestRequest < storage.requests.count,
                now - storage.requests[storage.oldestRequest] >= 1
            {
                storage.oldestRequest += 1
            }
            if storage.oldestRequest > 4096 {
                storage.requests.removeFirst(storage.oldestRequest)
                storage.oldestRequest = 0
            }
            guard storage.requests.count - storage.oldestRequest < limit else { return false }
            storage.requests.append(now)
            return true
        }
    }
}
