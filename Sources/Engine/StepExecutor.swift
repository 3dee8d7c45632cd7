import ChkflowCore
import ManagementAPI
import Playbook

/// Why a step stopped early, before or after talking to the server.
struct StepFailure: Error {
    var status: StepStatus = .failed
    var reason: String
    var error: ErrorSummary?
}

/// An attempt that ran out of its step's `attempt-timeout` before a reply came.
struct AttemptTimeout: Error {
    var command: String
    var limit: Double

    /// The failure as the error policy and the report see it: no usable reply, and the request
    /// may have reached the server.
    var error: APIError {
        APIError(
            kind: .transport,
            command: command,
            message: "the attempt ran out of its attempt-timeout of \(DurationText.format(limit))",
            requestMayHaveReachedServer: true
        )
    }
}

/// Runs one step to its end and describes how it went.
struct StepExecutor {
    let context: StepContext
    let runner: Runner

    var step: Step { context.step }

    /// The name of the server the step's session is on, for per-server limits.
    var serverName: String {
        let playbook = context.playbook
        if let login = context.node.session.flatMap({ playbook.anyStep(withID: $0) }),
            case .login(let spec) = login.kind, let server = spec.server
        {
            return server
        }
        return playbook.servers.keys.sorted().first ?? ""
    }

    /// The step's id as events show it, with the loop item it belongs to.
    var displayID: String { context.label.map { "\($0).\(step.id)" } ?? step.id }

    /// Runs the step, within its `timeout` when it has one (a wait applies its timeout to the
    /// task itself, so that the report can say the task goes on running).
    func execute() async -> StepOutcome {
        let limit = step.timeout ?? context.playbook.defaults.timeout
        guard let limit, !(step.kindName == "wait") else { return await executeUntimed() }
        let clock = runner.options.clock
        let deadline = clock.now() + limit
        var (result, expired) = await clock.race(until: deadline) { await executeUntimed() }
        if expired {
            result.result.status = .timedOut
            result.result.reason =
                "the step did not end within its timeout of \(DurationText.format(limit))"
                + (result.result.taskID.map {
                    "; task \($0) may still be running on the server"
                } ?? result.unansweredOnceOnly.map(sentWithoutReply) ?? "")
            // The attempt cut short by the timeout says so, not that the run was cancelled;
            // one that had failed before (and was waiting to be retried) keeps its error.
            if let last = result.result.attempts.indices.last,
                result.result.attempts[last].waitBefore == nil
            {
                result.result.attempts[last].error = ErrorSummary(
                    message: result.result.reason ?? "timed out"
                )
            }
        }
        return result
    }

    /// What a timed-out step adds when its once-only command was sent and no reply was read.
    ///
    /// The server may be doing the work, and sending the command again would do it twice. The
    /// journal keeps the command's intent, so a resumed run looks for the task.
    private func sentWithoutReply(_ command: String) -> String {
        let (work, again) =
            switch command {
            case "export-management": ("the export", "start a second export")
            case "import-management": ("the import", "start a second import")
            default: ("it", "send \(command) a second time")
            }
        let file = Self.shellWord(context.playbook.file)
        return "; \(command) was sent, so the server may be running \(work): finish this run with"
            + " `chkflow run \(file) --resume`, which looks for the task instead of sending"
            + " \(command) again; running the playbook without --resume would \(again)"
    }

    /// A file name as a shell reads it: quoted when it holds more than plain path characters.
    static func shellWord(_ text: String) -> String {
        if !text.isEmpty, text.allSatisfy(plainPathCharacters.contains) { return text }
        return "'" + text.replacing("'", with: "'\\''") + "'"
    }

    private static let plainPathCharacters = Set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+"
    )

    private func executeUntimed() async -> StepOutcome {
        var result = StepResult(id: step.id, kind: step.kindName, status: .succeeded)
        result.started = runner.now()
        var outcome = StepOutcome(result: result)
        do {
            // On the thread of the step's session, whose replies then need no thread hand-over.
            let executor = (context.session as? Session)?.transferExecutor
            try await withTaskExecutorPreference(executor) { try await perform(&outcome) }
        } catch let failure as StepFailure {
            outcome.result.status = failure.status
            outcome.result.reason = failure.reason
            outcome.result.error = failure.error
        } catch let error as APIError {
            outcome.result.status = .failed
            outcome.result.reason = error.description
            outcome.result.error = ErrorSummary(error)
        } catch let timeout as TaskWaitTimeout {
            outcome.result.status = .timedOut
            outcome.result.reason = timeout.description
            outcome.result.task = timeout.lastSeen
            // The reply of the last show-task, when it was not usable, stays in the report.
            outcome.result.error = timeout.lastError.map { ErrorSummary($0) }
        } catch is CancellationError {
            outcome.result.status = .cancelled
            outcome.result.reason = "the run was cancelled while this step ran"
        } catch {
            outcome.result.status = .failed
            outcome.result.reason = "\(error)"
        }
        outcome.result.ended = runner.now()
        if outcome.result.attempts.isEmpty, step.usesSession || step.kindName == "login" {
            var error = outcome.result.error
            if error == nil, outcome.result.status != .succeeded {
                error = ErrorSummary(
                    message: outcome.result.reason ?? outcome.result.status.rawValue
                )
            }
            outcome.result.attempts = [
                Attempt(
                    number: 1,
                    started: outcome.result.started ?? 0,
                    ended: outcome.result.ended ?? 0,
                    error: error
                )
            ]
        }
        return outcome
    }

    private func perform(_ outcome: inout StepOutcome) async throws {
        switch step.kind {
        case .login(let login): try await performLogin(login, &outcome)
        case .logout:
            let session = try requireConnection()
            _ = try await attempting(&outcome, command: "logout") {
                try await session.logout()
                return [:]
            }
            outcome.closedSession = context.node.session
        case .verify(let request): try await performExport(request, verifying: true, &outcome)
        case .export(let request): try await performExport(request, verifying: false, &outcome)
        case .wait(let wait): try await performWait(wait, &outcome)
        case .call(let call): try await performCall(call, &outcome)
        case .assert(let assertion): try performAssert(assertion)
        case .forEach(let loop): try await performForEach(loop, &outcome)
        }
    }

    func requireConnection() throws -> any Connection {
        guard let session = context.session else {
            let name = context.node.session ?? "?"
            throw StepFailure(
                status: .skipped,
                reason: "session '\(name)' is not open (its login did not succeed)"
            )
        }
        return session
    }

    func evaluate(_ template: Template, _ what: String) throws -> Value {
        do {
            return try template.evaluate(in: context.scope)
        } catch {
            throw StepFailure(reason: "\(what): \(error.message)")
        }
    }

    private func evaluateString(_ template: Template?, _ what: String) throws -> String? {
        guard let template else { return nil }
        let value = try evaluate(template, what)
        guard case .string(let text) = value.json else {
            if value.json == .null { return nil }
            return value.json.interpolated
        }
        return text
    }

    /// Sends a request, retrying as the step's error policy says; every attempt is recorded.
    private func attempting(
        _ outcome: inout StepOutcome,
        command: String,
        _ request: @escaping @Sendable () async throws -> JSON
    ) async throws -> JSON {
        // A verification runs export-management but starts nothing that matters twice.
        let commandClass = command == "login" ? .idempotent : step.commandClass
        let policy = ErrorPolicy(
            step: step,
            defaults: context.playbook.defaults,
            commandClass: commandClass
        )
        let clock = runner.options.clock
        let first = clock.now()
        var number = 1
        let onceOnly = commandClass == .onceOnly
        if onceOnly, let taskID = runner.options.resume?.recordedTask(labelled: displayID) {
            await runner.registry.know(taskID: taskID)
            outcome.result.reason = "re-attached to task \(taskID), started before the interruption"
            return ["task-id": .string(taskID)]
        }
        if onceOnly, runner.options.resume?.pendingIntent(labelled: displayID) == command {
            return try await recoverInterruptedSend(command, &outcome)
        }
        while true {
            let started = runner.now()
            if onceOnly {
                let record: JSON = [
                    "record": "intent", "step": .string(displayID), "command": .string(command),
                ]
                guard runner.journal(record, durable: true) else {
                    throw StepFailure(reason: "\(command) not sent: the journal cannot be written")
                }
                outcome.unansweredOnceOnly = command
            }
            let error: APIError
            let timedOut: Bool
            outcome.attemptDeadline = attemptLimit.map { clock.now() + $0 }
            do {
                let reply = try await tryOnce(
                    command: command,
                    until: outcome.attemptDeadline,
                    request
                )
                outcome.unansweredOnceOnly = nil
                if onceOnly { journalTask(of: reply) }
                outcome.result.attempts.append(
                    Attempt(number: number, started: started, ended: runner.now())
                )
                return reply
            } catch let timeout as AttemptTimeout {
                (error, timedOut) = (timeout.error, true)
            } catch let failure as APIError {
                (error, timedOut) = (failure, false)
            }
            if onceOnly, error.kind == .server || !error.requestMayHaveReachedServer {
                // The server answered with an error, or the request never left: nothing
                // started.
                runner.journal(["record": "not-started", "step": .string(displayID)])
                outcome.unansweredOnceOnly = nil
            }
            let summary = ErrorSummary(error)
            var attempt = Attempt(
                number: number,
                started: started,
                ended: runner.now(),
                error: summary,
                timedOut: timedOut
            )
            var decision = policy.decide(
                error,
                attempt: number,
                elapsed: clock.now() - first,
                random: runner.options.retryJitter
            )
            if let adopted = try await adoptLostTask(error, command: command) {
                journalTask(of: adopted.reply)
                outcome.result.attempts.append(attempt)
                outcome.result.reason = adopted.note
                return adopted.reply
            }
            if case .retry(let delay) = decision,
                let refusal = runner.windowRefusal(ofWait: delay)
            {
                decision = .fail(reason: "\(error.description); not retried: \(refusal)")
            }
            switch decision {
            case .relogin:
                outcome.result.attempts.append(attempt)
                runner.onEvent(.attemptFailed(id: displayID, attempt: attempt, retryAfter: 0))
                try await requireConnection().loginAgain()
                number += 1
            case .retry(let delay):
                attempt.waitBefore = delay
                outcome.result.attempts.append(attempt)
                runner.onEvent(
                    .attemptFailed(id: displayID, attempt: attempt, retryAfter: delay)
                )
                try await clock.sleep(seconds: delay)
                number += 1
            case .ignore:
                outcome.result.attempts.append(attempt)
                runner.onEvent(.attemptFailed(id: displayID, attempt: attempt, retryAfter: nil))
                throw StepFailure(
                    status: .ignored,
                    reason: error.description + " (ignored: on-error says continue)",
                    error: summary
                )
            case .fail(let reason):
                outcome.result.attempts.append(attempt)
                runner.onEvent(.attemptFailed(id: displayID, attempt: attempt, retryAfter: nil))
                throw StepFailure(reason: reason ?? error.description, error: summary)
            }
        }
    }

    /// The step's `attempt-timeout`, or the one of `defaults`, on the kinds it applies to.
    var attemptLimit: Double? {
        guard step.takesAttemptTimeout else { return nil }
        return step.attemptTimeout ?? context.playbook.defaults.attemptTimeout
    }

    /// Sends a request once, raced against the step's attempt timeout on the run's clock.
    ///
    /// When the time runs out first, the request is cancelled (libcurl aborts the transfer) and
    /// ``AttemptTimeout`` is thrown: a transport failure whose request may have reached the
    /// server, so a once-only command goes to adoption instead of being sent again.
    private func tryOnce(
        command: String,
        until deadline: Double?,
        _ request: @escaping @Sendable () async throws -> JSON
    ) async throws -> JSON {
        guard let deadline, let limit = attemptLimit else { return try await request() }
        let clock = runner.options.clock
        let (result, expired) = await clock.race(until: deadline) {
            () -> Result<JSON, any Error> in
            do {
                return .success(try await request())
            } catch {
                return .failure(error)
            }
        }
        // A reply that came in the same instant as the deadline is still a reply.
        var reply: Result<JSON, any Error>? = result
        if expired, case .failure = result { reply = nil }
        guard let reply else {
            try Task.checkCancellation()
            throw AttemptTimeout(command: command, limit: limit)
        }
        return try reply.get()
    }

    // MARK: - Kinds

    private func performLogin(_ login: Login, _ outcome: inout StepOutcome) async throws {
        let serverName = login.server ?? context.playbook.servers.keys.sorted().first ?? "server"
        let endpoint = try endpoint(for: serverName)
        let credentials: Credentials
        if let key = try evaluateString(login.apiKey, "'api-key'") {
            credentials = .apiKey(key)
        } else {
            credentials = .password(
                user: try evaluateString(login.user, "'user'") ?? "",
                password: try evaluateString(login.password, "'password'") ?? ""
            )
        }
        var options = LoginOptions()
        options.domain = try evaluateString(login.domain, "'domain'")
        options.readOnly =
            try login.readOnly.map { try evaluate($0, "'read-only'").json.isTruthy } ?? false
        options.sessionName = try evaluateString(login.sessionName, "'session-name'")
        if let timeout = login.sessionTimeout {
            options.sessionTimeout = (try evaluate(timeout, "'session-timeout'").json.intValue).map(
                Int.init
            )
        }
        let admin: String
        switch credentials {
        case .password(let user, _): admin = user
        case .apiKey(let key): admin = "api-key " + SHA256.hex(Array(key.utf8)).prefix(12)
        }
        let budgets = runner.budgets[serverName] ?? RateBudgets(clock: runner.options.clock)
        let budget = budgets.budget(server: endpoint.url, admin: admin, domain: options.domain)
        let run = runner.options
        let session =
            run.connectionFactory?(endpoint, run.userAgent, budget)
            ?? Session(
                endpoint: endpoint,
                userAgent: run.userAgent,
                budget: budget,
                clock: run.clock,
                thread: runner.runThread?.claim()
            )
        let loginOptions = options
        let reply = try await attempting(&outcome, command: "login") {
            try await session.login(credentials, options: loginOptions)
        }
        outcome.openedSession = session
        outcome.openedReadOnly = options.readOnly
        outcome.result.outputs = [
            "api-server-version": reply["api-server-version"] ?? .null,
            "url": reply["url"] ?? .null, "session-timeout": reply["session-timeout"] ?? .null,
            "response": reply,
        ]
        outcome.server = ServerSummary(
            name: serverName,
            url: endpoint.url,
            apiServerVersion: reply["api-server-version"]?.stringValue,
            simulated: runner.options.simulatorURL != nil
        )
    }

    private func endpoint(for serverName: String) throws -> Endpoint {
        if let simulator = runner.options.simulatorURL { return Endpoint(url: simulator) }
        guard let server = context.playbook.servers[serverName] else {
            throw StepFailure(reason: "server '\(serverName)' is not defined")
        }
        guard let url = try evaluateString(server.url, "the url of server '\(serverName)'") else {
            throw StepFailure(reason: "the url of server '\(serverName)' is empty")
        }
        let tls: TLSPolicy
        switch server.tls {
        case .system: tls = .system
        case .insecure: tls = .insecure
        case .caFile(let file): tls = .caFile(try evaluateString(file, "'ca-file'") ?? "")
        case .fingerprint(let pin):
            tls = .fingerprint(try evaluateString(pin, "'fingerprint'") ?? "")
        }
        return Endpoint(url: url, tls: tls)
    }

    private func performExport(
        _ request: ExportRequest,
        verifying: Bool,
        _ outcome: inout StepOutcome
    ) async throws {
        var body: [String: JSON] = [:]
        var secretFields: Set<String> = []
        for field in request.fields {
            let value = try evaluate(field.value, "'\(field.name)'")
            body[field.name] = value.json
            if value.isSecret { secretFields.insert(field.name) }
        }
        // A value built from a secret never appears in a message, even a wrong one.
        var problems = body.keys.sorted().compactMap { name -> String? in
            guard let problem = ExportRules.problem(field: name, value: body[name] ?? .null) else {
                return nil
            }
            return secretFields.contains(name)
                ? "'\(name)' is not valid (its value is built from a secret and not shown)"
                : problem
        }
        problems += ExportRules.ruleProblems(
            known: body,
            present: Set(body.keys),
            verifying: verifying
        )
        guard problems.isEmpty else {
            throw StepFailure(reason: "not sent: " + problems.joined(separator: "; "))
        }
        if verifying { body["pre-export-verification-only"] = true }
        let session = try requireConnection()
        let server = serverName
        if !verifying {
            try await runner.exportSlots.acquire(server: server, connection: session)
            // Waiting for a slot took time: the window may have no room left now.
            if let refusal = runner.windowRefusal(for: step, labelled: displayID) {
                await runner.exportSlots.abandon(server: server)
                throw StepFailure(status: .refused, reason: refusal)
            }
        }
        let reply: JSON
        let request = JSON.object(body)
        do {
            reply = try await attempting(&outcome, command: "export-management") {
                try await session.call("export-management", request)
            }
        } catch {
            if !verifying { await runner.exportSlots.abandon(server: server) }
            throw error
        }
        guard let taskID = reply["task-id"]?.stringValue else {
            if !verifying { await runner.exportSlots.abandon(server: server) }
            throw StepFailure(reason: "export-management replied without a task-id")
        }
        await runner.registry.know(taskID: taskID)
        if !verifying { await runner.exportSlots.started(server: server, taskID: taskID) }
        outcome.result.taskID = taskID
        outcome.result.outputs = ["task-id": .string(taskID), "response": reply]
    }

    private func performWait(_ wait: Wait, _ outcome: inout StepOutcome) async throws {
        let value = try evaluate(wait.task, "'task'")
        guard let taskID = value.json.stringValue, !taskID.isEmpty else {
            throw StepFailure(reason: "'task' is \(value.json.serialized()), not a task-id")
        }
        outcome.result.taskID = taskID
        outcome.result.outputs["task-id"] = .string(taskID)
        let timeout = wait.timeout ?? step.timeout ?? context.playbook.defaults.timeout
        let id = displayID
        let task = try await requireConnection().waitForTask(taskID, timeout: timeout) {
            [runner] info in
            runner.onEvent(
                .stepProgress(
                    id: id,
                    taskID: info.taskID,
                    percent: info.progress,
                    status: info.status.rawValue,
                    at: runner.now()
                )
            )
        }
        await runner.exportSlots.finished(taskID: taskID)
        outcome.result.task = task
        outcome.result.outputs["task"] = task.raw
        guard task.status.isSuccessByDefault else {
            throw StepFailure(
                reason: "task \(taskID) ended '\(task.status.rawValue)'" + Self.detailText(task)
            )
        }
    }

    /// A reply without the session ids some commands return (login-to-domain, for one): the
    /// session id is a secret and outputs reach the journal.
    static func withoutSessionIDs(_ reply: JSON) -> JSON {
        switch reply {
        case .object(var members):
            members["sid"] = nil
            return .object(members.mapValues(withoutSessionIDs))
        case .array(let items): return .array(items.map(withoutSessionIDs))
        default: return reply
        }
    }

    static func detailText(_ task: TaskInfo) -> String {
        let messages = (task.details.arrayValue ?? []).compactMap { detail -> String? in
            detail["fault-message"]?.stringValue ?? detail["statusDescription"]?.stringValue
                ?? detail["message"]?.stringValue
        }
        return messages.isEmpty ? "" : ": " + messages.joined(separator: "; ")
    }

    private func performCall(_ call: Call, _ outcome: inout StepOutcome) async throws {
        let body: Value
        do {
            body = try call.body.evaluate(in: context.scope)
        } catch {
            throw StepFailure(reason: "'body': \(error.message)")
        }
        let session = try requireConnection()
        let reply = try await attempting(&outcome, command: call.command) {
            try await session.call(call.command, body.json)
        }
        outcome.result.outputs["response"] = Self.withoutSessionIDs(reply)
        if let taskID = reply["task-id"]?.stringValue {
            await runner.registry.know(taskID: taskID)
            outcome.result.taskID = taskID
            outcome.result.outputs["task-id"] = .string(taskID)
        }
        if let tasks = reply["tasks"] { outcome.result.outputs["tasks"] = tasks }
        guard call.waitForTask, let taskID = outcome.result.taskID else { return }
        let task = try await waitForCalledTask(taskID, session: session, &outcome)
        outcome.result.task = task
        outcome.result.outputs["task"] = task.raw
        guard task.status.isSuccessByDefault else {
            throw StepFailure(
                reason: "task \(taskID) ended '\(task.status.rawValue)'" + Self.detailText(task)
            )
        }
    }

    /// Waits for the task a call started: within what is left of the attempt when the step has
    /// an `attempt-timeout`, since the wait is part of the attempt.
    ///
    /// An attempt that runs out while it waits is not tried again: the command was answered and
    /// its task runs on, so the step ends timed out and the report gives the task-id.
    private func waitForCalledTask(
        _ taskID: String,
        session: any Connection,
        _ outcome: inout StepOutcome
    ) async throws -> TaskInfo {
        guard let deadline = outcome.attemptDeadline, let limit = attemptLimit else {
            return try await session.waitForTask(taskID, timeout: step.timeout) { _ in }
        }
        let left = max(0, deadline - runner.options.clock.now())
        do {
            return try await session.waitForTask(taskID, timeout: left) { _ in }
        } catch let timeout as TaskWaitTimeout {
            let reason =
                "the attempt ran out of its attempt-timeout of \(DurationText.format(limit)) while"
                + " it waited for task \(taskID); the task may still be running on the server"
            outcome.result.task = timeout.lastSeen
            if let last = outcome.result.attempts.indices.last {
                outcome.result.attempts[last].ended = runner.now()
                outcome.result.attempts[last].error = ErrorSummary(message: reason)
                outcome.result.attempts[last].timedOut = true
            }
            throw StepFailure(status: .timedOut, reason: reason)
        }
    }

    private func performAssert(_ assertion: Assertion) throws {
        guard try !evaluate(assertion.condition, "'that'").json.isTruthy else { return }
        guard let template = assertion.message else {
            throw StepFailure(reason: "the assertion is false")
        }
        let message = try evaluate(template, "'message'")
        guard !message.isSecret else {
            throw StepFailure(
                reason: "the assertion is false (its message is built from a secret and not shown)"
            )
        }
        throw StepFailure(reason: message.json.interpolated)
    }
}
