import ChkflowCore
import Playbook

/// `chkflow plan PLAYBOOK`: the resolved graph without running it.
enum PlanCommand {
    static func execute(_ words: [String]) throws(UsageError) -> ExitCode {
        let arguments = try Arguments(words, valued: ["--format"], switches: [])
        guard arguments.operands.count == 1 else {
            throw UsageError("plan needs exactly one playbook")
        }
        let format = arguments.value("--format") ?? "text"
        guard ["text", "json", "mermaid", "dot"].contains(format) else {
            throw UsageError("--format must be text, json, mermaid or dot, not '\(format)'")
        }
        let console = Console()
        guard let plan = DiagnosticPrinter.loadPlan(arguments.operands[0], console: console) else {
            return .invalidInput
        }
        switch format {
        case "json": console.output(PlanRenderer.json(plan).prettyPrinted())
        case "mermaid": console.output(PlanRenderer.mermaid(plan))
        case "dot": console.output(PlanRenderer.dot(plan))
        default: console.output(PlanRenderer.text(plan))
        }
        return .success
    }
}

/// The plan in each of its printed forms.
enum PlanRenderer {
    static func condition(of step: Step) -> String {
        step.condition.map { "\($0)" } ?? "success()"
    }

    static func text(_ plan: Plan) -> String {
        let width = plan.nodes.map(\.step.id.count).max() ?? 0
        var lines = [
            "plan for '\(plan.playbook.name)' (\(plan.playbook.file)): \(plan.nodes.count) steps"
        ]
        for (index, node) in plan.nodes.enumerated() {
            let step = node.step
            var line = "\(String(index + 1).leftPadded(3)). \(step.id.padding(width))  "
            line += "\(step.kindName.padding(6))  \(node.commandClass.rawValue.padding(10))"
            if !node.dependencies.isEmpty {
                let after = zip(node.dependencies, node.dependencyReasons).map {
                    "\($0) (\($1.rawValue))"
                }
                line += "  after " + after.joined(separator: ", ")
            }
            line += "  runs if \(condition(of: step))"
            if let expect = step.expect { line += "  expect \(DurationText.format(expect))" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ plan: Plan) -> JSON {
        let steps = plan.nodes.map { node -> JSON in
            var members: [String: JSON] = [
                "id": .string(node.step.id), "kind": .string(node.step.kindName),
                "class": .string(node.commandClass.rawValue),
                "after": .array(node.dependencies.map { .string($0) }),
                "edges": .object(node.reasons.mapValues(JSON.string)),
                "condition": .string(condition(of: node.step)),
                "outputs": .array(node.step.outputNames.map { .string("<run time: \($0)>") }),
            ]
            if let session = node.session { members["session"] = .string(session) }
            if let expect = node.step.expect { members["expect-seconds"] = .double(expect) }
            return .object(members)
        }
        return [
            "name": .string(plan.playbook.name), "file": .string(plan.playbook.file),
            "sha256": .string(plan.playbook.sha256), "steps": .array(steps),
        ]
    }

    static func mermaid(_ plan: Plan) -> String {
        var lines = ["flowchart TD"]
        for node in plan.nodes {
            let id = safeID(node.step.id)
            lines.append(
                "    \(id)[\"\(node.step.id)<br/>\(node.step.kindName) · \(node.commandClass.rawValue)\"]"
            )
        }
        for node in plan.nodes {
            for dependency in node.dependencies {
                let label = node.step.condition.map { _ in "|if|" } ?? ""
                lines.append("    \(safeID(dependency)) -->\(label) \(safeID(node.step.id))")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func dot(_ plan: Plan) -> String {
        var lines = [
            "digraph \"\(plan.playbook.name)\" {", "    rankdir=TB;", "    node [shape=box];",
        ]
        for node in plan.nodes {
            let label = "\(node.step.id)\\n\(node.step.kindName), \(node.commandClass.rawValue)"
            lines.append("    \"\(node.step.id)\" [label=\"\(label)\"];")
        }
        for node in plan.nodes {
            for (dependency, reason) in zip(node.dependencies, node.dependencyReasons) {
                let style = reason == .session ? " [style=dashed]" : ""
                lines.append("    \"\(dependency)\" -> \"\(node.step.id)\"\(style);")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    private static func safeID(_ id: String) -> String {
        "s_" + id.map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
