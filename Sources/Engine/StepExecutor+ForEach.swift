import ChkflowCore
import ManagementAPI
import Playbook

extension StepExecutor {
    /// Runs the loop's steps once per item, `max-parallel` items at a time; one item's failure
    /// stops the others only with `fail-fast`.
    func performForEach(_ loop: ForEach, _ outcome: inout StepOutcome) async throws {
        let value: Value
        do {
            value = try loop.items.evaluate(in: context.scope)
        } catch {
            throw StepFailure(reason: "'for-each': \(error.message)")
        }
        guard let items = value.json.arrayValue else {
            throw StepFailure(reason: "'for-each' gave \(value.json.typeName), not a list")
        }
        let results = await runItems(items, loop)
        outcome.result.items = results
        outcome.result.outputs["items"] = .array(results.map(Self.itemOutputs))
        let failed = results.filter { $0.status.failsRun }
        if !failed.isEmpty {
            let names = failed.prefix(10).map { $0.item.interpolated }.joined(separator: ", ")
            throw StepFailure(reason: "\(failed.count) of \(items.count) items failed: \(names)")
        }
        if results.contains(where: { $0.status == .cancelled }) {
            throw StepFailure(status: .cancelled, reason: "the run was cancelled during the loop")
        }
    }

    private func runItems(_ items: [JSON], _ loop: ForEach) async -> [ItemResult] {
        let limit = max(1, loop.maxParallel)
        var results: [ItemResult?] = Array(repeating: nil, count: items.count)
        var stop = false
        await withTaskGroup(of: ItemResult.self) { group in
            var next = 0
            var running = 0
            while next < items.count || running > 0 {
                while running < limit, next < items.count {
                    if stop || Task.isCancelled {
                        results[next] = skippedItem(next, items[next], loop, cancelled: !stop)
                    } else {
                        let position = next
                        group.addTask { await runItem(position, items[position], loop) }
                        running += 1
                    }
                    next += 1
                }
                guard let finished = await group.next() else { break }
                running -= 1
                results[finished.index] = finished
                if loop.failFast, finished.status.failsRun { stop = true }
            }
        }
        return results.compactMap { $0 }
    }

    private func runItem(_ position: Int, _ item: JSON, _ loop: ForEach) async -> ItemResult {
        var loopValues = context.loopValues
        loopValues[loop.variable] = item
        let label = (context.label.map { "\($0)." } ?? "") + "\(step.id)[\(position)]"
        var state = RunState(
            nodes: context.node.children,
            shared: context.shared,
            label: label,
            outerSteps: context.outerSteps,
            loopValues: loopValues,
            sessions: context.sessions
        )
        await runner.schedule(&state)
        let steps = state.orderedResults
        let status: StepStatus =
            steps.contains { $0.status.failsRun }
            ? .failed : steps.contains { $0.status == .cancelled } ? .cancelled : .succeeded
        return ItemResult(index: position, item: item, status: status, steps: steps)
    }

    private func skippedItem(
        _ position: Int,
        _ item: JSON,
        _ loop: ForEach,
        cancelled: Bool
    )
        -> ItemResult
    {
        let reason =
            cancelled
            ? "the run was cancelled before this item started"
            : "an earlier item failed and 'fail-fast' is set"
        let steps = context.node.children.map { node in
            StepResult(
                id: node.step.id,
                kind: node.step.kindName,
                status: cancelled ? .cancelled : .skipped,
                reason: reason
            )
        }
        return ItemResult(
            index: position,
            item: item,
            status: cancelled ? .cancelled : .skipped,
            steps: steps
        )
    }

    private static func itemOutputs(_ item: ItemResult) -> JSON {
        var steps: [String: JSON] = [:]
        for step in item.steps {
            var outputs = step.outputs
            outputs["status"] = .string(step.status.rawValue)
            steps[step.id] = .object(outputs)
        }
        return [
            "item": item.item, "status": .string(item.status.rawValue), "steps": .object(steps),
        ]
    }
}
