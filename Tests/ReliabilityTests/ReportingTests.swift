import ChkflowCore
import Engine
import Foundation
import Simulator
import Testing

/// What the report says when a step ends badly must be true and must tell the operator what
/// is left on the server.
@Suite struct ReportingTests {
    /// A timed-out export says that export-management was sent and the export may be running,
    /// and points to --resume, which looks for the task through the intent in the journal.
    @Test func aTimedOutExportSaysTheExportMayBeRunning() async throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("chkflow-reporting-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let journalPath = folder + "/run.ndjson"
        var harness = Harness()
        harness.scenario = Matrix.scenario
        harness.scenario.faults = [
            FaultRule(command: "export-management", call: 2, action: .slowReply(seconds: 2.5))
        ]
        harness.journal = try Journal(path: journalPath)
        let rehearsal = try await harness.run(Matrix.playbook)
        let export = try #require(rehearsal.step("export"))
        #expect(export.status == .timedOut)
        #expect(rehearsal.exportsStarted == 1)
        #expect(
            export.reason
                == "the step did not end within its timeout of 1.5s; export-management was sent,"
                + " so the server may be running the export: finish this run with `chkflow run"
                + " reliability.yaml --resume`, which looks for the task instead of sending"
                + " export-management again; running the playbook without --resume would start"
                + " a second export"
        )
        // The intent that --resume goes by is in the journal, with nothing that ends it.
        let records = try Journal.records(at: journalPath).filter { $0["step"] == "export" }
        #expect(
            records.compactMap { $0["record"]?.stringValue }
                == ["step-started", "intent", "step-ended"]
        )
    }

    /// A wait whose every show-task reply was unusable ends with the last reply's error, not
    /// with a task "still in progress" it never saw.
    @Test func aWaitThatNeverReadAUsableReplySaysWhy() async throws {
        var harness = Harness()
        harness.scenario = Matrix.scenario
        harness.scenario.faults = [
            FaultRule(command: "show-task", action: .wrongShape(.tasksEmpty))
        ]
        // A timeout shorter than the wait's five tries of show-task: three polls fit in it.
        let rehearsal = try await harness.run(
            Matrix.playbook.replacing("timeout: 2s}", with: "timeout: 1s}")
        )
        let verified = try #require(rehearsal.step("verified"))
        let taskID = try #require(verified.taskID)
        #expect(verified.status == .timedOut)
        #expect(verified.task == nil)
        #expect(
            verified.reason
                == "the wait's timeout of 1.0s ran out after show-task failed: show-task: invalid"
                + " reply (HTTP 200): the reply does not list task \(taskID); task \(taskID) may"
                + " still be running on the server: wait for it again with this task-id"
        )
        #expect(
            verified.error
                == ErrorSummary(
                    message: "the reply does not list task \(taskID)",
                    httpStatus: 200
                )
        )
    }
}
