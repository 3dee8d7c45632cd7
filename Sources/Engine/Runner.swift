import ChkflowCore
import Foundation
import ManagementAPI
import Playbook

/// Runs a plan: starts each step as soon as the steps it waits for have ended, up to
/// `maxParallel` at once, and logs out every session at the end whatever happened.
public final class Runner: Sendable {
    let plan: Plan
    let options: RunOptions
    let onEvent: @Sendable (EngineEvent) -> Void

    public init(
        plan: Plan,
        options: RunOptions,
        onEvent: @escaping @Sendable (EngineEvent) -> Void = { _ in }
    ) {
        self.plan = plan
        self.options = options
        self.onEvent = onEvent
    }

    /// Resolves inputs and secrets; call before `run` so that bad input stops the run before any
    /// request is sent.
    public func prepare() throws(RunSetupError) -> PreparedRun {
        PreparedRun(values: try RunValues.resolve(plan.playbook, options: options))
    }

    /// Runs every step and returns the result; never throws, a failure is a result.
    public func run(_ prepared: PreparedRun) async -> RunResult {
        let started = Self.now()
        var state = RunState(plan: plan, values: prepared.values, environment: options.environment)
        await schedule(&state)
        let cleanup = await logOutRemaining(&state)
        var result = state.result(
            runID: prepared.runID,
            started: started,
            ended: Self.now(),
            cleanup: cleanup,
            simulated: options.simulatorURL != nil
        )
        for session in state.openedSessions {
            let statistics = await session.statistics
            result.apiCalls += statistics.calls
            result.logins += statistics.logins
        }
        return result
    }

    static func now() -> Double { Date().timeIntervalSince1970 }

    private func schedule(_ state: inout RunState) async {
        await withTaskGroup(of: StepOutcome.self) { group in
            var running = 0
            while true {
                if Task.isCancelled { state.cancelPending() }
                for id in state.readySteps() {
                    if let skipped = state.decideSkip(id) {
                        state.finish(StepOutcome(result: skipped))
                        onEvent(.stepEnded(skipped))
                        continue
                    }
                    guard running < max(1, options.maxParallel) else { break }
                    let context = state.context(for: id)
                    state.markRunning(id)
                    running += 1
                    onEvent(.stepStarted(id: id, kind: context.step.kindName, at: Self.now()))
                    group.addTask { await StepExecutor(context: context, runner: self).execute() }
                }
                guard running > 0 else {
                    if state.readySteps().isEmpty { break }
                    continue
                }
                guard let outcome = await group.next() else { break }
                running -= 1
                state.finish(outcome)
                onEvent(.stepEnded(outcome.result))
            }
        }
    }

    /// Logs out every session still open, outside any cancellation, so none is left behind.
    private func logOutRemaining(_ state: inout RunState) async -> [String] {
        var names: [String] = []
        for (id, session) in state.sessions.sorted(by: { $0.key < $1.key }) {
            let task = Task.detached { try? await session.logout() }
            await task.value
            names.append(id)
            onEvent(.notice("logged out session '\(id)', which no logout step closed"))
        }
        state.sessions.removeAll()
        return names
    }
}

/// Inputs and secrets resolved for one run, and its id.
public struct PreparedRun: Sendable {
    var values: RunValues
    public var runID: String

    init(values: RunValues) {
        self.values = values
        self.runID = Self.makeRunID()
    }

    private static func makeRunID() -> String {
        let stamp = RFC3339.format(Runner.now()).filter { $0.isNumber }.prefix(14)
        let suffix = UUID().uuidString.lowercased().prefix(8)
        return "\(stamp)-\(suffix)"
    }
}
