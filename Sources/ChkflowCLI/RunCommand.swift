import ChkflowCore
import Engine
import Foundation
import Playbook
import Results
import Simulator

/// `chkflow run PLAYBOOK`: runs it and writes its results.
enum RunCommand {
    static func execute(_ words: [String]) async throws(UsageError) -> ExitCode {
        let arguments = try Arguments(
            words,
            valued: ["--report", "--var", "--max-parallel", "--simulator-log", "--state-dir"],
            switches: ["-q", "-v"],
            optional: ["--simulator", "--resume"]
        )
        guard arguments.operands.count == 1 else {
            throw UsageError("run needs exactly one playbook")
        }
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
        if let report = arguments.value("--report") {
            do {
                try AtomicFile.checkWritable(report)
            } catch {
                console.error("chkflow: error: \(error)")
                return .cannotCreate
            }
        }
        if arguments.value("--simulator") != nil {
            console.error(
                "chkflow: error: scenario files for --simulator are not supported yet; use --simulator alone"
            )
            return .usage
        }
        if arguments.value("--simulator-log") != nil, !arguments.has("--simulator") {
            throw UsageError("--simulator-log needs --simulator")
        }
        let simulator =
            arguments.has("--simulator")
            ? SimulatorServer(scenario: .default, logPath: arguments.value("--simulator-log")) : nil
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
                ?? StateDirectory.defaultPath(environment: options.environment))
        let lock: RunLock
        do {
            try state.prepare(playbook: plan.playbook.name)
            lock = try state.lock(playbook: plan.playbook.name)
            if arguments.has("--resume") {
                options.resume = try resumeState(
                    arguments.value("--resume"), state: state, plan: plan, console: console)
            }
            let runID = options.resume?.runID ?? PreparedRun.makeRunID()
            options.runID = runID
            options.journal = try Journal(
                path: state.journalPath(playbook: plan.playbook.name, runID: runID))
        } catch {
            console.error("chkflow: error: \(error.message)")
            return error.message.hasPrefix("another chkflow run") ? .busy : .cannotCreate
        }
        defer { withExtendedLifetime(lock) {} }
        return await run(
            plan,
            options: options,
            state: state,
            report: arguments.value("--report"),
            console: console
        )
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
        state: StateDirectory,
        report: String?,
        console: Console
    )
        async -> ExitCode
    {
        let progress = ProgressPrinter(console: console)
        let runner = Runner(plan: plan, options: options) { progress.handle($0) }
        let prepared: PreparedRun
        do {
            prepared = try runner.prepare()
        } catch {
            for message in error.messages { console.error("chkflow: error: \(message)") }
            return .invalidInput
        }
        announce(plan, options: options, console: console)
        let result = await SignalScope.run { await runner.run(prepared) }
        let code: ExitCode =
            switch result.outcome {
            case .succeeded: .success
            case .failed: .runFailed
            case .cancelled: .interrupted
            }
        progress.summary(result)
        if let report {
            do {
                try AtomicFile.write(
                    Report.json(result, exitCode: Int(code.rawValue)).prettyPrinted() + "\n",
                    to: report
                )
                console.info("report: \(report)")
            } catch {
                console.error("chkflow: error: \(error)")
                return code == .success ? .cannotCreate : code
            }
        }
        return code
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
