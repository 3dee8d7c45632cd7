import ChkflowCore
import Engine
import Playbook

/// The run as JUnit XML, for CI systems that show test results.
///
/// One `testsuite` per run, named after the playbook; one `testcase` per step, and one per step
/// of each `for-each` item, named as events name it (`each[3].export`). Failed, refused and
/// timed-out steps carry a `failure`, cancelled ones an `error`, skipped ones `skipped`; an
/// ignored step passes and says why in `system-out`.
public enum JUnitReport {
    /// The XML document, UTF-8, ending with a newline.
    public static func xml(_ run: RunResult) -> String {
        let cases = testCases(run.steps, label: nil)
        let tally = Tally(cases.map(\.step.status))
        let counts = attributes([
            ("name", run.playbookName), ("tests", "\(cases.count)"),
            ("failures", "\(tally.failures)"), ("errors", "\(tally.errors)"),
            ("skipped", "\(tally.skipped)"), ("time", seconds(run.ended - run.started)),
        ])
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            "<testsuites" + counts + ">",
            "  <testsuite" + counts + attributes([("timestamp", timestamp(run.started))]) + ">",
            "    <properties>",
        ]
        for (name, value) in properties(run) {
            lines.append("      <property" + attributes([("name", name), ("value", value)]) + "/>")
        }
        lines.append("    </properties>")
        for testCase in cases {
            lines += element(testCase, classname: run.playbookName)
        }
        lines += ["  </testsuite>", "</testsuites>"]
        return lines.joined(separator: "\n") + "\n"
    }

    private static func properties(_ run: RunResult) -> [(String, String)] {
        var result = [
            ("run-id", run.runID), ("playbook-file", run.playbookFile),
            ("playbook-sha256", run.playbookSHA256), ("outcome", run.outcome.rawValue),
            ("api-calls", "\(run.apiCalls)"), ("logins", "\(run.logins)"),
        ]
        for server in run.servers {
            result.append(("server." + server.name, server.apiServerVersion ?? "unknown"))
        }
        return result
    }

    /// A step with the name it has in the suite.
    private struct TestCase {
        var name: String
        var step: StepResult
    }

    private static func testCases(_ steps: [StepResult], label: String?) -> [TestCase] {
        var result: [TestCase] = []
        for step in steps {
            let name = label.map { "\($0).\(step.id)" } ?? step.id
            result.append(TestCase(name: name, step: step))
            for item in step.items {
                result += testCases(item.steps, label: "\(name)[\(item.index)]")
            }
        }
        return result
    }

    private static func element(_ testCase: TestCase, classname: String) -> [String] {
        let step = testCase.step
        let head =
            "    <testcase"
            + attributes([
                ("name", testCase.name), ("classname", classname),
                ("time", seconds(step.duration ?? 0)),
            ])
        let body = outcome(step)
        guard !body.isEmpty else { return [head + "/>"] }
        return [head + ">"] + body.map { "      " + $0 } + ["    </testcase>"]
    }

    /// The child elements that say how a step ended; none for a plain success.
    private static func outcome(_ step: StepResult) -> [String] {
        let reason = step.reason ?? step.status.rawValue
        switch step.status {
        case .succeeded:
            return []
        case .skipped:
            return ["<skipped" + attributes([("message", reason)]) + "/>"]
        case .ignored:
            return [
                "<system-out>" + Markup.escaped("ignored: " + reason, quotes: false)
                    + "</system-out>"
            ]
        case .cancelled:
            return [
                "<error" + attributes([("message", reason), ("type", "cancelled")]) + "/>"
            ]
        case .failed, .refused, .timedOut:
            let type = step.error?.code ?? step.status.rawValue
            let message = step.error.map { ($0.code.map { "\($0): " } ?? "") + $0.message }
            let open =
                "<failure" + attributes([("message", message ?? reason), ("type", type)]) + ">"
            return [open + Markup.escaped(details(step), quotes: false) + "</failure>"]
        }
    }

    /// The failure's text: the reason, the Check Point error in full, the task.
    private static func details(_ step: StepResult) -> String {
        var lines = [step.reason ?? step.status.rawValue]
        if let error = step.error {
            if let code = error.code { lines.append("code: \(code)") }
            if let status = error.httpStatus { lines.append("http-status: \(status)") }
            lines += error.errors.map { "error: \($0)" }
            lines += error.warnings.map { "warning: \($0)" }
            lines += error.blockingErrors.map { "blocking-error: \($0)" }
        }
        if let taskID = step.taskID { lines.append("task-id: \(taskID)") }
        if let task = step.task {
            lines.append("task: \(task.status.rawValue), \(task.progress)%")
        }
        if step.attempts.count > 1 { lines.append("attempts: \(step.attempts.count)") }
        return lines.joined(separator: "\n")
    }

    private struct Tally {
        var failures = 0
        var errors = 0
        var skipped = 0

        init(_ statuses: [StepStatus]) {
            for status in statuses {
                switch status {
                case .failed, .refused, .timedOut: failures += 1
                case .cancelled: errors += 1
                case .skipped: skipped += 1
                case .succeeded, .ignored: break
                }
            }
        }
    }

    private static func seconds(_ value: Double) -> String {
        let milliseconds = Int((max(0, value) * 1000).rounded())
        let fraction = String(milliseconds % 1000)
        return "\(milliseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count)
            + fraction
    }

    /// ISO 8601 in UTC without a zone, as the JUnit schema spells `timestamp`.
    private static func timestamp(_ time: Double) -> String {
        String(RFC3339.format(time).prefix(19))
    }

    private static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(Markup.escaped($0.1, quotes: true))\"" }.joined()
    }
}
