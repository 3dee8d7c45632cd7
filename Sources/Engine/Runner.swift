import ChkflowCore
import FoundationEssentials
import Glibc
import ManagementAPI
import Playbook

/// Runs a plan: starts each step as soon as the steps it waits for have ended, up to
/// `maxParallel` at once, and logs out every session at the end whatever happened.
public final class Runner: Sendable {
    let plan: Plan
    let options: RunOptions
    let onEvent: @Sendable (EngineEvent) -> Void
    let registry: SessionRegistry
    let exportSlots: ExportSlots
    /// The run-wide limit of `--max-parallel`.
    ///
    /// Items of a `for-each` share it with every other step. A `for-each` step itself holds no
    /// slot, so its items can never wait for it.
    let parallel: ParallelLimit
    /// The rate budgets of each server, shared by every session of the run: requests per
    /// second and logins per minute (3 unless the playbook says, as real servers since R81).
    let budgets: [String: RateBudgets]
    /// The thread the run's scheduling prefers, and the first session's; nil when the run's
    /// clock brings an executor of its own (tests in virtual time).
    let runThread: SessionThread?

    public init(
        plan: Plan,
        options: RunOptions,
        onEvent: @escaping @Sendable (EngineEvent) -> Void = { _ in }
    ) {
        self.plan = plan
        self.options = options
        self.onEvent = onEvent
        self.parallel = ParallelLimit(max(1, options.maxParallel))
        self.registry = SessionRegistry(clock: options.clock)
        self.runThread = options.clock.executor == nil ? SessionThread() : nil
        self.budgets = plan.playbook.servers.mapValues { server in
            RateBudgets(
                RateBudget.Limits(
                    requestsPerSecond: server.requestsPerSecond,
                    loginsPerMinute: server.loginsPerMinute ?? 3
                ),
                clock: options.clock
            )
        }
        self.exportSlots = ExportSlots(
            limits: plan.playbook.servers.compactMapValues(\.exportsAtOnce),
            clock: options.clock
        )
    }

    /// Resolves inputs and secrets; call before `run` so that bad input stops the run before any
    /// request is sent.
    public func prepare() throws(RunSetupError) -> PreparedRun {
        var prepared = PreparedRun(
            values: try RunValues.resolve(plan.playbook, options: options),
            runID: PreparedRun.makeRunID(at: now())
        )
        if let runID = options.resume?.runID ?? options.runID { prepared.runID = runID }
        if let resume = options.resume, let before = resume.inputs, before != prepared.values.inputs
        {
            let names = Set(before.keys).union(prepared.values.inputs.keys).sorted().filter {
                before[$0] != prepared.values.inputs[$0]
            }
            let changes = names.map { name in
                let then = before[name]?.interpolated ?? "unset"
                let now = prepared.values.inputs[name]?.interpolated ?? "unset"
                return "\(name): '\(then)' then, '\(now)' now"
            }
            throw RunSetupError(messages: [
                "--resume: the inputs differ from run \(resume.runID) (\(changes.joined(separator: "; "))); "
                    + "resume with the same --var values, or start a new run"
            ])
        }
        return prepared
    }

    /// Runs every step and returns the result; never throws, a failure is a result.
    public func run(_ prepared: PreparedRun) async -> RunResult {
        defer { runThread?.stopUnlessClaimed() }
        return await withTaskExecutorPreference(options.clock.executor ?? runThread?.executor) {
            await runSteps(prepared)
        }
    }

    private func runSteps(_ prepared: PreparedRun) async -> RunResult {
        let started = options.resume?.started ?? now()
        for taskID in options.resume?.allTaskIDs ?? [] { await registry.know(taskID: taskID) }
        journalRunStart(prepared.runID, inputs: prepared.values.inputs)
        let shared = RunShared(
            playbook: plan.playbook,
            values: prepared.values,
            environment: .object(options.environment.mapValues(JSON.string))
        )
        var state = RunState(nodes: plan.nodes, shared: shared)
        await schedule(&state)
        let cancelled = state.cancelled || Task.isCancelled
        let cleanup = await registry.logOutRemaining(
            within: options.cleanUpLogoutTimeout,
            discarding: cancelled
        )
        for (id, why) in cleanup.discardsFailed {
            onEvent(
                .notice(
                    "the unpublished changes of session '\(id)' were not discarded: \(why); they"
                        + " may stay on the server until an administrator discards them",
                    at: now()
                )
            )
        }
        for id in cleanup.loggedOut {
            onEvent(
                .notice("logged out session '\(id)', which no logout step closed", at: now())
            )
        }
        for (id, why) in cleanup.leftOpen {
            onEvent(
                .notice(
                    "session '\(id)' is left open: \(why); it stays open on the server until its"
                        + " idle timeout ends it",
                    at: now()
                )
            )
        }
        let totals = await registry.totals()
        let ordered = state.orderedResults
        let outcome: RunResult.Outcome =
            cancelled ? .cancelled : ordered.contains { $0.status.failsRun } ? .failed : .succeeded
        journal(["record": "run-ended", "outcome": .string(outcome.rawValue)], durable: true)
        return RunResult(
            runID: prepared.runID,
            playbookName: plan.playbook.name,
            playbookFile: plan.playbook.file,
            playbookSHA256: plan.playbook.sha256,
            started: started,
            ended: now(),
            outcome: outcome,
            steps: ordered,
            servers: await registry.servers(),
            apiCalls: totals.calls,
            logins: totals.logins,
            waitingSeconds: Self.waiting(ordered),
            cleanupLogouts: cleanup.loggedOut,
            sessionsLeftOpen: cleanup.leftOpen.map(\.id),
            discardsFailed: cleanup.discardsFailed.map(\.id)
        )
    }

    /// The wall time of the run's clock, seconds since 1970.
    func now() -> Double { options.clock.wallTime() }

    private static func waiting(_ results: [StepResult]) -> Double {
        results.reduce(0) { total, result in
            let own = result.kind == "wait" ? result.duration ?? 0 : 0
            return total + own + result.items.reduce(0) { $0 + waiting($1.steps) }
        }
    }

    /// Runs one graph to its end: the playbook's, or one item's of a `for-each`.
    func schedule(_ state: inout RunState) async {
        let limit = max(1, options.maxParallel)
        await takeOverFromInterruptedRun(&state)
        await withTaskGroup(of: (Int, StepOutcome).self) { group in
            var running = 0
            while state.unfinished > 0 {
                if Task.isCancelled { state.cancelPending() }
                while running < limit, let position = state.nextReady() {
                    if let skipped = state.decideSkip(position)
                        ?? refusal(state.nodes[position], labelled: state.labelledID(position))
                    {
                        journalStepEnd(skipped, labelled: state.labelledID(position))
                        state.finish(position, StepOutcome(result: skipped))
                        onEvent(.stepEnded(labelled(skipped, state.label)))
                        continue
                    }
                    let context = state.context(for: position)
                    journal(["record": "step-started", "step": .string(state.labelledID(position))])
                    running += 1
                    let id = labelled(context.step.id, state.label)
                    onEvent(.stepStarted(id: id, kind: context.step.kindName, at: now()))
                    let holdsSlot = context.node.children.isEmpty
                    group.addTask {
                        if holdsSlot { await self.parallel.acquire() }
                        let outcome = await StepExecutor(context: context, runner: self).execute()
                        if holdsSlot { await self.parallel.release() }
                        return (position, outcome)
                    }
                }
                guard let (position, outcome) = await group.next() else { break }
                running -= 1
                journalStepEnd(outcome.result, labelled: state.labelledID(position))
                state.finish(position, outcome)
                if let session = outcome.openedSession {
                    await registry.add(
                        session,
                        id: labelled(outcome.result.id, state.label),
                        readOnly: outcome.openedReadOnly
                    )
                }
                if let server = outcome.server { await registry.add(server) }
                onEvent(.stepEnded(labelled(outcome.result, state.label)))
            }
        }
    }

    /// Finishes at once the steps an interrupted run already did.
    private func takeOverFromInterruptedRun(_ state: inout RunState) async {
        guard let resume = options.resume else { return }
        for position in state.nodes.indices {
            let id = state.labelledID(position)
            guard let result = resume.takeOver(state.nodes[position].step, labelled: id) else {
                continue
            }
            if let taskID = result.taskID { await registry.know(taskID: taskID) }
            state.finish(position, StepOutcome(result: result))
            onEvent(.stepEnded(labelled(result, state.label)))
        }
    }

    /// A refused result when the change window has no room for the step.
    private func refusal(_ node: Plan.Node, labelled id: String) -> StepResult? {
        // A step that takes up a task the interrupted run started starts nothing new.
        if let resume = options.resume,
            resume.recordedTask(labelled: id) != nil || resume.pendingIntent(labelled: id) != nil
        {
            return nil
        }
        guard let reason = windowRefusal(for: node.step, labelled: id) else { return nil }
        var result = StepResult(id: node.step.id, kind: node.step.kindName, status: .refused)
        result.reason = reason
        return result
    }

    private func labelled(_ id: String, _ label: String?) -> String {
        label.map { "\($0).\(id)" } ?? id
    }

    private func labelled(_ result: StepResult, _ label: String?) -> StepResult {
        var copy = result
        copy.id = labelled(result.id, label)
        return copy
    }
}

extension Runner {
    /// Appends a record to the journal, if the run has one; says so when it cannot.
    ///
    /// A `durable` record (what a resume needs to never send a once-only command twice) is synced
    /// to disk before this returns.
    @discardableResult
    func journal(_ record: JSON, durable: Bool = false) -> Bool {
        guard let journal = options.journal else { return true }
        var stamped = record.objectValue ?? [:]
        stamped["time"] = .string(RFC3339.format(now()))
        do {
            try journal.append(.object(stamped), durable: durable)
            return true
        } catch {
            onEvent(.notice(error.message, at: now()))
            return false
        }
    }

    func journalRunStart(_ runID: String, inputs: [String: JSON]) {
        let playbook = plan.playbook
        if options.resume != nil {
            journal(["record": "resumed", "run-id": .string(runID)])
            return
        }
        journal([
            "record": "run", "chkflow-journal": 1, "run-id": .string(runID),
            "playbook": [
                "name": .string(playbook.name), "file": .string(playbook.file),
                "sha256": .string(playbook.sha256),
            ],
            "inputs": .object(inputs),
            "simulated": .bool(options.simulatorURL != nil),
        ])
    }

    func journalStepEnd(_ result: StepResult, labelled id: String) {
        guard options.journal != nil else { return }
        journal([
            "record": "step-ended", "step": .string(id), "result": result.json,
            "outputs": .object(result.outputs),
        ])
    }
}

/// A counting semaphore for the steps running at once.
actor ParallelLimit {
    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(_ slots: Int) { available = slots }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            available += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

/// Every session and server a run met, for the totals and the final clean-up.
actor SessionRegistry {
    private let clock: any RunClock
    private var sessions: [(id: String, session: any Connection, readOnly: Bool)] = []
    private var serverList: [ServerSummary] = []
    private var taskIDs: Set<String> = []

    init(clock: any RunClock) { self.clock = clock }

    /// Remembers a task this run started, so that adoption never picks it for another step.
    func know(taskID: String) { taskIDs.insert(taskID) }

    func knows(taskID: String) -> Bool { taskIDs.contains(taskID) }

    func add(_ session: any Connection, id: String, readOnly: Bool = false) {
        sessions.append((id, session, readOnly))
    }

    func add(_ server: ServerSummary) { serverList.append(server) }

    func servers() -> [ServerSummary] { serverList }

    /// What the end-of-run clean-up did with the sessions still open.
    struct CleanUp {
        var loggedOut: [String] = []
        /// Sessions whose logout failed or timed out, each with the reason.
        var leftOpen: [(id: String, why: String)] = []
        /// Sessions whose discard failed or timed out, each with the reason.
        var discardsFailed: [(id: String, why: String)] = []
    }

    /// Logs out every session still open, all at once and outside any cancellation, so none is
    /// left behind; each logout may take `limit` seconds, after which it is given up.
    ///
    /// With `discarding` (the run was cancelled), each session that is not read-only first
    /// sends `discard`, also given up after `limit` seconds, so that the changes a cancelled
    /// step left unpublished do not stay on the server, locking what they touched. The logout
    /// is sent whether or not the discard worked.
    func logOutRemaining(within limit: Double, discarding: Bool = false) async -> CleanUp {
        var open: [(id: String, session: any Connection, readOnly: Bool)] = []
        for entry in sessions where await entry.session.isLoggedIn { open.append(entry) }
        let clock = clock
        let endings = await withTaskGroup(of: (Int, Ending).self) { group in
            for (index, entry) in open.enumerated() {
                let discard = discarding && !entry.readOnly
                group.addTask {
                    let ending = await Self.close(
                        entry.session,
                        discard: discard,
                        within: limit,
                        on: clock
                    )
                    return (index, ending)
                }
            }
            var endings = [Ending](repeating: Ending(), count: open.count)
            for await (index, ending) in group { endings[index] = ending }
            return endings
        }
        var cleanUp = CleanUp()
        for (entry, ending) in zip(open, endings) {
            if let why = ending.discard { cleanUp.discardsFailed.append((entry.id, why)) }
            if let why = ending.logout {
                cleanUp.leftOpen.append((entry.id, why))
            } else {
                cleanUp.loggedOut.append(entry.id)
            }
        }
        return cleanUp
    }

    /// Why the discard and the logout of one session failed; nil for each that worked.
    private struct Ending: Sendable {
        var discard: String?
        var logout: String?
    }

    private static func close(
        _ session: any Connection,
        discard: Bool,
        within limit: Double,
        on clock: any RunClock
    ) async -> Ending {
        var ending = Ending()
        if discard {
            ending.discard = await bounded("discard", within: limit, on: clock) {
                _ = try await session.call("discard", [:])
            }
        }
        ending.logout = await bounded("logout", within: limit, on: clock) {
            try await session.logout()
        }
        return ending
    }

    /// Sends one clean-up command in a task of its own, which the run's cancellation does not
    /// reach, and cancels it after `limit` seconds of `clock`; nil when it worked, else why not.
    private static func bounded(
        _ command: String,
        within limit: Double,
        on clock: any RunClock,
        _ send: @escaping @Sendable () async throws -> Void
    ) async -> String? {
        let executor = clock.executor
        let request = Task.detached(executorPreference: executor) { () -> (any Error)? in
            do {
                try await send()
                return nil
            } catch {
                return error
            }
        }
        let deadline = clock.now() + limit
        let timer = Task.detached(executorPreference: executor) {
            try await clock.sleep(until: deadline)
            request.cancel()
        }
        let error = await request.value
        timer.cancel()
        switch error {
        case nil: return nil
        case is CancellationError:
            return "the server did not answer its \(command) within \(DurationText.format(limit))"
        case let error?: return "its \(command) failed (\(error))"
        }
    }

    func totals() async -> CallStatistics {
        var total = CallStatistics()
        for (_, session, _) in sessions {
            let statistics = await session.statistics
            total.calls += statistics.calls
            total.logins += statistics.logins
            total.connections += statistics.connections
        }
        return total
    }
}

/// Inputs and secrets resolved for one run, and its id.
public struct PreparedRun: Sendable {
    var values: RunValues
    public var runID: String

    init(values: RunValues, runID: String) {
        self.values = values
        self.runID = runID
    }

    /// A new run id: the UTC time of the run (`time`, seconds since 1970, now unless given),
    /// then 8 random hex digits.
    public static func makeRunID(at time: Double = Date().timeIntervalSince1970) -> String {
        let stamp = RFC3339.format(time).filter { $0.isNumber }.prefix(14)
        let suffix = UUID().uuidString.lowercased().prefix(8)
        return "\(stamp)-\(suffix)"
    }
}
