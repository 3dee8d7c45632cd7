import Dispatch
import Foundation
import Simulator

/// `chkflow simulate`: serves the simulator until Ctrl-C or SIGTERM.
enum SimulateCommand {
    static func execute(_ words: [String]) async throws(UsageError) -> ExitCode {
        let arguments = try Arguments(
            words,
            valued: ["--listen", "--log", "--scenario"],
            switches: []
        )
        guard arguments.operands.isEmpty else { throw UsageError("simulate takes no operands") }
        if arguments.value("--scenario") != nil {
            throw UsageError(
                "--scenario is not supported yet; the simulator serves its default scenario"
            )
        }
        let (host, port) = try listenAddress(arguments.value("--listen") ?? "127.0.0.1:0")
        let console = Console()
        let server = SimulatorServer(scenario: .default, logPath: arguments.value("--log"))
        let bound: UInt16
        do {
            bound = try server.start(host: host, port: port)
        } catch {
            console.error("chkflow: error: cannot listen on \(host):\(port): \(error)")
            return .runFailed
        }
        console.output("http://\(host):\(bound)")
        console.info(
            "chkflow simulator: single management server, API 2.0.1; admin 'admin' password 'chkflow', api-key 'chkflow-demo-key'; Ctrl-C to stop"
        )
        await waitForSignal()
        server.stop()
        return .success
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
