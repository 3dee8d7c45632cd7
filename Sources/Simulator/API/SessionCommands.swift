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
        guard limiter.admitLogin(admin: admin.name, domain: domain, at: call.now) else {
            throw .tooManyRequests
        }

        var session = Session(
            sid: Identifiers.sessionID(),
            uid: Identifiers.uuid(),
            admin: admin.name,
            domain: domain,
            readOnly: readOnly,
            timeout: Double(timeout),
            now: call.now
        )
        session.name = try parameters.string("session-name") ?? ""
        session.description = try parameters.string("session-description") ?? ""
        let previous = state.open(session)
        return loginReply(session, previousLogin: previous ?? call.now, call: call)
    }

    /// `login-to-domain`: from a System Data session, a new session in a named domain.
    func loginToDomain(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(
            call.parameters,
            allowed: ["domain", "continue-last-session", "read-only"]
        )
        guard let current = call.session, current.domain == DomainName.systemData else {
            throw .notSystemData
        }
        _ = try parameters.bool("continue-last-session")
        guard let name = try parameters.string("domain") else { throw .missingParameter("domain") }
        guard let domain = knownDomain(name) else { throw .objectNotFound(name) }
        guard limiter.admitLogin(admin: current.admin, domain: domain, at: call.now) else {
            throw .tooManyRequests
        }
        let session = Session(
            sid: Identifiers.sessionID(),
            uid: Identifiers.uuid(),
            admin: current.admin,
            domain: domain,
            readOnly: try parameters.bool("read-only") ?? current.readOnly,
            timeout: current.timeout,
            now: call.now
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
            "url": .string("\(scheme)://\(call.host)/web_api\(versionSegment)"),
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
        guard let domain = knownDomain(name) else { throw .loginFailed }
        return domain
    }

    /// The login domain a name or uid stands for.
    func knownDomain(_ nameOrUID: String) -> String? {
        scenario.loginDomains.first {
            $0 == nameOrUID || Identifiers.stableUUID(for: $0) == nameOrUID.lowercased()
        }
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

    /// `show-session`: the caller's session, or another by `uid`.
    func showSession(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(call.parameters, allowed: ["uid", "detailed-admin-info"])
        _ = try parameters.bool("detailed-admin-info")
        guard let own = call.session else { throw .missingSession }
        guard let uid = try parameters.string("uid"), uid != own.uid else {
            return sessionObject(own)
        }
        guard let other = state.session(uid: uid) else { throw .objectNotFound(uid) }
        return sessionObject(other)
    }

    /// `set-session`: description, name and idle timeout of the caller's session.
    func setSession(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(
            call.parameters,
            allowed: ["description", "new-name", "session-timeout"]
        )
        let description = try parameters.string("description")
        let name = try parameters.string("new-name")
        let timeout = try parameters.integer("session-timeout")
        if let timeout, !(10...3600).contains(timeout) {
            throw .invalidParameter("session-timeout", "Value must be between 10 and 3600")
        }
        guard let sid = call.session?.sid else { throw .missingSession }
        let updated = state.update(sid: sid) { session in
            if let description { session.description = description }
            if let name { session.name = name }
            if let timeout { session.timeout = Double(timeout) }
        }
        guard let updated else { throw .wrongSession }
        return sessionObject(updated)
    }

    /// `publish`: a task; publishing another session is not implemented, as on real servers.
    func publish(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(call.parameters, allowed: ["uid"])
        guard let session = call.session else { throw .missingSession }
        if let uid = try parameters.string("uid"), uid != session.uid {
            throw .notImplemented("Publishing other than current session is not implemented")
        }
        let task = SimulatedTask(
            id: Identifiers.uuid(),
            kind: .publish,
            domain: session.domain,
            initiator: session.admin,
            started: call.now,
            behaviour: scenario.publish
        )
        state.add(task)
        return ["task-id": .string(task.id)]
    }

    /// `discard`: the simulator keeps no changes, so there is never anything to discard.
    func discard(_ call: Call) throws(APIError) -> JSON {
        let parameters = try Parameters(call.parameters, allowed: ["uid"])
        if let uid = try parameters.string("uid"), uid != call.session?.uid,
            state.session(uid: uid) == nil
        {
            throw .objectNotFound(uid)
        }
        return ["message": "OK", "number-of-discarded-changes": 0]
    }

    /// The session object of show-session and set-session.
    func sessionObject(_ session: Session) -> JSON {
        [
            "uid": .string(session.uid),
            "name": .string(session.name),
            "type": "session",
            "application": "WEB_API",
            "user-name": .string(session.admin),
            "description": .string(session.description),
            "domain": domainReference(session.domain),
            "state": "open",
            "connection-mode": .string(session.readOnly ? "read only" : "read write"),
            "expired-session": .bool(session.expired),
            "in-work": true,
            "changes": 0,
            "locks": 0,
            "ip-address": "127.0.0.1",
            "session-timeout": .int(Int64(session.timeout)),
            "last-login-time": clock.timeObject(at: session.created),
        ]
    }

    /// A domain as other objects refer to it: uid, name and domain-type.
    func domainReference(_ name: String) -> JSON {
        let type =
            switch name {
            case DomainName.systemData: "mds"
            case DomainName.global: "global domain"
            default: "domain"
            }
        return [
            "uid": .string(Identifiers.stableUUID(for: name)), "name": .string(name),
            "domain-type": .string(type),
        ]
    }

    func showAPIVersions(_ call: Call) throws(APIError) -> JSON {
        _ = try Parameters(call.parameters, allowed: [])
        return [
            "current-version": .string(scenario.apiVersion),
            "supported-versions": .array(scenario.supportedVersions.map(JSON.string)),
        ]
    }
}
