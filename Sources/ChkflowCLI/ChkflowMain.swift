import ChkflowCore
import FoundationEssentials
import Glibc
import ManagementAPI
import PlaybookYAML

/// The command line's entry point: parses, dispatches, and turns every error into an exit code.
public enum ChkflowMain {
    static let usage = """
        usage: chkflow <command> [options]

        commands:
          run PLAYBOOK        run a playbook (--simulator [SCENARIO], --simulator-log FILE,
                              --report FILE, --junit FILE, --events FILE|-, --var NAME=VALUE,
                              --max-parallel N, --state-dir DIR, --resume [RUN-ID], -q, -v)
          validate PLAYBOOK…  check playbooks without contacting any server
          plan PLAYBOOK       print the resolved graph (--format text|json|mermaid|dot)
          simulate            serve the simulator (--listen 127.0.0.1:PORT, --scenario FILE,
                              --log FILE, --tls [--cert FILE --key FILE])
          codes               print the error-code catalogue (--json)
          report RUN.json     a saved report as one self-contained HTML page with the run's
                              timeline (--format html, --output FILE)
          version             print the version

        exit status: 0 success, 1 a step failed, 64 bad usage, 65 invalid playbook, scenario or
        input, 73 an output file cannot be written, 75 another run holds the state folder,
        130 interrupted
        """

    /// Runs chkflow with the words after the program name and returns its exit status.
    public static func main(_ words: [String]) async -> Int32 {
        let console = Console()
        guard let command = words.first else {
            console.error(usage)
            return ExitCode.usage.rawValue
        }
        let rest = Array(words.dropFirst())
        do throws(UsageError) {
            let code: ExitCode
            switch command {
            case "run": code = try await RunCommand.execute(rest)
            case "validate": code = try ValidateCommand.execute(rest)
            case "plan": code = try PlanCommand.execute(rest)
            case "simulate": code = try await SimulateCommand.execute(rest)
            case "codes": code = try CodesCommand.execute(rest)
            case "report": code = try ReportCommand.execute(rest)
            case "version", "--version":
                console.output(
                    "chkflow \(chkflowVersion) (libyaml \(YAMLLoader.libyamlVersion), "
                        + "\(Session.libcurlVersion))"
                )
                code = .success
            case "help", "--help", "-h":
                console.output(usage)
                code = .success
            default:
                throw UsageError("unknown command '\(command)'")
            }
            return code.rawValue
        } catch {
            console.error("chkflow: error: \(error.message)")
            console.error("run 'chkflow help' for usage")
            return ExitCode.usage.rawValue
        }
    }
}
