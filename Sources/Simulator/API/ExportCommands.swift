import ChkflowCore

extension SimulatedAPI {
    private static let exportBooleans = [
        "include-logs", "include-logs-indexes", "include-endpoint-configuration",
        "include-endpoint-database", "is-domain-backup", "is-smc-to-mds",
        "pre-export-verification-only", "verify-all-servers", "ignore-warnings",
    ]

    private static let exportFields = Set(
        ["file-path", "domain-name", "version", "days-of-logs"] + exportBooleans
    )

    private static let importBooleans = [
        "include-logs", "include-logs-indexes", "include-endpoint-configuration",
        "include-endpoint-database", "keep-cloud-sharing", "verify-domain-restore",
        "pre-import-verification-only",
    ]

    private static let importFields = Set(
        [
            "file-path", "domain-name", "domain-ip-address", "domain-server-name",
            "domain-ipv6-address", "change-ips", "days-of-logs",
        ] + importBooleans
    )

    /// `export-management`, with the rules of the API 2.0.1 reference: System Data sessions
    /// only, `file-path` unless only verifying, typed fields, and the domain-backup rules.
    func exportManagement(_ call: Call) throws(APIError) -> JSON {
        guard let session = call.session, session.domain == DomainName.systemData else {
            throw .notSystemData
        }
        let parameters = try Parameters(call.parameters, allowed: Self.exportFields)
        let flags = try Self.flags(Self.exportBooleans, in: parameters)
        let filePath = try Self.filePath(in: parameters)
        let domainName = try parameters.string("domain-name")
        _ = try parameters.string("version")
        try Self.checkDaysOfLogs(parameters)
        if flags["is-domain-backup"] == true {
            guard domainName != nil else { throw .missingParameter("domain-name") }
            if flags["is-smc-to-mds"] == true {
                throw .invalidParameter(
                    "is-smc-to-mds",
                    "Cannot be used together with is-domain-backup"
                )
            }
        }
        try checkDomainName(domainName)

        if flags["pre-export-verification-only"] == true {
            return start(.preExportVerification, scenario.verification, for: session, at: call.now)
        }
        guard let filePath else { throw .missingParameter("file-path") }
        try checkExportSlots(at: call.now)
        return start(.export(filePath: filePath), scenario.export, for: session, at: call.now)
    }

    /// `import-management`: like export, and the session that starts a real import expires,
    /// as the reference says (the reply asks the client to log in again).
    func importManagement(_ call: Call) throws(APIError) -> JSON {
        guard let session = call.session, session.domain == DomainName.systemData else {
            throw .notSystemData
        }
        let parameters = try Parameters(call.parameters, allowed: Self.importFields)
        let flags = try Self.flags(Self.importBooleans, in: parameters)
        for name in [
            "domain-name", "domain-ip-address", "domain-server-name", "domain-ipv6-address",
        ] {
            _ = try parameters.string(name)
        }
        if let changes = parameters.values["change-ips"], changes.arrayValue == nil {
            throw .invalidParameter("change-ips")
        }
        try Self.checkDaysOfLogs(parameters)
        guard let filePath = try Self.filePath(in: parameters) else {
            throw .missingParameter("file-path")
        }

        if flags["pre-import-verification-only"] == true {
            let kind = TaskKind.preImportVerification(filePath: filePath)
            return start(kind, scenario.importTask, for: session, at: call.now)
        }
        var reply = start(
            .importManagement(filePath: filePath),
            scenario.importTask,
            for: session,
            at: call.now
        )
        _ = state.update(sid: session.sid) { $0.expired = true }
        if case .object(var members) = reply {
            members["login-required"] = true
            reply = .object(members)
        }
        return reply
    }

    private func start(
        _ kind: TaskKind,
        _ behaviour: TaskBehaviour,
        for session: Session,
        at now: Double
    ) -> JSON {
        let task = SimulatedTask(
            id: Identifiers.uuid(),
            kind: kind,
            domain: session.domain,
            initiator: session.admin,
            started: now,
            behaviour: behaviour
        )
        state.add(task)
        return ["task-id": .string(task.id)]
    }

    /// Refuses an export while `Scenario.exportsAtOnce` exports are still running.
    private func checkExportSlots(at now: Double) throws(APIError) {
        guard let limit = scenario.exportsAtOnce else { return }
        let running = state.allTasks().filter { task in
            guard case .export = task.kind else { return false }
            return task.progress(at: now).status == .inProgress
        }
        guard running.count < limit else {
            throw APIError(
                status: 409,
                code: "generic_err_object_locked",
                message: "Another export of the management database is in progress"
            )
        }
    }

    private func checkDomainName(_ name: String?) throws(APIError) {
        guard let name else { return }
        guard scenario.serverType == .multiDomain else {
            throw .invalidParameter("domain-name", "A single management server has no domains")
        }
        guard scenario.domains.contains(name) else { throw .objectNotFound(name) }
    }

    private static func flags(
        _ names: [String],
        in parameters: Parameters
    ) throws(APIError) -> [String: Bool] {
        var flags: [String: Bool] = [:]
        for name in names { flags[name] = try parameters.bool(name) }
        return flags
    }

    private static func filePath(in parameters: Parameters) throws(APIError) -> String? {
        let path = try parameters.string("file-path")
        if path?.isEmpty == true { throw .invalidParameter("file-path", "Value must not be empty") }
        return path
    }

    private static func checkDaysOfLogs(_ parameters: Parameters) throws(APIError) {
        if let days = try parameters.integer("days-of-logs"), days < 1 {
            throw .invalidParameter("days-of-logs", "Value must be a positive integer")
        }
    }
}
