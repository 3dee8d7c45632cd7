import ChkflowCore
import Engine
import FoundationEssentials
import Glibc
import Synchronization

/// Turns engine events into progress on stderr.
///
/// On a terminal, each running step has one live line (its progress and elapsed time), redrawn
/// in place about once a second, and finished steps scroll above them. Elsewhere (a pipe, a CI
/// log) there is one plain line per change. `NO_COLOR` turns colour off; `-q` prints nothing
/// but errors; `-v` adds every attempt and every progress change.
final class ProgressPrinter: Sendable {
    let console: Console
    let live: Bool
    let colour: Bool
    private let state = Mutex(State())

    private struct State {
        var running: [(id: String, kind: String, started: Double, percent: Int?)] = []
        var drawnLines = 0
        var lastPercent: [String: Int] = [:]
    }

    init(console: Console, environment: [String: String]) {
        self.console = console
        live = Console.standardErrorIsTerminal && !console.quiet && environment["TERM"] != "dumb"
        colour = Console.standardErrorIsTerminal && environment["NO_COLOR"] == nil
    }

    func handle(_ event: EngineEvent) {
        switch event {
        case .stepStarted(let id, let kind, let at):
            state.withLock { $0.running.append((id, kind, at, nil)) }
            if live { redraw() } else { console.info("  ... \(id) (\(kind))") }
        case .attemptFailed(let id, let attempt, let retryAfter):
            let code = attempt.error?.code ?? attempt.error?.message ?? "error"
            if let retryAfter {
                print(
                    "      \(id): \(code) on attempt \(attempt.number); retrying in \(DurationText.format(retryAfter))"
                )
            } else if console.verbose {
                print("      \(id): \(code) on attempt \(attempt.number)")
            }
        case .stepProgress(let id, let taskID, let percent, let status, _):
            progress(id, taskID: taskID, percent: percent, status: status)
        case .stepEnded(let result):
            state.withLock { $0.running.removeAll { $0.id == result.id } }
            print("  " + line(for: result))
        case .notice(let text, _):
            print("  note: \(text)")
        }
    }

    private func progress(_ id: String, taskID: String, percent: Int, status: String) {
        let changed = state.withLock { state in
            defer { state.lastPercent[id] = percent }
            if let index = state.running.firstIndex(where: { $0.id == id }) {
                state.running[index].percent = percent
            }
            return state.lastPercent[id] != percent
        }
        if live {
            redraw()
        } else if changed, console.verbose || percent % 25 == 0 || status != "in progress" {
            console.info("      \(id): task \(taskID) \(status) \(percent)%")
        }
    }

    /// Prints a permanent line above the live lines.
    private func print(_ text: String) {
        guard !console.quiet else { return }
        guard live else { return console.info(text) }
        let clear = state.withLock { state in
            defer { state.drawnLines = 0 }
            return Self.erase(state.drawnLines)
        }
        Console.writeError(clear + text + "\n")
        redraw()
    }

    /// Redraws the live lines of the running steps; called on events and by the ticker.
    func redraw() {
        guard live else { return }
        let now = Date().timeIntervalSince1970
        let text = state.withLock { state -> String in
            var output = Self.erase(state.drawnLines)
            for step in state.running.prefix(20) {
                let elapsed = DurationText.format(max(0, now - step.started))
                let percent = step.percent.map { " \(Self.bar($0)) \($0)%" } ?? ""
                output += "  \(paint("…", .cyan)) \(step.id) (\(step.kind))\(percent) \(elapsed)\n"
            }
            state.drawnLines = min(state.running.count, 20)
            return output
        }
        Console.writeError(text)
    }

    /// Keeps the elapsed times moving while steps run; ends when the task is cancelled.
    func tick() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            redraw()
        }
    }

    /// Clears the live lines before the final summary.
    func finish() {
        guard live else { return }
        let clear = state.withLock { state in
            defer { state.drawnLines = 0 }
            return Self.erase(state.drawnLines)
        }
        Console.writeError(clear)
    }

    private static func erase(_ lines: Int) -> String {
        String(repeating: "\u{1B}[1A\u{1B}[2K", count: lines) + (lines > 0 ? "\r" : "")
    }

    private static func bar(_ percent: Int) -> String {
        let filled = max(0, min(10, percent / 10))
        return "[" + String(repeating: "#", count: filled)
            + String(repeating: ".", count: 10 - filled) + "]"
    }

    private enum Colour: String {
        case green = "32"
        case red = "31"
        case yellow = "33"
        case cyan = "36"
    }

    private func paint(_ text: String, _ colour: Colour) -> String {
        self.colour ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    private func line(for result: StepResult) -> String {
        let mark =
            switch result.status {
            case .succeeded: paint("ok  ", .green)
            case .skipped: paint("skip", .yellow)
            case .ignored: paint("ign ", .yellow)
            default: paint("FAIL", .red)
            }
        var text = "\(mark) \(result.id) \(result.status.rawValue)"
        if let duration = result.duration { text += " in \(DurationText.format(duration))" }
        if let taskID = result.taskID { text += " (task \(taskID))" }
        if let reason = result.reason { text += ": \(reason)" }
        return text
    }

    func summary(_ result: RunResult) {
        finish()
        let failed = result.steps.filter { $0.status.failsRun }
        let duration = DurationText.format(result.ended - result.started)
        if failed.isEmpty {
            console.info(
                "chkflow: \(result.outcome.rawValue) in \(duration): \(result.steps.count) steps"
            )
        } else {
            let names = failed.map(\.id).joined(separator: ", ")
            console.info("chkflow: \(result.outcome.rawValue) in \(duration); failed: \(names)")
        }
        let running = result.steps.filter { $0.status != .succeeded }.compactMap(\.taskID)
        if result.outcome == .cancelled, !running.isEmpty {
            console.info(
                "chkflow: server tasks may still be running: \(running.joined(separator: ", "))"
            )
        }
    }
}
