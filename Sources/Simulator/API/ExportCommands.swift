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

    /// `export-management`, with the rules of the API 2.0.1 reference: System Data sessions
    /// only, `file-path` unless only verifying, typed fields, and the domain-backup rules.
    func exportManagement(_ call: Call) throws(APIError) -> JSON {
        guard let session = call.session, session.domain == DomainName.systemData else {
            throw .notSystemData
        }
        let request = try ExportRequest(try Parameters(call.parameters, allowed: Self.exportFields))
        try checkDomainName(request.domainName)

        let kind: TaskKind
        if request.verificationOnly {
            kind = .preExportVerification
        } else {
            guard let path = request.filePath else { throw .missingParameter("file-path") }
            kind = .export(filePath: path)
        }
        let behaviour = request.verificationOnly ? scenario.verification : scenario.export
        let task = SimulatedTask(
            id: Identifiers.uuid(),
            kind: kind,
            domain: session.domain,
            started: call.now,
            behaviour: behaviour
        )
        state.add(task)
        return ["task-id": .string(task.id)]
    }

    private func checkDomainName(_ name: String?) throws(APIError) {
        guard let name else { return }
        guard scenario.serverType == .multiDomain else {
            throw .invalidParameter("domain-name", "A single management server has no domains")
        }
        guard scenario.domains.contains(name) else { throw .objectNotFound(name) }
    }
}

/// The fields of an export-management body, each checked against its type.
private struct ExportRequest {
    var filePath: String?
    var domainName: String?
    var verificationOnly: Bool

    init(_ parameters: Parameters) throws(APIError) {
        filePath = try parameters.string("file-path")
        domainName = try parameters.string("domain-name")
        _ = try parameters.string("version")
        var flags: [String: Bool] = [:]
        for name in [
            "include-logs", "include-logs-indexes", "include-endpoint-configuration",
            "include-endpoint-database", "is-domain-backup", "is-smc-to-mds",
            "pre-export-verification-only", "verify-all-servers", "ignore-warnings",
        ] {
            flags[name] = try parameters.bool(name)
        }
        if let days = try parameters.integer("days-of-logs"), days < 1 {
            throw .invalidParameter("days-of-logs", "Value must be a positive integer")
        }
        if filePath?.isEmpty == true {
            throw .invalidParameter("file-path", "Value must not be empty")
        }
        if flags["is-domain-backup"] == true {
            guard domainName != nil else { throw .missingParameter("domain-name") }
            if flags["is-smc-to-mds"] == true {
                throw .invalidParameter(
                    "is-smc-to-mds",
                    "Cannot be used together with is-domain-backup"
                )
            }
        }
        verificationOnly = flags["pre-export-verification-only"] ?? false
    }
}
