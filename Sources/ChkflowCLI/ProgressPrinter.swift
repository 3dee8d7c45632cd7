import ChkflowCore
import Engine
import Foundation
import Synchronization

/// Turns engine events into progress lines on stderr.
final class ProgressPrinter: Sendable {
    let console: Console
    private let lastPercent = Mutex<[String: Int]>([:])

    init(console: Console) { self.console = console }

    func handle(_ event: EngineEvent) {
        switch event {
        case .stepStarted(let id, let kind, _):
            console.info("  ... \(id) (\(kind))")
        case .attemptFailed(let id, let attempt, let retryAfter):
            let code = attempt.error?.code ?? "error"
            if let retryAfter {
                console.info(
                    "      \(id): \(code) on attempt \(attempt.number); retrying in \(DurationText.format(retryAfter))"
                )
            } else if console.verbose {
                console.info("      \(id): \(code) on attempt \(attempt.number)")
            }
        case .stepProgress(let id, let taskID, let percent, let status, _):
            let changed = lastPercent.withLock { seen in
                defer { seen[id] = percent }
                return seen[id] != percent
            }
            if changed, console.verbose || percent % 25 == 0 || status != "in progress" {
                console.info("      \(id): task \(taskID) \(status) \(percent)%")
            }
        case .stepEnded(let result):
            console.info("  " + line(for: result))
        case .notice(let text, _):
            console.info("  note: \(text)")
        }
    }

    private func line(for result: StepResult) -> String {
        let mark =
            switch result.status {
            case .succeeded: "ok  "
            case .skipped: "skip"
            case .ignored: "ign "
            default: "FAIL"
            }
        var text = "\(mark) \(result.id) \(result.status.rawValue)"
        if let duration = result.duration { text += " in \(DurationText.format(duration))" }
        if let taskID = result.taskID { text += " (task \(taskID))" }
        if let reason = result.reason { text += ": \(reason)" }
        return text
    }

    func summary(_ result: RunResult) {
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
    }
}
