import Engine
import Synchronization

/// The live lines of a run on a terminal: one per running step, with its elapsed time, its
/// task's progress, or the retry it is waiting for.
///
/// It only keeps state and makes text; the command line feeds it events, prints `redraw` on
/// standard error every few hundred milliseconds, and calls `erase` before printing a permanent
/// line (such as a step's end) and at the end of the run.
public final class LiveStatus: Sendable {
    private struct Running {
        var id: String
        var kind: String
        var started: Double
        var progress: (percent: Int, status: String)?
        var retry: (at: Double, number: Int, code: String)?
    }

    private struct State {
        var running: [Running] = []
        var drawn = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Follows one engine event.
    public func handle(_ event: EngineEvent) {
        state.withLock { state in
            switch event {
            case .stepStarted(let id, let kind, let at):
                state.running.append(Running(id: id, kind: kind, started: at))
            case .attemptFailed(let id, let attempt, let retryAfter):
                guard let retryAfter, let index = state.running.firstIndex(where: { $0.id == id })
                else { return }
                state.running[index].retry = (
                    attempt.ended + retryAfter, attempt.number + 1, attempt.error?.code ?? "error"
                )
            case .stepProgress(let id, _, let percent, let status, _):
                guard let index = state.running.firstIndex(where: { $0.id == id }) else { return }
                state.running[index].progress = (percent, status)
            case .stepEnded(let result):
                state.running.removeAll { $0.id == result.id }
            case .notice:
                break
            }
        }
    }

    /// One line per running step, in the order they started, cut to `width` characters.
    public func lines(now: Double, width: Int) -> [String] {
        state.withLock { state in
            state.running.map { Self.line($0, now: now, width: width) }
        }
    }

    /// Terminal text that replaces the lines drawn last time with the current ones.
    public func redraw(now: Double, width: Int) -> String {
        let current = lines(now: now, width: width)
        return state.withLock { state in
            let text = Self.eraseText(state.drawn) + current.map { $0 + "\n" }.joined()
            state.drawn = current.count
            return text
        }
    }

    /// Terminal text that removes the lines drawn last time.
    public func erase() -> String {
        state.withLock { state in
            defer { state.drawn = 0 }
            return Self.eraseText(state.drawn)
        }
    }

    /// Up to the first drawn line, then clear to the end of the screen.
    private static func eraseText(_ drawn: Int) -> String {
        drawn == 0 ? "" : "\u{1B}[\(drawn)A\r\u{1B}[J"
    }

    private static func line(_ step: Running, now: Double, width: Int) -> String {
        var text = "  \(step.id) (\(step.kind)) \(Ticks.label((now - step.started).rounded(.down)))"
        if let retry = step.retry {
            let left = retry.at - now
            text +=
                left > 0
                ? " · \(retry.code), attempt \(retry.number) in \(Ticks.label(left.rounded(.up)))"
                : " · attempt \(retry.number)"
        } else if let progress = step.progress {
            text += " · task \(progress.status) \(progress.percent)%"
        }
        guard text.count > width, width > 1 else { return text }
        return String(text.prefix(width - 1)) + "…"
    }
}
