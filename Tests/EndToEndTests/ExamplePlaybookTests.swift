import Foundation
import Testing

/// One rehearsal of an example playbook: what the binary said, its report and the request log.
private struct Rehearsal {
    var outcome: ProcessOutcome
    var report: [String: Any]
    var requests: [[String: Any]]

    var steps: [[String: Any]] { report["steps"] as? [[String: Any]] ?? [] }

    /// `id:status` of every top-level step, in the report's order.
    var statuses: [String] { steps.map { "\($0["id"] ?? ""):\($0["status"] ?? "")" } }

    /// The commands of the request log, in order, with runs of show-task folded into one.
    var commands: [String] {
        var result: [String] = []
        for request in requests {
            let command = request["command"] as? String ?? "?"
            if command == "show-task", result.last == command { continue }
            result.append(command)
        }
        return result
    }

    func step(_ id: String) -> [String: Any] {
        steps.first { $0["id"] as? String == id } ?? [:]
    }

    /// The first `task-details` entry of a wait step's task.
    func taskDetail(_ id: String) -> [String: Any] {
        let task = step(id)["task"] as? [String: Any]
        return (task?["details"] as? [[String: Any]])?.first ?? [:]
    }
}

/// Runs a playbook against the built-in simulator with a report and a request log.
private func rehearse(
    _ playbook: String,
    scenario: String? = nil,
    arguments: [String] = []
) throws -> Rehearsal {
    let folder = Paths.temporaryFolder()
    let report = folder + "/report.json"
    let log = folder + "/requests.ndjson"
    var words = ["run", playbook, "--simulator"]
    if let scenario { words.append(scenario) }
    words += ["--report", report, "--simulator-log", log] + arguments
    let outcome = try chkflow(words)
    return Rehearsal(outcome: outcome, report: try readJSON(report), requests: try readLog(log))
}

/// A copy of playbooks/change-window.yaml whose window closes `minutes` from now.
private func changeWindowClosing(inMinutes minutes: Double) throws -> (path: String, closes: String)
{
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    let closes = formatter.string(from: Date().addingTimeInterval(minutes * 60))
    let original = try String(
        contentsOfFile: Paths.playbook("change-window.yaml"),
        encoding: .utf8
    )
    #expect(original.contains("closes: 2099-12-31T23:00:00Z\n"))
    let copy = original.replacingOccurrences(
        of: "closes: 2099-12-31T23:00:00Z",
        with: "closes: \(closes)"
    )
    let path = Paths.temporaryFolder() + "/change-window.yaml"
    try copy.write(toFile: path, atomically: true, encoding: .utf8)
    return (path, closes)
}

@Suite struct ExamplePlaybookTests {
    @Test func everyNewExampleValidates() throws {
        let names = [
            "change-window.yaml", "mds-backup-domain.yaml", "pre-export-verification.yaml",
            "smc-to-mds.yaml", "upgrade-preparation.yaml",
        ]
        let outcome = try chkflow(["validate"] + names.map { "playbooks/" + $0 })
        #expect(outcome.status == 0)
        #expect(
            outcome.stderr == """
                playbooks/change-window.yaml: ok (6 steps)
                playbooks/mds-backup-domain.yaml: ok (6 steps)
                playbooks/pre-export-verification.yaml: ok (5 steps)
                playbooks/smc-to-mds.yaml: ok (6 steps)
                playbooks/upgrade-preparation.yaml: ok (10 steps)

                """
        )
    }

    @Test func everyExampleStartsWithTheSchemaComment() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Paths.root + "/playbooks")
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(
            Set(files).isSuperset(of: [
                "change-window.yaml", "mds-backup-domain.yaml", "mds-export-domains.yaml",
                "pre-export-verification.yaml", "smc-export.yaml", "smc-to-mds.yaml",
                "upgrade-preparation.yaml",
            ])
        )
        for file in files {
            let text = try String(contentsOfFile: Paths.playbook(file), encoding: .utf8)
            #expect(
                text.hasPrefix("# yaml-language-server: $schema=../schemas/playbook.schema.json\n"),
                "\(file)"
            )
            #expect(
                text.contains("# Rehearse:  chkflow run playbooks/\(file) --simulator"),
                "\(file)"
            )
        }
    }

    @Test func everyScenarioStartsWithTheSchemaComment() throws {
        let folder = Paths.root + "/playbooks/scenarios"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(Set(files).isSuperset(of: ["blocking-errors.yaml", "mds.yaml"]))
        let comment = "# yaml-language-server: $schema=../../schemas/scenario.schema.json\n"
        #expect(
            FileManager.default.fileExists(atPath: folder + "/../../schemas/scenario.schema.json")
        )
        for file in files {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            #expect(text.hasPrefix(comment), "\(file)")
        }
    }

    // MARK: - pre-export-verification.yaml

    @Test func preExportVerificationPassesOnAReadyServer() throws {
        let run = try rehearse(Paths.playbook("pre-export-verification.yaml"))
        #expect(run.outcome.status == 0, "\(run.outcome.stderr)")
        #expect(run.report["outcome"] as? String == "succeeded")
        #expect(
            run.statuses == [
                "login:succeeded", "verify:succeeded", "verified:succeeded",
                "blocking-errors:succeeded", "logout:succeeded",
            ]
        )
        let summary = run.taskDetail("verified")["verification-summary"] as? [String: Int]
        #expect(summary == ["blocking-errors": 0, "warnings": 0])
        #expect(run.commands == ["login", "export-management", "show-task", "logout"])
        #expect(run.requests.allSatisfy { $0["status"] as? Int == 200 })
    }

    @Test func preExportVerificationNamesEveryBlockingError() throws {
        let run = try rehearse(
            Paths.playbook("pre-export-verification.yaml"),
            scenario: Paths.playbook("scenarios/blocking-errors.yaml"),
            arguments: ["--var", "target-version=R81.20"]
        )
        #expect(run.outcome.status == 1)
        #expect(run.report["outcome"] as? String == "failed")
        #expect(run.report["exit-code"] as? Int == 1)
        #expect(
            run.statuses == [
                "login:succeeded", "verify:succeeded", "verified:failed",
                "blocking-errors:failed", "logout:succeeded",
            ]
        )
        let message =
            "the pre-export verification for R81.20 found 2 blocking error(s): "
            + "Gateway gw-branch-7 runs R80.40, which R82 cannot manage; "
            + "The database has objects locked by session 'night-shift' of admin jdoe"
        #expect(run.step("blocking-errors")["reason"] as? String == message)
        #expect(run.outcome.stderr.contains("FAIL blocking-errors failed in "))
        #expect(run.outcome.stderr.contains("ms: \(message)\n"))
        let detail = run.taskDetail("verified")
        #expect(
            detail["statusDescription"] as? String == "Verification failed with blocking errors"
        )
        #expect(
            detail["warnings"] as? [[String: String]] == [
                ["message": "Disk space on /var/log is below 10 GB"]
            ]
        )
        #expect(run.commands == ["login", "export-management", "show-task", "logout"])
    }

    // MARK: - mds-backup-domain.yaml

    @Test func mdsBackupDomainBacksUpTheNamedDomain() throws {
        let run = try rehearse(
            Paths.playbook("mds-backup-domain.yaml"),
            scenario: Paths.playbook("scenarios/mds.yaml"),
            arguments: ["--var", "domain=Finance"]
        )
        #expect(run.outcome.status == 0, "\(run.outcome.stderr)")
        #expect(
            run.statuses == [
                "login:succeeded", "domains:succeeded", "domain-exists:succeeded",
                "backup:succeeded", "backed-up:succeeded", "logout:succeeded",
            ]
        )
        let detail = run.taskDetail("backed-up")
        #expect(detail["file-path"] as? String == "/var/log/chkflow/Finance-backup.tgz")
        #expect(
            detail["statusDescription"] as? String
                == "Exported to /var/log/chkflow/Finance-backup.tgz"
        )
        #expect(
            run.commands == ["login", "show-domains", "export-management", "show-task", "logout"]
        )
        #expect(run.requests.allSatisfy { $0["status"] as? Int == 200 })
    }

    @Test func mdsBackupDomainStopsBeforeTheBackupWhenTheDomainIsUnknown() throws {
        let run = try rehearse(
            Paths.playbook("mds-backup-domain.yaml"),
            scenario: Paths.playbook("scenarios/mds.yaml"),
            arguments: ["--var", "domain=Eur"]
        )
        #expect(run.outcome.status == 1)
        #expect(
            run.statuses == [
                "login:succeeded", "domains:succeeded", "domain-exists:failed",
                "backup:skipped", "backed-up:skipped", "logout:succeeded",
            ]
        )
        #expect(
            run.step("domain-exists")["reason"] as? String
                == "there is no domain named 'Eur' on this server (domains matching it: Europe)"
        )
        #expect(run.commands == ["login", "show-domains", "logout"])
    }

    // MARK: - smc-to-mds.yaml

    @Test func smcToMDSVerifiesThenExports() throws {
        let run = try rehearse(Paths.playbook("smc-to-mds.yaml"))
        #expect(run.outcome.status == 0, "\(run.outcome.stderr)")
        #expect(
            run.statuses == [
                "login:succeeded", "verify:succeeded", "verified:succeeded", "export:succeeded",
                "exported:succeeded", "logout:succeeded",
            ]
        )
        #expect(
            run.taskDetail("exported")["file-path"] as? String == "/var/log/chkflow-smc-to-mds.tgz"
        )
        #expect(
            run.commands == [
                "login", "export-management", "show-task", "export-management", "show-task",
                "logout",
            ]
        )
        #expect(run.requests.allSatisfy { $0["status"] as? Int == 200 })
    }

    // MARK: - change-window.yaml

    @Test func changeWindowRunsWhenTheWindowHasRoom() throws {
        let run = try rehearse(Paths.playbook("change-window.yaml"))
        #expect(run.outcome.status == 0, "\(run.outcome.stderr)")
        #expect(
            run.statuses == [
                "login:succeeded", "verify:succeeded", "verified:succeeded", "export:succeeded",
                "exported:succeeded", "logout:succeeded",
            ]
        )
        #expect(count(run.requests, command: "export-management") == 2)
    }

    @Test func changeWindowRefusesAnExportThatWouldEndInTheReserve() throws {
        // Closes in an hour with 30 minutes in reserve: the 15-minute verification fits, the
        // 45-minute export does not.
        let (path, closes) = try changeWindowClosing(inMinutes: 60)
        let run = try rehearse(path)
        #expect(run.outcome.status == 1)
        #expect(run.report["outcome"] as? String == "failed")
        #expect(
            run.statuses == [
                "login:succeeded", "verify:succeeded", "verified:succeeded", "export:refused",
                "exported:skipped", "logout:succeeded",
            ]
        )
        let export = run.step("export")
        let reason = export["reason"] as? String ?? ""
        #expect(reason.hasPrefix("refused: it is expected to take 45m00s and would end at "))
        #expect(reason.hasSuffix("(the window closes at \(closes) and keeps 30m00s in reserve)"))
        #expect((export["attempts"] as? [Any])?.count == 0)
        #expect(export["task-id"] == nil)
        let totals = run.report["totals"] as? [String: Any]
        #expect((totals?["steps"] as? [String: Int])?["refused"] == 1)
        // The one export-management is the verification; the export itself was never sent.
        #expect(run.commands == ["login", "export-management", "show-task", "logout"])
    }

    @Test func changeWindowSendsNothingWhenEvenTheVerificationDoesNotFit() throws {
        let (path, closes) = try changeWindowClosing(inMinutes: 40)
        let run = try rehearse(path)
        #expect(run.outcome.status == 1)
        #expect(
            run.statuses == [
                "login:succeeded", "verify:refused", "verified:skipped", "export:skipped",
                "exported:skipped", "logout:succeeded",
            ]
        )
        let reason = run.step("verify")["reason"] as? String ?? ""
        #expect(reason.hasPrefix("refused: it is expected to take 15m00s and would end at "))
        #expect(reason.hasSuffix("(the window closes at \(closes) and keeps 30m00s in reserve)"))
        #expect(count(run.requests, command: "export-management") == 0)
        #expect(run.commands == ["login", "logout"])
    }

    // MARK: - upgrade-preparation.yaml

    @Test func upgradePreparationExportsWithLogsAndPublishesNothing() throws {
        let run = try rehearse(
            Paths.playbook("upgrade-preparation.yaml"),
            arguments: ["--var", "days-of-logs=7"]
        )
        #expect(run.outcome.status == 0, "\(run.outcome.stderr)")
        #expect(
            run.statuses == [
                "policy-login:succeeded", "sessions:ignored", "each-session:succeeded",
                "policy-logout:succeeded", "login:succeeded", "verify:succeeded",
                "verified:succeeded", "export:succeeded", "exported:succeeded",
                "logout:succeeded",
            ]
        )
        // The simulator does not answer show-sessions; the playbook lets exactly that through.
        let error = run.step("sessions")["error"] as? [String: Any]
        #expect(error?["code"] as? String == "generic_err_command_not_found")
        #expect(error?["http-status"] as? Int == 404)
        #expect(
            run.taskDetail("exported")["file-path"] as? String
                == "/var/log/chkflow-upgrade-export.tgz"
        )
        #expect(
            run.commands == [
                "login", "show-sessions", "logout", "login", "export-management", "show-task",
                "export-management", "show-task", "logout",
            ]
        )
        #expect(count(run.requests, command: "publish") == 0)
        #expect(count(run.requests, command: "discard") == 0)
        let totals = run.report["totals"] as? [String: Any]
        #expect(totals?["logins"] as? Int == 2)
    }

    /// The simulator does not answer show-sessions, so the session check meets a small stand-in
    /// server that answers login, show-sessions and logout as a real one does.
    @Test(.enabled(if: tool("python3") != nil, "python3 is not installed"))
    func upgradePreparationStopsOnSessionsWithUnpublishedChanges() throws {
        let folder = Paths.temporaryFolder()
        let stub = try SessionStub(folder: folder)
        defer { stub.stop() }
        let original = try String(
            contentsOfFile: Paths.playbook("upgrade-preparation.yaml"),
            encoding: .utf8
        )
        let copy = original.replacingOccurrences(
            of: "    url: https://${{ env.CHKP_HOST }}\n    tls:\n"
                + "      fingerprint: ${{ env.CHKP_FINGERPRINT }}\n",
            with: "    url: http://127.0.0.1:\(stub.port)\n"
        )
        #expect(copy != original)
        let playbook = folder + "/upgrade-preparation.yaml"
        try copy.write(toFile: playbook, atomically: true, encoding: .utf8)
        let report = folder + "/report.json"
        let outcome = try chkflow(
            ["run", playbook, "--report", report],
            environment: ["CHKP_PASSWORD": "stub-password"]
        )
        #expect(outcome.status == 1)
        let run = Rehearsal(outcome: outcome, report: try readJSON(report), requests: [])
        #expect(
            run.statuses == [
                "policy-login:succeeded", "sessions:succeeded", "each-session:failed",
                "policy-logout:succeeded", "login:skipped", "verify:skipped", "verified:skipped",
                "export:skipped", "exported:skipped", "logout:skipped",
            ]
        )
        let items = run.step("each-session")["items"] as? [[String: Any]] ?? []
        let reasons = items.map { item in
            ((item["steps"] as? [[String: Any]])?.first?["reason"] as? String) ?? "-"
        }
        #expect(
            reasons == [
                "-",
                "session 'night-shift' of jdoe has 12 unpublished change(s) and 3 lock(s); "
                    + "publish or discard it before the export",
                "session 'quick fix' of asmith has 1 unpublished change(s) and 1 lock(s); "
                    + "publish or discard it before the export",
            ]
        )
        #expect(items.map { $0["status"] as? String } == ["succeeded", "failed", "failed"])
        #expect(try stub.commands() == ["login", "show-sessions", "logout"])
    }

    // MARK: - Documents, completion and manual page

    @Test func codesDocumentShowsTheCatalogueAsChkflowPrintsIt() throws {
        let printed = try chkflow(["codes"])
        #expect(printed.status == 0)
        let document = try String(contentsOfFile: Paths.root + "/docs/codes.md", encoding: .utf8)
        let block = document.components(separatedBy: "```text\n").dropFirst().first?
            .components(separatedBy: "```").first
        #expect(block == printed.stdout)
    }

    @Test func bashCompletionParses() throws {
        let bash = try #require(tool("bash"), "bash is not installed")
        let result = try runTool(bash, ["-n", Paths.root + "/completions/chkflow.bash"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "")
    }

    @Test(.enabled(if: tool("zsh") != nil, "zsh is not installed, so _chkflow is not checked"))
    func zshCompletionParses() throws {
        let zsh = try #require(tool("zsh"))
        let result = try runTool(zsh, ["-n", Paths.root + "/completions/_chkflow"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "")
    }

    @Test(
        .enabled(if: tool("groff") != nil, "groff is not installed, so the man page is not checked")
    )
    func manualPageFormatsWithoutWarnings() throws {
        let groff = try #require(tool("groff"))
        let result = try runTool(
            groff,
            ["-man", "-Tutf8", "-ww", "-z", Paths.root + "/docs/chkflow.1"]
        )
        #expect(result.status == 0)
        #expect(result.stderr == "")
    }

    @Test func completionsKnowEveryCommandAndOption() throws {
        let help = try chkflow(["help"]).stdout
        let bash = try String(
            contentsOfFile: Paths.root + "/completions/chkflow.bash",
            encoding: .utf8
        )
        let zsh = try String(contentsOfFile: Paths.root + "/completions/_chkflow", encoding: .utf8)
        let manual = try String(contentsOfFile: Paths.root + "/docs/chkflow.1", encoding: .utf8)
        let options = Set(
            help.split(whereSeparator: { " ,()[]|".contains($0) || $0.isNewline })
                .filter { $0.hasPrefix("-") && $0.count > 1 }.map(String.init)
        )
        #expect(options.count >= 15)
        for option in options.sorted() {
            #expect(bash.contains(option), "bash completion lacks \(option)")
            #expect(zsh.contains(option), "zsh completion lacks \(option)")
            #expect(manual.contains(option.replacingOccurrences(of: "-", with: "\\-")), "\(option)")
        }
        let commands = [
            "run", "validate", "plan", "simulate", "codes", "report", "version", "help",
        ]
        for command in commands {
            #expect(bash.contains(command) && zsh.contains(command), "\(command)")
            #expect(manual.contains(".B chkflow \(command)"), "\(command)")
        }
        for format in ["text", "json", "mermaid", "dot", "html"] {
            #expect(bash.contains(format) && zsh.contains(format), "\(format)")
        }
    }
}

/// A stand-in management server in Python that answers login, show-sessions (one clean session,
/// two with unpublished changes) and logout, and writes the command of each request to a file.
private final class SessionStub {
    let port: Int
    private let process: Process
    private let logPath: String

    private static let script = """
        import json, sys, http.server
        SESSIONS = [
            {"uid": "a", "name": "chkflow", "user-name": "admin", "changes": 0, "locks": 0},
            {"uid": "b", "name": "night-shift", "user-name": "jdoe", "changes": 12, "locks": 3},
            {"uid": "c", "name": "quick fix", "user-name": "asmith", "changes": 1, "locks": 1},
        ]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                command = self.path.rsplit("/", 1)[-1]
                with open(sys.argv[1], "a") as log:
                    log.write(command + "\\n")
                replies = {
                    "login": {"sid": "stub-sid", "uid": "u", "session-timeout": 600,
                              "url": "http://127.0.0.1:%d/web_api" % self.server.server_address[1],
                              "api-server-version": "2.0.1"},
                    "show-sessions": {"from": 1, "to": 3, "total": 3, "objects": SESSIONS},
                    "logout": {"message": "OK"},
                }
                status, reply = 200, replies.get(command)
                if reply is None:
                    status = 404
                    reply = {"code": "generic_err_command_not_found", "message": command}
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def log_message(self, *arguments):
                pass
        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    init(folder: String) throws {
        let scriptPath = folder + "/stub.py"
        logPath = folder + "/stub-commands.txt"
        try Self.script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: tool("python3") ?? "/usr/bin/python3")
        process.arguments = [scriptPath, logPath]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    func commands() throws -> [String] {
        try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n")
            .map(String.init)
    }

    /// Ends the stub with SIGKILL: a child of the test process inherits its blocked SIGTERM.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// The path of a program on the PATH, or nil.
private func tool(_ name: String) -> String? {
    let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        .split(separator: ":")
    return folders.map { "\($0)/\(name)" }.first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}

/// Runs a program other than chkflow to its end.
private func runTool(_ path: String, _ arguments: [String]) throws -> ProcessOutcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutcome(
        status: process.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self)
    )
}
