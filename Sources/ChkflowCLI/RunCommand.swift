import ChkflowCore
import Engine
import FoundationEssentials
import Glibc
import ManagementAPI
import Playbook
import Results
import Simulator

/// `chkflow run PLAYBOOK`: runs it and writes its results.
enum RunCommand {
    static func execute(_ words: [String]) async throws(UsageError) -> ExitCode {
        let arguments = try Arguments(
            words,
            valued: [
                "--report", "--var", "--max-parallel", "--simulator-log", "--state-dir", "--junit",
                "--events",
            ],
            switches: ["-q", "-v"],
            optional: ["--simulator", "--resume"]
        )
        guard arguments.operands.count == 1 else {
            throw UsageError("run needs exactly one playbook")
        }
        // A rehearsal against the built-in simulator speaks plain HTTP and needs no TLS.
        if !arguments.has("--simulator") { TransportWarmUp.begin() }
        let console = Console(quiet: arguments.has("-q"), verbose: arguments.has("-v"))
        var options = RunOptions()
        options.environment = ProcessInfo.processInfo.environment
        options.userAgent = "chkflow/\(chkflowVersion)"
        options.variables = try variables(arguments.all("--var"))
        if let text = arguments.value("--max-parallel") {
            guard let number = Int(text), number >= 1 else {
                throw UsageError(
                    "--max-parallel must be a whole number of at least 1, not '\(text)'"
                )
            }
            options.maxParallel = number
        }
        guard let plan = DiagnosticPrinter.loadPlan(arguments.operands[0], console: console) else {
            return .invalidInput
        }
        for path in [arguments.value("--report"), arguments.value("--junit")].compactMap({ $0 }) {
            do {
                try AtomicFile.checkWritable(path)
            } catch {
                console.error("chkflow: error: \(error)")
                return .cannotCreate
            }
        }
        var events: EventWriter?
        if let path = arguments.value("--events") {
            do {
                events = try EventWriter(path: path)
            } catch {
                console.error("chkflow: error: \(error)")
                return .cannotCreate
            }
        }
        if arguments.value("--simulator-log") != nil, !arguments.has("--simulator") {
            throw UsageError("--simulator-log needs --simulator")
        }
        var simulator: SimulatorServer?
        if arguments.has("--simulator") {
            let path = arguments.value("--simulator")
            guard let scenario = SimulateCommand.loadScenario(path, console: console) else {
                return .invalidInput
            }
            simulator = SimulatorServer(
                scenario: scenario,
                logPath: arguments.value("--simulator-log")
            )
        }
        defer { simulator?.stop() }
        if let simulator {
            do {
                try simulator.start()
            } catch {
                console.error("chkflow: error: cannot start the simulator: \(error)")
                return .runFailed
            }
            options.simulatorURL = simulator.baseURL
        }
        let state = StateDirectory(
            path: arguments.value("--state-dir")
                ?? StateDirectory.defaultPath(environment: options.environment)
        )
        let lock: RunLock
        do {
            try state.prepare(playbook: plan.playbook.name)
            lock = try state.lock(playbook: plan.playbook.name)
        } catch {
            console.error("chkflow: error: \(error.message)")
            return error.message.hasPrefix("another chkflow run") ? .busy : .cannotCreate
        }
        defer { withExtendedLifetime(lock) {} }
        if arguments.has("--resume") {
            do {
                options.resume = try resumeState(
                    arguments.value("--resume"),
                    state: state,
                    plan: plan,
                    console: console
                )
            } catch {
                console.error("chkflow: error: \(error.message)")
                return .invalidInput
            }
        }
        do {
            let runID = options.resume?.runID ?? PreparedRun.makeRunID()
            options.runID = runID
            if plan.playbook.window != nil {
                options.history = StepHistory.load(
                    state: state,
                    playbook: plan.playbook.name,
                    excluding: runID,
                    simulated: options.simulatorURL != nil
                )
            }
            options.journal = try Journal(
                path: state.journalPath(playbook: plan.playbook.name, runID: runID)
            )
        } catch {
            console.error("chkflow: error: \(error.message)")
            return .cannotCreate
        }
        let outputs = Outputs(
            report: arguments.value("--report"),
            junit: arguments.value("--junit"),
            events: events
        )
        return await run(plan, options: options, outputs: outputs, console: console)
    }

    /// Where a run's results go besides the console.
    struct Outputs {
        var report: String?
        var junit: String?
        var events: EventWriter?
    }

    /// The journal of the run to resume: the one named, or the latest of the playbook.
    private static func resumeState(
        _ runID: String?,
        state: StateDirectory,
        plan: Plan,
        console: Console
    ) throws(JournalError) -> ResumeState {
        let name = plan.playbook.name
        guard let id = runID ?? state.latestRunID(playbook: name) else {
            throw JournalError("there is no earlier run of '\(name)' in \(state.path) to resume")
        }
        let path = state.journalPath(playbook: name, runID: id)
        guard FileManager.default.fileExists(atPath: path) else {
            throw JournalError("there is no run \(id) of '\(name)' in \(state.path)")
        }
        console.info("chkflow: resuming run \(id)")
        return try ResumeState.load(journal: path, playbook: plan.playbook)
    }

    private static func variables(_ assignments: [String]) throws(UsageError) -> [String: String] {
        var result: [String: String] = [:]
        for assignment in assignments {
            let parts = assignment.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw UsageError("--var needs NAME=VALUE, not '\(assignment)'")
            }
            result[parts[0]] = parts[1]
        }
        return result
    }

    private static func run(
        _ plan: Plan,
        options: RunOptions,
        outputs: Outputs,
        console: Console
    )
        async -> ExitCode
    {
        let progress = ProgressPrinter(console: console, environment: options.environment)
        let events = outputs.events
        let runner = Runner(plan: plan, options: options) { event in
            progress.handle(event)
            events?.write(event)
        }
        let prepared: PreparedRun
        do {
            prepared = try runner.prepare()
        } catch {
            for message in error.messages { console.error("chkflow: error: \(message)") }
            return .invalidInput
        }
        events?.begin(runID: prepared.runID)
        announce(plan, options: options, console: console)
        let ticker = Task { await progress.tick() }
        let result = await SignalScope.run { await runner.run(prepared) }
        ticker.cancel()
        let code: ExitCode =
            switch result.outcome {
            case .succeeded: .success
            case .failed: .runFailed
            case .cancelled: .interrupted
            }
        progress.summary(result)
        events?.close()
        if let failure = events?.failure { console.error("chkflow: warning: \(failure)") }
        return write(result, code: code, plan: plan, outputs: outputs, console: console)
    }

    /// Writes the report and the JUnit file, each whole or not at all.
    private static func write(
        _ result: RunResult,
        code: ExitCode,
        plan: Plan,
        outputs: Outputs,
        console: Console
    ) -> ExitCode {
        var files: [(String, String)] = []
        if let report = outputs.report {
            let json = Report.json(
                result,
                exitCode: Int(code.rawValue),
                window: plan.playbook.window.map(ReportWindow.init),
                chkflowVersion: chkflowVersion
            )
            files.append((report, json.prettyPrinted() + "\n"))
        }
        if let junit = outputs.junit { files.append((junit, JUnitReport.xml(result))) }
        var status = code
        for (path, text) in files {
            do {
                try AtomicFile.write(text, to: path)
                console.info("wrote \(path)")
            } catch {
                console.error("chkflow: error: \(error)")
                if status == .success { status = .cannotCreate }
            }
        }
        return status
    }

    private static func announce(_ plan: Plan, options: RunOptions, console: Console) {
        let target =
            options.simulatorURL.map { "the simulator at \($0)" }
            ?? "\(plan.playbook.servers.count) server(s)"
        console.info(
            "chkflow: running '\(plan.playbook.name)' (\(plan.nodes.count) steps) against \(target)"
        )
        guard options.simulatorURL == nil else { return }
        for (name, server) in plan.playbook.servers.sorted(by: { $0.key < $1.key })
        where server.tls == .insecure {
            console.error(
                "chkflow: warning: server '\(name)' has 'insecure: true': its certificate is NOT checked"
            )
        }
    }
}
