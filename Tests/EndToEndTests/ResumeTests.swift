import Foundation
import Testing

/// Waits until a file holds a line containing `text`; false after `seconds`.
func waitForLine(containing text: String, inFilesUnder folder: String, seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let enumerator = FileManager.default.enumerator(atPath: folder)
        while let name = enumerator?.nextObject() as? String {
            guard name.hasSuffix(".ndjson") else { continue }
            let contents = (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? ""
            if contents.contains(text) { return true }
        }
        usleep(20_000)
    }
    return false
}

/// The task-id the journal recorded for a step.
func journalTaskID(under folder: String, step: String) throws -> String? {
    let enumerator = FileManager.default.enumerator(atPath: folder)
    while let name = enumerator?.nextObject() as? String {
        guard name.hasSuffix(".ndjson") else { continue }
        for line in try readLog(folder + "/" + name)
        where line["record"] as? String == "task" && line["step"] as? String == step {
            return line["task-id"] as? String
        }
    }
    return nil
}

/// The one journal under a state folder.
func journalFile(under folder: String) throws -> String {
    let names = FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []
    let journals = names.filter { $0.hasSuffix(".ndjson") }
    try #require(journals.count == 1, "\(journals)")
    return folder + "/" + journals[0]
}

/// Cuts a file in the middle of its last line, as a power cut during that write would.
func tearLastLine(of path: String) throws {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let start = (bytes.dropLast().lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
    let cut = start + (bytes.count - start) / 2
    try Data(bytes[..<cut]).write(to: URL(fileURLWithPath: path))
}

@Suite(.serialized) struct ResumeTests {
    private func start(_ arguments: [String], state: String, url: String) throws -> Process {
        let process = chkflowProcess(
            arguments + ["--state-dir", state],
            environment: ["CHKP_URL": url, "CHKP_API_KEY": "chkflow-demo-key"]
        )
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func resume(state: String, url: String, report: String) throws -> ProcessOutcome {
        try chkflow(
            [
                "run", Paths.fixture("direct.yaml"), "--state-dir", state, "--resume", "--report",
                report,
            ],
            environment: ["CHKP_URL": url, "CHKP_API_KEY": "chkflow-demo-key"]
        )
    }

    @Test func killedWhileWaitingThenResumedReattachesToTheSameTask() throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(scenario: "slow-export.yaml", folder: folder)
        let state = folder + "/state"
        let runner = try start(
            ["run", Paths.fixture("direct.yaml")],
            state: state,
            url: simulator.url
        )
        #expect(waitForLine(containing: "\"record\":\"task\"", inFilesUnder: state, seconds: 20))
        usleep(300_000)
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        let taskID = try #require(try journalTaskID(under: state, step: "export"))

        let report = folder + "/report.json"
        let outcome = try resume(state: state, url: simulator.url, report: report)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let steps = try readJSON(report)["steps"] as? [[String: Any]] ?? []
        let statuses = steps.map { "\($0["id"] ?? ""):\($0["status"] ?? "")" }
        #expect(
            statuses == [
                "login:succeeded", "export:succeeded", "exported:succeeded", "check:succeeded",
                "logout:succeeded",
            ]
        )
        #expect(steps[1]["task-id"] as? String == taskID)
        #expect(steps[2]["task-id"] as? String == taskID)
        #expect(steps[1]["reason"] as? String == "kept from the interrupted run")
        let requests = try simulator.requests()
        #expect(count(requests, command: "export-management") == 1)
        #expect(count(requests, command: "login") == 2)
        #expect(count(requests, command: "logout") == 1)
    }

    @Test func killedBetweenSendingAndReadingTheReplyThenResumedAdoptsTheTask() throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(scenario: "slow-export-reply.yaml", folder: folder)
        let state = folder + "/state"
        let runner = try start(
            ["run", Paths.fixture("direct.yaml")],
            state: state,
            url: simulator.url
        )
        #expect(waitForLine(containing: "\"record\":\"intent\"", inFilesUnder: state, seconds: 20))
        usleep(500_000)
        kill(runner.processIdentifier, SIGKILL)
        runner.waitUntilExit()
        #expect(try journalTaskID(under: state, step: "export") == nil)

        let report = folder + "/report.json"
        let outcome = try resume(state: state, url: simulator.url, report: report)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let steps = try readJSON(report)["steps"] as? [[String: Any]] ?? []
        let export = try #require(steps.first { $0["id"] as? String == "export" })
        #expect(export["status"] as? String == "succeeded")
        let taskID = try #require(export["task-id"] as? String)
        #expect(
            export["reason"] as? String
                == "the reply to export-management was lost; adopted task \(taskID), found with show-tasks"
        )
        let requests = try simulator.requests()
        #expect(count(requests, command: "export-management") == 1)
    }

    @Test func aTornLastRecordSurvivesASecondInterruptionAndResume() throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(scenario: "slow-export.yaml", folder: folder)
        let state = folder + "/state"
        let playbook = Paths.fixture("direct.yaml")
        let first = try start(["run", playbook], state: state, url: simulator.url)
        #expect(waitForLine(containing: #""step":"exported""#, inFilesUnder: state, seconds: 20))
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let taskID = try #require(try journalTaskID(under: state, step: "export"))
        let journal = try journalFile(under: state)
        try tearLastLine(of: journal)

        let second = try start(["run", playbook, "--resume"], state: state, url: simulator.url)
        #expect(waitForLine(containing: #""record":"resumed""#, inFilesUnder: state, seconds: 20))
        kill(second.processIdentifier, SIGKILL)
        second.waitUntilExit()

        let report = folder + "/report.json"
        let outcome = try resume(state: state, url: simulator.url, report: report)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let steps = try readJSON(report)["steps"] as? [[String: Any]] ?? []
        let export = try #require(steps.first { $0["id"] as? String == "export" })
        #expect(export["status"] as? String == "succeeded")
        #expect(export["task-id"] as? String == taskID)
        #expect(count(try simulator.requests(), command: "export-management") == 1)
        let records = try readLog(journal).map { $0["record"] as? String ?? "" }
        #expect(records.filter { $0 == "resumed" }.count == 2)
    }

    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalDuringAWaitDiscardsLogsOutAndWritesACompleteReport(signal: Int32) throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(scenario: "slow-export.yaml", folder: folder)
        let state = folder + "/state"
        let report = folder + "/report.json"
        let runner = try start(
            ["run", Paths.fixture("direct.yaml"), "--report", report],
            state: state,
            url: simulator.url
        )
        #expect(waitForLine(containing: #""step":"exported""#, inFilesUnder: state, seconds: 20))
        kill(runner.processIdentifier, signal)
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 130)
        let json = try readJSON(report)
        #expect(json["outcome"] as? String == "cancelled")
        #expect(json["exit-code"] as? Int == 130)
        let steps = json["steps"] as? [[String: Any]] ?? []
        #expect(
            steps.map { "\($0["id"] ?? ""):\($0["status"] ?? "")" } == [
                "login:succeeded", "export:succeeded", "exported:cancelled", "check:cancelled",
                "logout:cancelled",
            ]
        )
        let exported = try #require(steps.first { $0["id"] as? String == "exported" })
        let taskID = try #require(try journalTaskID(under: state, step: "export"))
        #expect(exported["task-id"] as? String == taskID)
        let totals = json["totals"] as? [String: Any] ?? [:]
        #expect(totals["cleanup-logouts"] as? [String] == ["login"])
        #expect(totals["discards-failed"] == nil)
        let requests = try simulator.requests()
        let cleanUp = requests.compactMap { $0["command"] as? String }.filter {
            $0 == "discard" || $0 == "logout"
        }
        #expect(cleanUp == ["discard", "logout"])
    }

    @Test func aSecondSIGINTExitsAtOnceAndTheJournalStillResumes() throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(
            scenario: "slow-export-slow-discard.yaml",
            folder: folder
        )
        let state = folder + "/state"
        let report = folder + "/report.json"
        let runner = chkflowProcess(
            ["run", Paths.fixture("direct.yaml"), "--report", report, "--state-dir", state],
            environment: ["CHKP_URL": simulator.url, "CHKP_API_KEY": "chkflow-demo-key"]
        )
        let errors = Pipe()
        runner.standardOutput = FileHandle.nullDevice
        runner.standardError = errors
        try runner.run()
        #expect(waitForLine(containing: #""step":"exported""#, inFilesUnder: state, seconds: 20))
        kill(runner.processIdentifier, SIGINT)
        var stderr = ""
        while !stderr.contains("(again to quit at once)\n") {
            let data = errors.fileHandleForReading.availableData
            if data.isEmpty { break }
            stderr += String(decoding: data, as: UTF8.self)
        }
        // The first discard is answered 4 s late: the run is still cleaning up.
        kill(runner.processIdentifier, SIGINT)
        runner.waitUntilExit()
        #expect(runner.terminationStatus == 130)
        #expect(!FileManager.default.fileExists(atPath: report))
        #expect(count(try simulator.requests(), command: "logout") == 0)
        let taskID = try #require(try journalTaskID(under: state, step: "export"))

        let outcome = try resume(state: state, url: simulator.url, report: report)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let steps = try readJSON(report)["steps"] as? [[String: Any]] ?? []
        let export = try #require(steps.first { $0["id"] as? String == "export" })
        #expect(export["status"] as? String == "succeeded")
        #expect(export["task-id"] as? String == taskID)
        #expect(count(try simulator.requests(), command: "export-management") == 1)
    }

    @Test func resumeWithARunIDResumesThatRunRatherThanTheLatest() throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(scenario: "slow-export.yaml", folder: folder)
        let state = folder + "/state"
        let playbook = Paths.fixture("direct.yaml")
        let environment = ["CHKP_URL": simulator.url, "CHKP_API_KEY": "chkflow-demo-key"]
        let interrupted = try start(["run", playbook], state: state, url: simulator.url)
        #expect(waitForLine(containing: #""step":"exported""#, inFilesUnder: state, seconds: 20))
        kill(interrupted.processIdentifier, SIGKILL)
        interrupted.waitUntilExit()
        let earlier = try journalFile(under: state)
        let runID = String(earlier.split(separator: "/").last!.dropLast(".ndjson".count))
        let taskID = try #require(try journalTaskID(under: state, step: "export"))
        // Run ids start with the second the run started: the next run must be later.
        let stamp = DateFormatter()
        stamp.dateFormat = "yyyyMMddHHmmss"
        stamp.timeZone = TimeZone(identifier: "UTC")
        while stamp.string(from: Date()) == runID.prefix(14) { usleep(50_000) }
        let later = try chkflow(
            ["run", playbook, "--simulator", "--state-dir", state],
            environment: environment
        )
        #expect(later.status == 0, "\(later.stderr)")

        let report = folder + "/report.json"
        let outcome = try chkflow(
            ["run", playbook, "--state-dir", state, "--resume", runID, "--report", report],
            environment: environment
        )
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("chkflow: resuming run \(runID)\n"))
        let json = try readJSON(report)
        #expect(json["run-id"] as? String == runID)
        let steps = json["steps"] as? [[String: Any]] ?? []
        let export = try #require(steps.first { $0["id"] as? String == "export" })
        #expect(export["task-id"] as? String == taskID)
        #expect(export["reason"] as? String == "kept from the interrupted run")
        #expect(count(try simulator.requests(), command: "export-management") == 1)
    }

    @Test func anUnwritableStateFolderIsRefusedBeforeTheFirstRequest() throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(scenario: "slow-export.yaml", folder: folder)
        let blocker = folder + "/not-a-folder"
        try Data("a file, not a folder\n".utf8).write(to: URL(fileURLWithPath: blocker))
        let state = blocker + "/state"
        let outcome = try chkflow(
            ["run", Paths.fixture("direct.yaml"), "--state-dir", state],
            environment: ["CHKP_URL": simulator.url, "CHKP_API_KEY": "chkflow-demo-key"]
        )
        #expect(outcome.status == 73)
        #expect(
            outcome.stderr
                == "chkflow: error: cannot create the state folder \(state)/runs/direct: Not a directory\n"
        )
        let log = (try? String(contentsOfFile: simulator.log, encoding: .utf8)) ?? ""
        #expect(log.isEmpty)
    }

    @Test func aSecondRunOfThePlaybookIsRefusedWhileTheFirstHoldsTheStateFolder() throws {
        let folder = Paths.temporaryFolder()
        let simulator = try SimulatorProcess(scenario: "slow-export.yaml", folder: folder)
        let state = folder + "/state"
        let first = try start(
            ["run", Paths.fixture("direct.yaml")],
            state: state,
            url: simulator.url
        )
        defer {
            kill(first.processIdentifier, SIGKILL)
            first.waitUntilExit()
        }
        #expect(waitForLine(containing: "\"record\":\"run\"", inFilesUnder: state, seconds: 20))
        let second = try chkflow(
            ["run", Paths.fixture("direct.yaml"), "--state-dir", state],
            environment: ["CHKP_URL": simulator.url, "CHKP_API_KEY": "chkflow-demo-key"]
        )
        #expect(second.status == 75)
        #expect(
            second.stderr
                == "chkflow: error: another chkflow run of 'direct' is using this state folder (process \(first.processIdentifier)); wait for it to end, or give another --state-dir\n"
        )
    }

    @Test func aChangedPlaybookIsNotResumed() throws {
        let folder = Paths.temporaryFolder()
        let state = folder + "/state"
        let playbook = folder + "/copy.yaml"
        try FileManager.default.copyItem(
            atPath: Paths.playbook("smc-export.yaml"),
            toPath: playbook
        )
        let first = try chkflow(["run", playbook, "--simulator", "--state-dir", state])
        #expect(first.status == 0)
        try (String(contentsOfFile: playbook, encoding: .utf8) + "\n# changed\n").write(
            toFile: playbook,
            atomically: true,
            encoding: .utf8
        )
        let second = try chkflow(["run", playbook, "--simulator", "--state-dir", state, "--resume"])
        #expect(second.status == 65)
        #expect(second.stderr.contains("the playbook changed since run "))
    }

    @Test func aResumeWithOtherInputsIsRefused() throws {
        let folder = Paths.temporaryFolder()
        let state = folder + "/state"
        let playbook = Paths.playbook("smc-export.yaml")
        let first = try chkflow([
            "run", playbook, "--simulator", "--state-dir", state, "--var", "target-version=R81.20",
        ])
        #expect(first.status == 0)
        let second = try chkflow(["run", playbook, "--simulator", "--state-dir", state, "--resume"])
        #expect(second.status == 65)
        #expect(second.stderr.contains("the inputs differ from run "))
        #expect(second.stderr.contains("(target-version: 'R81.20' then, 'R82' now)"))
    }

    @Test func anInvalidScenarioIsReportedWithItsPosition() throws {
        let path = Paths.fixture("bad-scenario.yaml")
        let outcome = try chkflow(["run", Paths.playbook("smc-export.yaml"), "--simulator", path])
        #expect(outcome.status == 65)
        #expect(
            outcome.stderr.hasPrefix(
                "\(path):3:22: error: tasks.export.duration: must be a duration such as 90s, 45m or 1h30m"
            )
        )
    }
}
