import ChkflowCore
import ManagementAPI
import Playbook

extension StepExecutor {
    /// After the reply to a once-only command was lost, finds the task the command started.
    ///
    /// The request may have reached the server, so sending it again could start a second
    /// export. Instead chkflow asks show-tasks for the tasks in progress: when exactly one whose
    /// name matches the command is unknown to this run, that is the task, and the step goes on
    /// with it. Otherwise the step stops and says why; nothing is sent again.
    ///
    /// - Returns: nil when the error is not a lost reply to a once-only command.
    func adoptLostTask(
        _ error: APIError,
        command: String
    ) async throws -> (reply: JSON, note: String)? {
        guard step.commandClass == .onceOnly, error.kind == .transport,
            error.requestMayHaveReachedServer
        else { return nil }
        let session = try requireConnection()
        let candidates: [String]
        do {
            // Only this administrator's tasks: another admin's export running at the same
            // moment is not ours.
            var query: [String: JSON] = [
                "status": "in-progress", "details-level": "full", "limit": 100,
            ]
            if let admin = await session.administrator { query["initiator"] = .string(admin) }
            let reply = try await session.call("show-tasks", .object(query))
            candidates = try await unknownTasks(in: reply, matching: command)
        } catch {
            throw StepFailure(
                reason: "the reply to \(command) was lost (\(error)); the task it may have started "
                    + "could not be looked for, so the request was not sent again"
            )
        }
        guard candidates.count == 1 else {
            let found =
                candidates.isEmpty
                ? "no task" : "\(candidates.count) tasks (\(candidates.joined(separator: ", ")))"
            throw StepFailure(
                reason: "the reply to \(command) was lost (\(error.description)); show-tasks found "
                    + "\(found) in progress that could be it, so the request was not sent again; "
                    + "check the server before running the step again"
            )
        }
        let note =
            "the reply to \(command) was lost; adopted task \(candidates[0]), found with show-tasks"
        return (["task-id": .string(candidates[0])], note)
    }

    /// Records, synced to disk, the task-id a once-only command's reply gives, as soon as it is
    /// known: from then on a resume waits for that task instead of looking for it.
    func journalTask(of reply: JSON) {
        guard let taskID = reply["task-id"]?.stringValue else { return }
        runner.journal(
            ["record": "task", "step": .string(displayID), "task-id": .string(taskID)],
            durable: true
        )
    }

    /// Resumes a step whose once-only command was being sent when the run was interrupted.
    ///
    /// The journal has the intent but no task-id, so the request may or may not have reached the
    /// server. The task is looked for, never sent again blindly.
    func recoverInterruptedSend(
        _ command: String,
        _ outcome: inout StepOutcome
    ) async throws -> JSON {
        let lost = APIError(
            kind: .transport,
            command: command,
            httpStatus: nil,
            code: nil,
            message: "the run was interrupted before the reply was read",
            requestMayHaveReachedServer: true
        )
        guard let adopted = try await adoptLostTask(lost, command: command) else {
            throw StepFailure(reason: "\(command) was being sent when the run was interrupted")
        }
        journalTask(of: adopted.reply)
        outcome.result.reason = adopted.note
        return adopted.reply
    }

    private func unknownTasks(in reply: JSON, matching command: String) async throws -> [String] {
        let keyword =
            switch command {
            case "export-management": "export"
            case "import-management": "import"
            default: command
            }
        var result: [String] = []
        for task in reply["tasks"]?.arrayValue ?? [] {
            guard let id = task["task-id"]?.stringValue,
                let name = task["task-name"]?.stringValue?.lowercased(),
                name.contains(keyword), !name.contains("verif"),
                await !runner.registry.knows(taskID: id)
            else { continue }
            result.append(id)
        }
        return result
    }
}
