import ChkflowCore

extension SimulatedAPI {
    private static let loginFields: Set<String> = [
        "user", "password", "api-key", "domain", "continue-last-session",
        "enter-last-published-session", "read-only", "new-password", "session-name",
        "session-description", "session-comments", "session-timeout",
    ]

    /// `login`: password or api-key, optional domain and session-timeout.
    func login(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(call.parameters, allowed: Self.loginFields)
        for flag in ["continue-last-session", "enter-last-published-session"] {
            _ = try parameters.bool(flag)
        }
        for text in ["new-password", "session-name", "session-description", "session-comments"] {
            _ = try parameters.string(text)
        }
        let admin = try authenticate(parameters)
        let domain = try loginDomain(parameters)
        let timeout = try sessionTimeout(parameters)
        let readOnly = try parameters.bool("read-only") ?? false

        let session = Session(
            sid: Identifiers.sessionID(),
            uid: Identifiers.uuid(),
            admin: admin.name,
            domain: domain,
            readOnly: readOnly,
            timeout: Double(timeout),
            lastUsed: call.now
        )
        let previous = state.open(session)
        return loginReply(session, previousLogin: previous ?? call.now, call: call)
    }

    /// The reply shape of §1.2 of the reference: also what login-to-domain will answer.
    func loginReply(_ session: Session, previousLogin: Double, call: Call) -> JSON {
        let versionSegment = call.version.map { "/v\($0)" } ?? ""
        return [
            "uid": .string(session.uid),
            "sid": .string(session.sid),
            "url": .string("http://\(call.host)/web_api\(versionSegment)"),
            "session-timeout": .int(Int64(session.timeout)),
            "last-login-was-at": clock.timeObject(at: previousLogin),
            "api-server-version": .string(call.version ?? scenario.apiVersion),
            "read-only": .bool(session.readOnly),
        ]
    }

    private func authenticate(_ parameters: Parameters) throws(APIError) -> SimulatedAdmin {
        let user = try parameters.string("user")
        let password = try parameters.string("password")
        if let key = try parameters.string("api-key") {
            guard user == nil, password == nil,
                let admin = scenario.admins.first(where: { $0.apiKey != nil && $0.apiKey == key })
            else { throw .loginFailed }
            return admin
        }
        guard let user else { throw .missingParameter("user") }
        guard let password else { throw .missingParameter("password") }
        let admin = scenario.admins.first {
            $0.name == user && $0.password != nil && $0.password == password
        }
        guard let admin else { throw .loginFailed }
        return admin
    }

    /// The named domain, or the server's default for a missing or empty `domain`.
    private func loginDomain(_ parameters: Parameters) throws(APIError) -> String {
        guard let name = try parameters.string("domain"), !name.isEmpty else {
            return scenario.defaultDomain
        }
        guard let domain = scenario.loginDomains.first(where: { $0 == name }) else {
            throw .loginFailed
        }
        return domain
    }

    private func sessionTimeout(_ parameters: Parameters) throws(APIError) -> Int64 {
        guard let timeout = try parameters.integer("session-timeout") else {
            return Int64(scenario.sessionTimeout)
        }
        guard (10...3600).contains(timeout) else {
            throw .invalidParameter("session-timeout", "Value must be between 10 and 3600")
        }
        return timeout
    }

    /// `logout`: the sid is unknown afterwards; the session's tasks go on.
    func logout(_ call: Call) throws(APIError) -> JSON {
        _ = try Parameters(call.parameters, allowed: [])
        if let sid = call.session?.sid { state.close(sid: sid) }
        return ["message": "OK"]
    }

    /// `keepalive`: the session check has already reset the idle timer.
    func keepalive(_ call: Call) throws(APIError) -> JSON {
        _ = try Parameters(call.parameters, allowed: [])
        return ["message": "OK"]
    }

    func showAPIVersions(_ call: Call) throws(APIError) -> JSON {
        _ = try Parameters(call.parameters, allowed: [])
        return [
            "current-version": .string(scenario.apiVersion),
            "supported-versions": .array(scenario.supportedVersions.map(JSON.string)),
        ]
    }
}
