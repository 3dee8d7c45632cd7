import Dispatch
import FoundationEssentials
import Glibc
import Simulator
import Synchronization

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
        let stop = StopSignal()
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
        await stop.wait()
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

}

/// Catches SIGINT and SIGTERM from the moment it is made, so that a signal sent as soon as the
/// URL is printed is not lost, and lets `chkflow simulate` wait for the first one.
///
/// A plain signal handler writes one byte to a pipe (the only thing it may safely do); `wait()`
/// reads it on a thread of Dispatch's.
final class StopSignal: Sendable {
    init() {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { return }
        stopPipeWriter.store(descriptors[1], ordering: .releasing)
        stopPipeReader.store(descriptors[0], ordering: .releasing)
        for number in [SIGINT, SIGTERM] {
            signal(number) { _ in
                var byte: UInt8 = 1
                _ = write(stopPipeWriter.load(ordering: .acquiring), &byte, 1)
            }
        }
    }

    /// Returns when a signal has come (at once if one already has).
    func wait() async {
        let reader = stopPipeReader.load(ordering: .acquiring)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                var byte: UInt8 = 0
                while read(reader, &byte, 1) < 0, errno == EINTR {}
                continuation.resume()
            }
        }
    }
}

/// The pipe between the signal handler and `StopSignal.wait()`; atomics, because a signal
/// handler may read nothing else.
private let stopPipeWriter = Atomic<Int32>(-1)
private let stopPipeReader = Atomic<Int32>(-1)
