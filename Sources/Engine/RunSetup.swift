import ChkflowCore
import FoundationEssentials
import Glibc
import ManagementAPI
import Playbook

/// A problem with what the operator supplied for a run (inputs, secrets), found before any call.
public struct RunSetupError: Error, Sendable, CustomStringConvertible {
    public var messages: [String]
    public var description: String { messages.joined(separator: "\n") }
}

/// Settings of one run that do not come from the playbook.
public struct RunOptions: Sendable {
    /// Values from `--var NAME=VALUE`.
    public var variables: [String: String] = [:]
    public var environment: [String: String] = [:]
    public var maxParallel: Int = 4
    /// When set, every server is this URL and secrets take their `simulator` values.
    public var simulatorURL: String?
    public var userAgent: String = "chkflow"
    /// The run's id, when the caller chose it (to name the journal before the run starts).
    public var runID: String?
    /// The journal the run appends to; nil runs without one (tests, benchmarks).
    public var journal: Journal?
    /// How long steps took in earlier runs, for the change window of steps with no `expect`.
    public var history = StepHistory()
    /// What the run takes over from an interrupted one (`--resume`).
    public var resume: ResumeState?
    /// Where the run's time comes from: timestamps, the change window, timeouts and waits.
    ///
    /// The real clock unless a test gives one it moves; the sessions of the run wait for their
    /// tasks on it too.
    public var clock: any RunClock = SystemClock()
    /// Draws the wait before a retry whose backoff has full jitter.
    ///
    /// It is given the ceiling and returns a number from 0 to it: random, unless a test gives a
    /// seeded source.
    public var retryJitter: @Sendable (_ ceiling: Double) -> Double = { Double.random(in: 0...$0) }
    /// Opens the connection of each login step; nil opens a libcurl ``Session`` on ``clock``.
    public var connectionFactory: ConnectionFactory?
    /// Reads a secret the playbook wants from a prompt; nil when there is no terminal.
    public var prompt: (@Sendable (String) -> String?)?
    /// Seconds the end-of-run logout of each session still open may take before chkflow gives
    /// up on it and reports the session as left open.
    public var cleanUpLogoutTimeout: Double = 5

    public init() {}
}

/// Inputs and secrets resolved for a run.
struct RunValues: Sendable {
    var inputs: [String: JSON]
    var secrets: [String: JSON]

    static func resolve(
        _ playbook: Playbook,
        options: RunOptions
    ) throws(RunSetupError) -> RunValues {
        var messages: [String] = []
        let declared = Set(playbook.inputs.map(\.name))
        for name in options.variables.keys.sorted() where !declared.contains(name) {
            let names = playbook.inputs.map(\.name).sorted().joined(separator: ", ")
            messages.append("--var \(name): the playbook has no input '\(name)' (it has: \(names))")
        }
        var inputs: [String: JSON] = [:]
        for input in playbook.inputs {
            switch inputValue(input, options.variables[input.name]) {
            case .success(let value): inputs[input.name] = value
            case .failure(let error): messages.append(error.messages[0])
            }
        }
        var secrets: [String: JSON] = [:]
        for (name, secret) in playbook.secrets.sorted(by: { $0.key < $1.key }) {
            switch secretValue(secret, options: options) {
            case .success(let value): secrets[name] = .string(value)
            case .failure(let error): messages.append(error.messages[0])
            }
        }
        if options.simulatorURL == nil { messages += missingEnvironment(playbook, options) }
        guard messages.isEmpty else { throw RunSetupError(messages: messages) }
        return RunValues(inputs: inputs, secrets: secrets)
    }

    private static func inputValue(_ input: Input, _ text: String?) -> Result<JSON, RunSetupError> {
        let fail = { (message: String) in
            Result<JSON, RunSetupError>.failure(RunSetupError(messages: [message]))
        }
        guard let text else {
            guard let value = input.defaultValue else {
                return fail(
                    "input '\(input.name)' has no default; give it with --var \(input.name)=VALUE"
                )
            }
            return .success(value)
        }
        let value: JSON
        switch input.kind {
        case .string: value = .string(text)
        case .integer:
            guard let number = Int64(text) else {
                return fail("--var \(input.name): '\(escaped(text))' is not a whole number")
            }
            value = .int(number)
        case .boolean:
            guard text == "true" || text == "false" else {
                return fail("--var \(input.name): '\(escaped(text))' is not true or false")
            }
            value = .bool(text == "true")
        case .list:
            value = .array(text.split(separator: ",").map { .string(String($0)) })
        }
        if let pattern = input.pattern, !InputPattern.matches(pattern, text) {
            return fail(
                "--var \(input.name): '\(escaped(text))' does not match the pattern '\(pattern)'"
            )
        }
        return .success(value)
    }

    private static func secretValue(
        _ secret: Secret,
        options: RunOptions
    ) -> Result<String, RunSetupError> {
        let fail = { (message: String) in
            Result<String, RunSetupError>.failure(RunSetupError(messages: [message]))
        }
        if options.simulatorURL != nil, let value = secret.simulatorValue { return .success(value) }
        switch secret.source {
        case .environment(let name):
            guard let value = options.environment[name], !value.isEmpty else {
                return fail("secret '\(secret.name)': the environment variable \(name) is not set")
            }
            return .success(value)
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path),
                let text = String(data: data, encoding: .utf8)
            else {
                return fail("secret '\(secret.name)': cannot read the file \(path)")
            }
            return .success(text.trimmingNewlines)
        case .prompt:
            guard let value = options.prompt?("\(secret.name): ") else {
                return fail(
                    "secret '\(secret.name)' must be typed at a prompt, but there is no terminal"
                )
            }
            return .success(value)
        }
    }

    /// The environment variables a server's url or TLS setting reads that are not set: a run
    /// would otherwise fail only at login, after other steps may have run.
    private static func missingEnvironment(_ playbook: Playbook, _ options: RunOptions) -> [String]
    {
        var messages: [String] = []
        for (name, server) in playbook.servers.sorted(by: { $0.key < $1.key }) {
            var templates = [server.url]
            switch server.tls {
            case .caFile(let template), .fingerprint(let template): templates.append(template)
            case .system, .insecure: break
            }
            let variables = templates.flatMap(\.expressions).flatMap(\.paths).compactMap {
                path -> String? in
                guard path.root == "env", case .member(let variable)? = path.components.first
                else { return nil }
                return variable
            }
            for variable in Set(variables).sorted()
            where (options.environment[variable] ?? "").isEmpty {
                messages.append("server '\(name)': the environment variable \(variable) is not set")
            }
        }
        return messages
    }

    /// A value as an error message quotes it: control characters escaped, so that one error
    /// stays one line and nothing a user typed can pass for chkflow's own output.
    static func escaped(_ text: String) -> String {
        var output = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let control where control.value < 0x20 || control.value == 0x7F:
                output += "\\u{\(String(control.value, radix: 16))}"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
