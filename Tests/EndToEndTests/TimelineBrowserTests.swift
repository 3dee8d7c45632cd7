import Foundation
import Testing

/// The first program of that name on PATH.
private func which(_ name: String) -> String? {
    let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    for folder in folders + ["/usr/bin", "/usr/local/bin"] {
        let candidate = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs a program to its end with its output in files, not pipes, so that a child it leaves
/// behind cannot keep the test waiting; returns the exit status and what it printed.
private func runProgram(
    _ path: String,
    _ arguments: [String],
    folder: String
) throws
    -> ProcessOutcome
{
    let out = folder + "/stdout", err = folder + "/stderr"
    _ = FileManager.default.createFile(atPath: out, contents: nil)
    _ = FileManager.default.createFile(atPath: err, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
    try process.run()
    process.waitUntilExit()
    return ProcessOutcome(
        status: process.terminationStatus,
        stdout: try String(contentsOfFile: out, encoding: .utf8),
        stderr: try String(contentsOfFile: err, encoding: .utf8)
    )
}

/// Whether this user may start a program in a network namespace of its own (`unshare -rn`),
/// where the only interface is a loopback that is down.
private let canIsolateNetwork: Bool = {
    guard let unshare = which("unshare") else { return false }
    let folder = Paths.temporaryFolder()
    return (try? runProgram(unshare, ["-rn", "true"], folder: folder))?.status == 0
}()

/// What a Chromium net log shows went out: bytes written to any socket, TCP connections made.
///
/// Both stay 0 when the browser never touched the network.
private func networkUse(netLog path: String) throws -> (bytesSent: Int, tcpConnections: Int) {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    let log = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    let constants = log["constants"] as? [String: Any] ?? [:]
    let types = constants["logEventTypes"] as? [String: Int] ?? [:]
    let phases = constants["logEventPhase"] as? [String: Int] ?? [:]
    let sent = Set(types.filter { $0.key.hasSuffix("_BYTES_SENT") }.values)
    var bytesSent = 0, tcpConnections = 0
    for event in log["events"] as? [[String: Any]] ?? [] {
        let type = event["type"] as? Int ?? -1
        let parameters = event["params"] as? [String: Any] ?? [:]
        if sent.contains(type) { bytesSent += parameters["byte_count"] as? Int ?? 1 }
        if type == types["TCP_CONNECT"], event["phase"] as? Int == phases["PHASE_END"],
            parameters["net_error"] == nil
        {
            tcpConnections += 1
        }
    }
    return (bytesSent, tcpConnections)
}

@Suite struct TimelineBrowserTests {
    static let chromium = which("chromium")

    /// The page chkflow writes for a rehearsal of playbooks/smc-export.yaml, screenshot by a
    /// headless Chromium: the picture must be the timeline (its green bars and table cells, its
    /// blue progress strips, red only in the legend), not a blank or an error page.
    @Test(
        .enabled(
            if: chromium != nil,
            "chromium is missing and scripts/install-chromium (run by make test) could not install it"
        ),
        .timeLimit(.minutes(2))
    )
    func chromiumShowsTheTimelineOfARealRun() throws {
        let folder = Paths.temporaryFolder()
        let report = folder + "/report.json", page = folder + "/timeline.html"
        let run = try chkflow([
            "run", Paths.playbook("smc-export.yaml"), "--simulator", "--report", report,
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let written = try chkflow(["report", report, "--output", page])
        #expect(written.status == 0, "\(written.stderr)")

        let picture = folder + "/timeline.png", netLog = folder + "/net-log.json"
        let outcome = try screenshot(page: page, to: picture, netLog: netLog, folder: folder)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let network = try networkUse(netLog: netLog)
        #expect(network.bytesSent == 0 && network.tcpConnections == 0)

        let size = try FileManager.default.attributesOfItem(atPath: picture)[.size] as? Int ?? 0
        #expect(size > 20_000)
        let pixels = try pixelCounts(picture, ["2e7d32", "1565c0", "c62828", "ffffff"])
        func pixelsOf(_ key: String) -> Int { Int(pixels[key] ?? "") ?? -1 }
        #expect(pixels["size"] == "1200x900")
        #expect(pixelsOf("colours") > 50)
        #expect(pixelsOf("2e7d32") > 10_000, "the succeeded green of bars and table cells")
        #expect(pixelsOf("1565c0") > 500, "the blue progress strips of the two waits")
        #expect(
            (100...200).contains(pixelsOf("c62828")),
            "red only in the legend swatch: no failure"
        )
        #expect(pixelsOf("ffffff") > 1200 * 900 / 2, "the white page")
    }

    /// Chromium, headless, killed with its children after 60 s, in a network namespace of its
    /// own when the system allows one; in any case every host name resolves to nothing and
    /// every fetch goes to a closed proxy port, and background services are off.
    private func screenshot(
        page: String,
        to picture: String,
        netLog: String,
        folder: String
    )
        throws -> ProcessOutcome
    {
        let isolation = canIsolateNetwork ? [which("unshare") ?? "unshare", "-rn"] : []
        let browser = [
            Self.chromium ?? "chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--hide-scrollbars", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--proxy-server=http://127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=\(folder)/profile",
            "--log-net-log=\(netLog)", "--screenshot=\(picture)", "--window-size=1200,900",
            "file://\(page)",
        ]
        return try runProgram(
            which("timeout") ?? "/usr/bin/timeout",
            ["-k", "10", "60"] + isolation + browser,
            folder: folder
        )
    }

    /// What `pngColoursScript` says of the picture: `size` (`1200x900`), `colours` (how many
    /// distinct ones) and the number of pixels of each colour asked for.
    private func pixelCounts(_ picture: String, _ colours: [String]) throws -> [String: String] {
        let python = which("python3") ?? "/usr/bin/python3"
        let arguments = ["-c", pngColoursScript, picture] + colours
        let check = try runProgram(python, arguments, folder: Paths.temporaryFolder())
        #expect(check.status == 0, "\(check.stderr)")
        var values: [String: String] = [:]
        for word in check.stdout.split(whereSeparator: \.isWhitespace) {
            let parts = word.split(separator: "=")
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }
}
