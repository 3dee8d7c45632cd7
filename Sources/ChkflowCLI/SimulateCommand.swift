import Dispatch
import Foundation
import Simulator

/// `chkflow simulate`: serves the simulator until Ctrl-C or SIGTERM.
enum SimulateCommand {
    static func execute(_ words: [String]) async throws(UsageError) -> ExitCode {
        let arguments = try Arguments(
            words,
            valued: ["--listen", "--log", "--scenario", "--cert", "--key"],
            switches: ["--tls"]
        )
        guard arguments.operands.isEmpty else { throw UsageError("simulate takes no operands") }
        let (host, port) = try listenAddress(arguments.value("--listen") ?? "127.0.0.1:0")
        let console = Console()
        guard let scenario = loadScenario(arguments.value("--scenario"), console: console) else {
            return .invalidInput
        }
        let tls = try tlsIdentity(arguments, console: console)
        if arguments.has("--tls"), tls == nil { return .runFailed }
        let server = SimulatorServer(scenario: scenario, logPath: arguments.value("--log"))
        let bound: UInt16
        do {
            bound =
                try tls.map { try server.start(host: host, port: port, tls: $0) }
                ?? server.start(host: host, port: port)
        } catch {
            console.error("chkflow: error: cannot listen on \(host):\(port): \(error)")
            return .runFailed
        }
        console.output("\(tls == nil ? "http" : "https")://\(host):\(bound)")
        if let tls {
            console.info("certificate SHA-256 fingerprint: \(tls.sha256Fingerprint)")
            console.info("certificate SHA-1 fingerprint: \(tls.sha1Fingerprint)")
        }
        console.info(
            "chkflow simulator: \(scenario.serverType.rawValue), API \(scenario.apiVersion); "
                + "admins: \(scenario.admins.map(\.name).joined(separator: ", ")); Ctrl-C to stop"
        )
        await waitForSignal()
        server.stop()
        return .success
    }

    /// The scenario of a file, or the default one; nil (after printing why) when invalid.
    static func loadScenario(_ path: String?, console: Console) -> Scenario? {
        guard let path else { return .default }
        do {
            return try ScenarioFile.load(contentsOf: path)
        } catch {
            console.error(error.description)
            return nil
        }
    }

    /// A certificate made now, or the one `--cert` and `--key` name; nil without `--tls`.
    private static func tlsIdentity(
        _ arguments: Arguments,
        console: Console
    ) throws(UsageError)
        -> TLSIdentity?
    {
        let cert = arguments.value("--cert")
        let key = arguments.value("--key")
        guard arguments.has("--tls") else {
            if cert != nil || key != nil { throw UsageError("--cert and --key need --tls") }
            return nil
        }
        guard (cert == nil) == (key == nil) else {
            throw UsageError("--cert and --key go together")
        }
        do {
            if let cert, let key {
                return try TLSIdentity(
                    certificatePEM: String(contentsOfFile: cert, encoding: .utf8),
                    privateKeyPEM: String(contentsOfFile: key, encoding: .utf8)
                )
            }
            return try TLSIdentity.selfSigned()
        } catch {
            console.error("chkflow: error: cannot set up TLS: \(error)")
            return nil
        }
    }

    /// `HOST:PORT` on a loopback address; the simulator never serves other networks.
    static func listenAddress(_ text: String) throws(UsageError) -> (String, UInt16) {
        guard let colon = text.lastIndex(of: ":"),
            let port = UInt16(text[text.index(after: colon)...])
        else { throw UsageError("--listen needs HOST:PORT, such as 127.0.0.1:8443, not '\(text)'") }
        let host = String(text[..<colon])
        guard host == "127.0.0.1" || host == "localhost" || host.hasPrefix("127.") else {
            throw UsageError("--listen must be a loopback address (127.0.0.1), not '\(host)'")
        }
        return (host == "localhost" ? "127.0.0.1" : host, port)
    }

    private static func waitForSignal() async {
        let sources = SignalBox()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            sources.install(continuation)
        }
    }
}

/// Holds the signal sources that end `chkflow simulate` and resumes its continuation once.
private final class SignalBox: @unchecked Sendable {
    // Touched only from install() and from the serial signal queue, one resume guarded by `done`.
    private var sources: [DispatchSourceSignal] = []
    private var done = false
    private let queue = DispatchQueue(label: "chkflow.simulate.signals")

    func install(_ continuation: CheckedContinuation<Void, Never>) {
        queue.sync {
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { [self] in
                    guard !done else { return }
                    done = true
                    continuation.resume()
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
