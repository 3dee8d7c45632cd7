import ChkflowCore
import FoundationEssentials
import Glibc
import Playbook

extension Runner {
    /// The last moment (seconds since 1970) a step may end: the window's close less its reserve.
    var windowDeadline: Double? {
        plan.playbook.window.map { $0.closes - $0.reserve }
    }

    /// Why a step may not start now, or nil: its `expect`, or else the 95th percentile of its
    /// durations in earlier runs, would take it past the window.
    ///
    /// Only steps that start work on the server are judged (an export, a verification, a call
    /// that is not read-only); once the window's last moment has passed, they are refused even
    /// with nothing expected of them. Waits, logins, logouts and assertions always run.
    func windowRefusal(for step: Step, labelled id: String) -> String? {
        switch step.kind {
        case .export, .verify: break
        case .call where step.commandClass == .onceOnly: break
        default: return nil
        }
        if let deadline = windowDeadline, options.clock.wallTime() >= deadline,
            let window = plan.playbook.window
        {
            return "refused: the change window left no room (it closes at \(window.closesText) "
                + "and keeps \(DurationText.format(window.reserve)) in reserve)"
        }
        if let expect = step.expect { return windowRefusal(expecting: expect, basis: "") }
        guard let learned = options.history.percentile95(of: id) else { return nil }
        let runs = learned.runs == 1 ? "1 earlier run" : "\(learned.runs) earlier runs"
        return windowRefusal(expecting: learned.seconds, basis: " (95th percentile of \(runs))")
    }

    /// Why a step that expects to take `expected` seconds may not start now, or nil.
    func windowRefusal(expecting expected: Double?, basis: String = "") -> String? {
        guard let window = plan.playbook.window, let deadline = windowDeadline,
            let expected
        else { return nil }
        let now = options.clock.wallTime()
        guard now + expected > deadline else { return nil }
        return
            "refused: it is expected to take \(DurationText.format(expected))\(basis) and would end at "
            + "\(RFC3339.format(now + expected)), after \(RFC3339.format(deadline)) (the window "
            + "closes at \(window.closesText) and keeps \(DurationText.format(window.reserve)) "
            + "in reserve)"
    }

    /// Why a retry may not wait `delay` seconds: the wait would reach past the window.
    func windowRefusal(ofWait delay: Double) -> String? {
        guard let deadline = windowDeadline else { return nil }
        let now = options.clock.wallTime()
        guard now + delay > deadline else { return nil }
        return
            "the wait of \(DurationText.format(delay)) would reach past \(RFC3339.format(deadline)), "
            + "the end of the change window less its reserve"
    }
}

/// Keeps the number of export-management tasks a run has running on a server under its
/// `limits.exports-at-once`.
///
/// A slot is taken before the export is sent and given back when a wait sees its task end. When
/// all slots are taken, the tasks holding them are checked with show-task now and then, so that
/// a task nobody waits for does not hold its slot for ever.
actor ExportSlots {
    private let limits: [String: Int]
    private let clock: any RunClock
    private var running: [String: Set<String>] = [:]
    private var reserved: [String: Int] = [:]

    init(limits: [String: Int], clock: any RunClock) {
        self.limits = limits
        self.clock = clock
    }

    func acquire(server: String, connection: any Connection) async throws {
        guard let limit = limits[server] else { return }
        while running[server, default: []].count + reserved[server, default: 0] >= limit {
            let ids = running[server, default: []].sorted()
            if !ids.isEmpty, let tasks = try? await connection.showTasks(ids) {
                for task in tasks where task.status.isTerminal {
                    running[server, default: []].remove(task.taskID)
                }
            }
            if running[server, default: []].count + reserved[server, default: 0] >= limit {
                try await clock.sleep(seconds: 1)
            }
        }
        reserved[server, default: 0] += 1
    }

    /// The export was sent and started `taskID`.
    func started(server: String, taskID: String) {
        guard limits[server] != nil else { return }
        reserved[server, default: 1] -= 1
        running[server, default: []].insert(taskID)
    }

    /// The export was not sent, or the server refused it.
    func abandon(server: String) {
        guard limits[server] != nil else { return }
        reserved[server, default: 1] -= 1
    }

    /// A wait saw the task end.
    func finished(taskID: String) {
        for server in running.keys { running[server]?.remove(taskID) }
    }
}
