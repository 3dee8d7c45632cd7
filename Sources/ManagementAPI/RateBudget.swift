import Synchronization

/// How fast one administrator may talk to one server in one domain, shared by every session of
/// a run that uses that server, admin and domain.
///
/// Two limits apply. Logins: at most `loginsPerMinute` in any 60 seconds (real servers allow 3
/// remote logins a minute per admin and domain since R81), counted by reservation so that
/// parallel sessions never exceed it together. Requests: when `requestsPerSecond` is set,
/// requests are spaced evenly to that rate, and never more than the rate leave within any
/// second (and a small margin), however late some of them left.
///
/// An `err_too_many_requests` reply slows the budget down for everyone: a refused login holds
/// back every login for a whole window; a refused request holds back every request for a
/// second and halves the request rate (from the rate observed over the last second when no
/// rate was set). The rate then recovers by half again after each `recoveryInterval` without
/// another refusal, up to the configured rate or, without one, until pacing stops.
public actor RateBudget {
    /// The settings of a budget.
    public struct Limits: Sendable, Equatable {
        /// Requests per second when the server does not complain; nil: no pacing.
        public var requestsPerSecond: Double?
        /// Logins (login and login-to-domain) in any window of `loginWindow` seconds.
        public var loginsPerMinute: Int
        /// The login window: 60 seconds plus a second of margin for clock and network skew.
        public var loginWindow: Double
        /// The slowest the request rate is ever made, in requests per second.
        public var minimumRequestsPerSecond: Double
        /// Seconds without a refusal after which the request rate grows by half.
        public var recoveryInterval: Double
        /// Above this rate, a recovering budget without a configured rate stops pacing.
        public var unpacedAbove: Double
        /// Seconds no request is sent after a refusal, so that the server's count of the last
        /// second clears; further refusals in that time are echoes of the same burst and do
        /// not slow the rate again.
        public var holdAfterRefusal: Double
        /// Seconds added to the one-second window in which paced requests are counted, for the
        /// difference between the moment a request leaves and the moment the server counts it.
        public var windowMargin: Double

        public init(
            requestsPerSecond: Double? = nil,
            loginsPerMinute: Int = 3,
            loginWindow: Double = 61,
            minimumRequestsPerSecond: Double = 0.5,
            recoveryInterval: Double = 10,
            unpacedAbove: Double = 50,
            holdAfterRefusal: Double = 1,
            windowMargin: Double = 0.05
        ) {
            self.requestsPerSecond = requestsPerSecond
            self.loginsPerMinute = loginsPerMinute
            self.loginWindow = loginWindow
            self.minimumRequestsPerSecond = minimumRequestsPerSecond
            self.recoveryInterval = recoveryInterval
            self.unpacedAbove = unpacedAbove
            self.holdAfterRefusal = holdAfterRefusal
            self.windowMargin = windowMargin
        }
    }

    public nonisolated let limits: Limits
    private let clock: any APIClock
    /// The pace in force now; nil: requests go out unpaced.
    private var rate: Double?
    private var nextRequest = 0.0
    private var lastRefusal: Double?
    private var recentRequests: [Double] = []
    /// The moments paced requests left, within the last window.
    private var sent: [Double] = []
    /// Reserved login moments, past and future, within the last window.
    private var logins: [LoginReservation: Double] = [:]
    private var nextReservation = 0
    private var loginsPausedUntil = 0.0

    public init(_ limits: Limits = Limits(), clock: any APIClock = SystemClock()) {
        self.limits = limits
        self.clock = clock
        rate = limits.requestsPerSecond
    }

    /// The request rate in force, nil when requests are not paced.
    public var currentRequestsPerSecond: Double? {
        recover(at: clock.now())
        return rate
    }

    /// Waits for the next request slot.
    public func acquireRequest() async throws {
        let now = clock.now()
        recover(at: now)
        recentRequests.append(now)
        recentRequests.removeAll { $0 <= now - 1 }
        guard let rate else { return }
        let slot = max(now, nextRequest)
        nextRequest = slot + 1 / rate
        try await clock.sleep(until: slot)
        try await waitForRoomInTheLastSecond(rate)
    }

    /// Waits until fewer than `rate` requests left in the last second (and the margin), then
    /// counts this one.
    ///
    /// Even spacing alone is not enough: a request that leaves late and the next one on time
    /// can put one request more than the rate inside a second, which a server counting any
    /// sliding second refuses.
    private func waitForRoomInTheLastSecond(_ rate: Double) async throws {
        let allowed = max(1, Int(rate.rounded(.up)))
        let window = 1 + limits.windowMargin
        while true {
            let now = clock.now()
            sent.removeAll { $0 <= now - window }
            if sent.count < allowed {
                sent.append(now)
                return
            }
            try await clock.sleep(until: sent[sent.count - allowed] + window)
        }
    }

    /// Waits until a login fits in the login window, and reserves that moment for it.
    ///
    /// Pass the reservation to ``loginFinished(_:)`` once the login's reply has come: the
    /// server counted the login somewhere between sending and reply, so the later moment is
    /// the safe one to count from. Waiting logins look again when they wake, so a slow login
    /// pushes back the ones queued behind it.
    @discardableResult
    public func acquireLogin() async throws -> LoginReservation {
        let reservation = LoginReservation(number: nextReservation)
        nextReservation += 1
        while true {
            let now = clock.now()
            logins.removeValue(forKey: reservation)
            logins = logins.filter { $0.value > now - limits.loginWindow }
            let slot = loginSlot(after: max(now, loginsPausedUntil))
            logins[reservation] = slot
            if slot <= now { return reservation }
            do {
                try await clock.sleep(until: slot)
            } catch {
                logins.removeValue(forKey: reservation)
                throw error
            }
        }
    }

    /// The first moment from `earliest` on at which one more login keeps every window within
    /// the limit.
    private func loginSlot(after earliest: Double) -> Double {
        let limit = max(1, limits.loginsPerMinute)
        let window = logins.values.filter { $0 > earliest - limits.loginWindow }.sorted()
        guard window.count >= limit else { return earliest }
        return max(earliest, window[window.count - limit] + limits.loginWindow)
    }

    /// Counts a login from the moment its reply came, if that is later than its reservation.
    public func loginFinished(_ reservation: LoginReservation) {
        guard let slot = logins[reservation] else { return }
        logins[reservation] = max(slot, clock.now())
    }

    /// Tells the budget that the server answered `err_too_many_requests`.
    public func recordTooManyRequests(duringLogin: Bool) {
        let now = clock.now()
        if duringLogin {
            loginsPausedUntil = max(loginsPausedUntil, now + limits.loginWindow)
            return
        }
        nextRequest = max(nextRequest, now + limits.holdAfterRefusal)
        if let refusal = lastRefusal, now - refusal < limits.holdAfterRefusal { return }
        recover(at: now)
        let observed = Double(max(1, recentRequests.filter { $0 > now - 1 }.count))
        rate = max(limits.minimumRequestsPerSecond, (rate ?? observed) / 2)
        lastRefusal = now
    }

    /// Lets the rate grow back by half per quiet `recoveryInterval` since the last refusal.
    private func recover(at now: Double) {
        guard let refusal = lastRefusal, var current = rate else { return }
        var mark = refusal
        while now - mark >= limits.recoveryInterval {
            mark += limits.recoveryInterval
            current *= 1.5
            if let ceiling = limits.requestsPerSecond, current >= ceiling {
                rate = ceiling
                lastRefusal = nil
                return
            }
            if limits.requestsPerSecond == nil, current > limits.unpacedAbove {
                rate = nil
                lastRefusal = nil
                return
            }
        }
        rate = current
        lastRefusal = mark
    }
}

/// A login's place in a ``RateBudget``.
public struct LoginReservation: Sendable, Hashable {
    let number: Int
}

/// The budgets of a run, one per server, admin and domain, handed to every session that
/// shares them.
public final class RateBudgets: Sendable {
    private let limits: RateBudget.Limits
    private let clock: any APIClock
    private let budgets = Mutex<[String: RateBudget]>([:])

    public init(_ limits: RateBudget.Limits = .init(), clock: any APIClock = SystemClock()) {
        self.limits = limits
        self.clock = clock
    }

    /// The budget of this server (its URL), admin (user name, or an api-key's name) and domain
    /// (nil for the default domain); the same object for the same three.
    public func budget(server: String, admin: String, domain: String?) -> RateBudget {
        let key = [server.lowercased(), admin, domain ?? ""].joined(separator: "\u{0}")
        return budgets.withLock { budgets in
            if let existing = budgets[key] { return existing }
            let made = RateBudget(limits, clock: clock)
            budgets[key] = made
            return made
        }
    }
}
