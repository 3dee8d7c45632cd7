import ChkflowCore
import Playbook

/// What a resumed run takes over from the journal of the run it resumes.
public struct ResumeState: Sendable {
    public var runID: String
    public var started: Double
    /// The inputs the interrupted run had (they are never secret); nil in older journals.
    public var inputs: [String: JSON]?
    /// Steps that ended well, by labelled id (`each[3].export`), with all their outputs.
    var kept: [String: StepResult] = [:]
    /// Task-ids recorded for steps that did not end, by labelled id.
    var tasks: [String: String] = [:]
    /// Once-only commands that were about to be sent, or sent with no reply read, by labelled id.
    var intents: [String: String] = [:]

    /// Reads the journal of an earlier run of `playbook`.
    ///
    /// - Throws: when the journal is unreadable or damaged, belongs to another playbook, or the
    ///   playbook changed since (its SHA-256 differs): resuming could then run other steps.
    public static func load(
        journal path: String,
        playbook: Playbook
    ) throws(JournalError)
        -> ResumeState
    {
        let records = try Journal.records(at: path)
        guard let first = records.first, first["record"] == "run",
            let runID = first["run-id"]?.stringValue
        else { throw JournalError("\(path) is not a chkflow journal") }
        let recorded = first["playbook"]?["sha256"]?.stringValue ?? ""
        guard recorded == playbook.sha256 else {
            throw JournalError(
                "the playbook changed since run \(runID) (SHA-256 \(recorded.prefix(12))… then, "
                    + "\(playbook.sha256.prefix(12))… now); resuming could run other steps, so "
                    + "start a new run instead"
            )
        }
        var state = ResumeState(
            runID: runID,
            started: first["time"]?.stringValue.flatMap(RFC3339.seconds) ?? 0,
            inputs: first["inputs"]?.objectValue
        )
        for record in records.dropFirst() { state.apply(record) }
        return state
    }

    private mutating func apply(_ record: JSON) {
        guard let step = record["step"]?.stringValue else { return }
        switch record["record"]?.stringValue {
        case "intent":
            intents[step] = record["command"]?.stringValue
        case "task":
            intents[step] = nil
            tasks[step] = record["task-id"]?.stringValue
        case "not-started":
            intents[step] = nil
        case "step-ended":
            guard var result = record["result"].flatMap(StepResult.init(json:)) else { return }
            if let outputs = record["outputs"]?.objectValue { result.outputs = outputs }
            result.id = String(step.split(separator: ".").last ?? Substring(step))
            if result.status == .succeeded || result.status == .ignored {
                kept[step] = result
                tasks[step] = nil
                intents[step] = nil
            } else {
                kept[step] = nil
                // A step that failed (its task ended badly) runs afresh on resume; one that
                // timed out or was cancelled keeps its task, which may still be running.
                if result.status == .failed { tasks[step] = nil }
            }
        default:
            break
        }
    }

    /// What a step takes over from the interrupted run: its result when it ended well; nil when
    /// it must run again.
    ///
    /// Logins and logouts always run again: sessions do not outlive the runner.
    func takeOver(_ step: Step, labelled id: String) -> StepResult? {
        switch step.kind {
        case .login, .logout: return nil
        default: break
        }
        guard var kept = kept[id] else { return nil }
        kept.reason = "kept from the interrupted run" + (kept.reason.map { " (\($0))" } ?? "")
        return kept
    }

    /// The task a step's once-only command started before the interruption, when the step did
    /// not end: the step goes on with it (a wait polls it) instead of sending the command again.
    func recordedTask(labelled id: String) -> String? { tasks[id] }

    /// Every task-id the interrupted run recorded, so that adoption never takes one for another
    /// step.
    var allTaskIDs: [String] {
        Array(tasks.values) + kept.values.compactMap(\.taskID)
            + kept.values.flatMap { $0.items.flatMap { $0.steps.compactMap(\.taskID) } }
    }

    /// The once-only command a step was sending when the run was interrupted, if any.
    func pendingIntent(labelled id: String) -> String? { intents[id] }
}
