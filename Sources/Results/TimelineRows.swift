import ChkflowCore
import Playbook

/// One line of the run timeline: a step, or a `for-each` item, read back from a JSON report.
struct TimelineRow {
    /// One try of the step's request, and the wait after it when another followed.
    struct Try {
        var started: Double
        var ended: Double
        var failed: Bool
        var code: String?
        var waitAfter: Double?
    }

    var label: String
    var depth: Int
    var kind: String
    var status: String
    var started: Double?
    var ended: Double?
    var reason: String?
    var errorCode: String?
    var tries: [Try] = []
    var taskID: String?
    var taskStatus: String?
    var progress: Int?

    var isItem: Bool { kind == "item" }

    var duration: Double? {
        guard let started, let ended else { return nil }
        return ended - started
    }

    /// The rows of every step of a report, loop items and their steps after their loop.
    static func rows(_ report: JSON) -> [TimelineRow] {
        rows(report["steps"]?.arrayValue ?? [], label: nil, depth: 0)
    }

    private static func rows(_ steps: [JSON], label: String?, depth: Int) -> [TimelineRow] {
        var result: [TimelineRow] = []
        for step in steps {
            let id = step["id"]?.stringValue ?? "?"
            let name = label.map { "\($0).\(id)" } ?? id
            result.append(row(step, label: name, depth: depth))
            for item in step["items"]?.arrayValue ?? [] {
                let index = item["index"]?.intValue ?? 0
                let itemLabel = "\(name)[\(index)]"
                result.append(itemRow(item, label: itemLabel, depth: depth + 1))
                result += rows(
                    item["steps"]?.arrayValue ?? [],
                    label: itemLabel,
                    depth: depth + 2
                )
            }
        }
        return result
    }

    private static func row(_ step: JSON, label: String, depth: Int) -> TimelineRow {
        var row = TimelineRow(
            label: label,
            depth: depth,
            kind: step["kind"]?.stringValue ?? "?",
            status: step["status"]?.stringValue ?? "?",
            started: time(step["started"]),
            ended: time(step["ended"]),
            reason: step["reason"]?.stringValue,
            errorCode: step["error"]?["code"]?.stringValue
        )
        row.tries = (step["attempts"]?.arrayValue ?? []).compactMap(attempt)
        row.taskID = step["task-id"]?.stringValue
        row.taskStatus = step["task"]?["status"]?.stringValue
        row.progress = (step["task"]?["progress"]?.intValue).map(Int.init)
        return row
    }

    private static func itemRow(_ item: JSON, label: String, depth: Int) -> TimelineRow {
        let value = item["item"]
        let text = value?.stringValue ?? value?.serialized() ?? ""
        return TimelineRow(
            label: "\(label) \(text)",
            depth: depth,
            kind: "item",
            status: item["status"]?.stringValue ?? "?",
            started: time(item["started"]),
            ended: time(item["ended"])
        )
    }

    private static func attempt(_ attempt: JSON) -> Try? {
        guard let started = time(attempt["started"]), let ended = time(attempt["ended"]) else {
            return nil
        }
        return Try(
            started: started,
            ended: ended,
            failed: attempt["outcome"]?.stringValue == "failed",
            code: attempt["error"]?["code"]?.stringValue,
            waitAfter: attempt["wait-before-seconds"]?.doubleValue
        )
    }

    static func time(_ value: JSON?) -> Double? {
        value?.stringValue.flatMap(RFC3339.seconds)
    }
}
