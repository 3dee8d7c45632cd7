import ChkflowCore
import FoundationEssentials
import Glibc
import Playbook

/// How long steps took in earlier runs of a playbook, read from their journals, so that the
/// change window can judge a step that declares no `expect`.
///
/// An export's or a verification's duration counts until its task ended: the duration of the
/// step itself plus the wait that polled its task.
public struct StepHistory: Sendable {
    /// Durations in seconds by labelled step id, one per earlier successful run of the step.
    public var durations: [String: [Double]] = [:]

    public init(durations: [String: [Double]] = [:]) { self.durations = durations }

    /// Reads every journal of the playbook in the state folder, except the run `excluding`.
    public static func load(
        state: StateDirectory,
        playbook name: String,
        excluding current: String?,
        simulated: Bool = false
    ) -> StepHistory {
        let folder = state.runsFolder(playbook: name)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var history = StepHistory()
        for file in files.sorted() where file.hasSuffix(".ndjson") {
            guard file != (current ?? "") + ".ndjson" else { continue }
            guard let records = try? Journal.records(at: folder + "/" + file) else { continue }
            // Rehearsals on the simulator say nothing of how long a real server takes, and
            // the other way round.
            guard records.first?["simulated"]?.boolValue ?? false == simulated else { continue }
            history.add(records)
        }
        return history
    }

    private mutating func add(_ records: [JSON]) {
        var ended: [String: StepResult] = [:]
        for record in records where record["record"] == "step-ended" {
            guard let step = record["step"]?.stringValue,
                let result = record["result"].flatMap(StepResult.init(json:)),
                result.status == .succeeded, result.duration != nil
            else { continue }
            ended[step] = result
        }
        var taskOwner: [String: String] = [:]
        for (step, result) in ended where result.kind == "export" || result.kind == "verify" {
            if let taskID = result.taskID { taskOwner[taskID] = step }
        }
        for (step, result) in ended {
            guard let duration = result.duration else { continue }
            if result.kind == "export" || result.kind == "verify" { continue }
            durations[step, default: []].append(duration)
            if result.kind == "wait", let taskID = result.taskID, let owner = taskOwner[taskID] {
                durations[owner, default: []].append(duration + (ended[owner]?.duration ?? 0))
            }
        }
    }

    /// The 95th percentile (nearest rank) of a step's earlier durations, and how many there are.
    public func percentile95(of step: String) -> (seconds: Double, runs: Int)? {
        guard let values = durations[step], !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((0.95 * Double(sorted.count)).rounded(.up))
        return (sorted[max(0, rank - 1)], sorted.count)
    }
}
