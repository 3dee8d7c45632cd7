import ChkflowCore
import Engine
import Foundation
import Playbook
import Simulator
import Testing

@Suite struct JournalTests {
    private let text = exportWaitLogout

    /// Runs the playbook with a journal and returns the journal's path and the plan.
    private func journaledRun() async throws -> (String, Plan) {
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "test.yaml")
        var scenario = Scenario.default
        scenario.export = TaskBehaviour(duration: 0.2)
        let server = SimulatorServer(scenario: scenario)
        try server.start()
        defer { server.stop() }
        let path = NSTemporaryDirectory() + "journal-\(UUID().uuidString).ndjson"
        var options = RunOptions()
        options.simulatorURL = server.baseURL
        options.journal = try Journal(path: path)
        let runner = Runner(plan: plan, options: options)
        let result = await runner.run(try runner.prepare())
        #expect(result.outcome == .succeeded)
        return (path, plan)
    }

    @Test func everyRecordIsALineAndNoSecretIsWritten() async throws {
        let (path, _) = try await journaledRun()
        let records = try Journal.records(at: path)
        #expect(
            records.map { $0["record"]?.stringValue ?? "" } == [
                "run", "step-started", "step-ended", "step-started", "intent", "task", "step-ended",
                "step-started", "step-ended", "step-started", "step-ended", "run-ended",
            ]
        )
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("chkflow\""))
        #expect(!text.contains("\"sid\""))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// A journal cut at every byte of an export's `intent` and `task` records resumes each time.
    ///
    /// A whole `intent` means the export may have reached the server, so the resume adopts its
    /// task; a torn one means it was never sent (the intent is synced first), so the resume
    /// sends it; a whole `task` record is re-attached to. Never a second export.
    @Test func aJournalCutInItsIntentOrTaskRecordResumesWithoutASecondExport() async throws {
        let text =
            playbookHead + """
                  - id: export
                    export:
                      file-path: /var/log/x.tgz
                  - id: logout
                    if: ${{ always() }}
                    logout: {}
                """
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "test.yaml")
        var scenario = Scenario.default
        // Still in progress at every resume, which adoption needs; no step waits for it.
        scenario.export = TaskBehaviour(duration: 3600)
        let original = SimulatorServer(scenario: scenario)
        try original.start()
        defer { original.stop() }
        let path = NSTemporaryDirectory() + "journal-\(UUID().uuidString).ndjson"
        var options = RunOptions()
        options.simulatorURL = original.baseURL
        options.journal = try Journal(path: path)
        let runner = Runner(plan: plan, options: options)
        let first = await runner.run(try runner.prepare())
        let taskID = try #require(first.step("export")?.taskID)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let intent = try #require(lineRange(of: "intent", in: bytes))
        let task = try #require(lineRange(of: "task", in: bytes))
        try #require(task.lowerBound == intent.upperBound)

        for cut in intent.lowerBound...task.upperBound {
            let copy = path + ".cut"
            try Data(bytes[..<cut]).write(to: URL(fileURLWithPath: copy))
            let sent = cut >= intent.upperBound
            let server = sent ? original : SimulatorServer(scenario: scenario)
            if !sent { try server.start() }
            defer { if !sent { server.stop() } }
            let before = server.requests.count(of: "export-management")
            var resumed = RunOptions()
            resumed.simulatorURL = server.baseURL
            resumed.resume = try ResumeState.load(journal: copy, playbook: plan.playbook)
            let again = Runner(plan: plan, options: resumed)
            let result = await again.run(try again.prepare())
            let export = try #require(result.step("export"), "cut at \(cut)")
            let exports = server.requests.count(of: "export-management") - before
            #expect(result.outcome == .succeeded, "cut at \(cut)")
            #expect(export.status == .succeeded, "cut at \(cut)")
            if !sent {
                #expect(exports == 1, "cut at \(cut)")
                #expect(export.taskID != nil && export.taskID != taskID, "cut at \(cut)")
                #expect(export.reason == nil, "cut at \(cut)")
            } else if cut < task.upperBound {
                #expect(exports == 0, "cut at \(cut)")
                #expect(export.taskID == taskID, "cut at \(cut)")
                #expect(
                    export.reason
                        == "the reply to export-management was lost; adopted task \(taskID), found with show-tasks",
                    "cut at \(cut)"
                )
            } else {
                #expect(exports == 0, "cut at \(cut)")
                #expect(export.taskID == taskID, "cut at \(cut)")
                #expect(
                    export.reason
                        == "re-attached to task \(taskID), started before the interruption",
                    "cut at \(cut)"
                )
            }
        }
    }

    /// The bytes of the first journal line whose record is `name`, its newline included.
    private func lineRange(of name: String, in bytes: [UInt8]) -> Range<Int>? {
        var start = 0
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let record = try? JSON.parse(bytes[start..<newline])
            if record?["record"]?.stringValue == name { return start..<(newline + 1) }
            start = newline + 1
        }
        return nil
    }

    @Test(arguments: [
        (#"{"record":"run"}"# + "\n" + #"{"record":"step-st"#, #"{"record":"run"}"# + "\n"),
        (#"{"record":"run"}"# + "\n" + #"{"record":"task"}"#, #"{"record":"run"}"# + "\n"),
        (#"{"record":"ru"#, ""),
        (#"{"record":"run"}"# + "\n", #"{"record":"run"}"# + "\n"),
    ])
    func reopeningAJournalCutsItsTornLastLineBeforeAppending(
        written: String,
        kept: String
    ) throws {
        let path = NSTemporaryDirectory() + "journal-\(UUID().uuidString).ndjson"
        try written.write(toFile: path, atomically: false, encoding: .utf8)
        let journal = try Journal(path: path)
        try journal.append(["record": "resumed"])
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text == kept + #"{"record":"resumed"}"# + "\n")
        #expect(try Journal.records(at: path).last == ["record": "resumed"])
    }

    @Test func aDamagedLineBeforeTheLastIsAnError() async throws {
        let (path, plan) = try await journaledRun()
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        lines[2] = lines[2].dropLast(5)
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        #expect(throws: JournalError("the journal \(path) is damaged at line 3")) {
            try ResumeState.load(journal: path, playbook: plan.playbook)
        }
    }

    @Test func aStepWithARecordedTaskButNoEndReattachesAndOneWithOnlyAnIntentAdopts() async throws {
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "test.yaml")
        let path = NSTemporaryDirectory() + "journal-\(UUID().uuidString).ndjson"
        let lines = [
            #"{"record":"run","run-id":"20261203000000-0123abcd","playbook":{"sha256":"\#(plan.playbook.sha256)"},"time":"2026-12-03T00:00:00.000Z"}"#,
            #"{"record":"intent","step":"export","command":"export-management"}"#,
            #"{"record":"task","step":"export","task-id":"t-1"}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(
            toFile: path,
            atomically: true,
            encoding: .utf8
        )
        var scenario = Scenario.default
        scenario.export = TaskBehaviour(duration: 0.1)
        let server = SimulatorServer(scenario: scenario)
        try server.start()
        defer { server.stop() }
        var options = RunOptions()
        options.simulatorURL = server.baseURL
        options.resume = try ResumeState.load(journal: path, playbook: plan.playbook)
        let runner = Runner(plan: plan, options: options)
        let result = await runner.run(try runner.prepare())
        #expect(result.runID == "20261203000000-0123abcd")
        let export = try #require(result.step("export"))
        #expect(export.status == .succeeded)
        #expect(export.reason == "re-attached to task t-1, started before the interruption")
        // The simulator does not know t-1, so the wait fails: what matters is that it asked for
        // exactly that task and sent no export.
        #expect(result.step("exported")?.taskID == "t-1")
        #expect(server.requests.count(of: "export-management") == 0)
    }

    @Test func aChangedPlaybookIsRefused() async throws {
        let (path, _) = try await journaledRun()
        let changed = try PlaybookLoader.plan(
            bytes: Array((text + "\n# changed\n").utf8),
            file: "test.yaml"
        )
        #expect(throws: JournalError.self) {
            try ResumeState.load(journal: path, playbook: changed.playbook)
        }
    }
}

@Suite struct HistoryTests {
    @Test func theWindowJudgesAStepWithoutExpectByItsEarlierRuns() async throws {
        let closes = RFC3339.format(Date().timeIntervalSince1970 + 1800)
        let text = """
            chkflow: 1
            name: history-test
            window:
              closes: \(closes)
            servers:
              lab:
                url: https://mgmt.example.net
            steps:
              - id: login
                login:
                  user: admin
                  password: chkflow
                  domain: System Data
              - id: export
                export:
                  file-path: /var/log/x.tgz
            """
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "test.yaml")
        let server = SimulatorServer()
        try server.start()
        defer { server.stop() }
        var options = RunOptions()
        options.simulatorURL = server.baseURL
        options.history = StepHistory(durations: ["export": [600, 3600, 900]])
        let runner = Runner(plan: plan, options: options)
        let result = await runner.run(try runner.prepare())
        let export = try #require(result.step("export"))
        #expect(export.status == .refused)
        #expect(
            export.reason?.hasPrefix(
                "refused: it is expected to take 1h00m (95th percentile of 3 earlier runs) and would end at "
            ) == true
        )
        #expect(server.requests.count(of: "export-management") == 0)
    }

    @Test func historyComesFromTheJournalsOfEarlierRuns() async throws {
        let text = playbookHead + exportAndWaitSteps
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "test.yaml")
        let state = StateDirectory(path: NSTemporaryDirectory() + "history-\(UUID().uuidString)")
        try state.prepare(playbook: plan.playbook.name)
        // Two rehearsals an hour apart, each export taking 40 virtual seconds.
        for hour in 0..<2 {
            let clock = VirtualClock(origin: 1_796_432_400 + 3600 * Double(hour))
            var options = MemoryServer(clock: clock, taskDuration: 40).options()
            options.simulatorURL = "https://simulator.invalid"
            let runID = PreparedRun.makeRunID(at: clock.wallTime())
            options.runID = runID
            options.journal = try Journal(
                path: state.journalPath(playbook: plan.playbook.name, runID: runID)
            )
            let runner = Runner(plan: plan, options: options)
            #expect(await runner.run(try runner.prepare()).outcome == .succeeded)
        }
        let history = StepHistory.load(
            state: state,
            playbook: plan.playbook.name,
            excluding: nil,
            simulated: true
        )
        // Rehearsals never vouch for real runs.
        let real = StepHistory.load(state: state, playbook: plan.playbook.name, excluding: nil)
        #expect(real.durations.isEmpty)
        #expect(history.durations["export"] == [40, 40])
        #expect(history.durations["exported"] == [40, 40])
        let export = try #require(history.percentile95(of: "export"))
        #expect(export.runs == 2)
        #expect(export.seconds == 40)
        #expect(history.durations["login"] == [0, 0])
    }
}
