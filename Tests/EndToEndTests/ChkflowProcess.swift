import Foundation

/// The outcome of one run of the built `chkflow` binary.
struct ProcessOutcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Paths of the package, the built binary and the test fixtures.
enum Paths {
    static let root: String = {
        let file = #filePath
        return String(file[..<file.range(of: "/Tests/")!.lowerBound])
    }()

    static let binary = root + "/.build/debug/chkflow"

    static func fixture(_ name: String) -> String { root + "/Tests/EndToEndTests/Fixtures/" + name }

    static func playbook(_ name: String) -> String { root + "/playbooks/" + name }

    /// A fresh folder for one test's files.
    static func temporaryFolder() -> String {
        let path = NSTemporaryDirectory() + "chkflow-e2e-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// A process of the built binary, not yet started; its state folder is a fresh one unless the
/// environment names one, so that tests never share journals or locks.
func chkflowProcess(_ arguments: [String], environment: [String: String] = [:]) -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Paths.binary)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: Paths.root)
    var merged = ProcessInfo.processInfo.environment
    merged["CHKFLOW_STATE_DIR"] = Paths.temporaryFolder()
    for (key, value) in environment { merged[key] = value }
    process.environment = merged
    return process
}

/// Runs the built binary to its end.
func chkflow(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessOutcome {
    let process = chkflowProcess(arguments, environment: environment)
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

/// Reads a JSON file the binary wrote.
func readJSON(_ path: String) throws -> [String: Any] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
}

/// Reads a request log: one JSON object per line.
func readLog(_ path: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { line in
        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
    }
}

func count(_ log: [[String: Any]], command: String) -> Int {
    log.filter { $0["command"] as? String == command }.count
}

/// A simulator in a process of its own, so that it outlives the runner the tests kill.
final class SimulatorProcess {
    let process = Process()
    let url: String
    let log: String

    init(scenario: String? = nil, folder: String) throws {
        log = folder + "/requests.ndjson"
        var arguments = ["simulate", "--listen", "127.0.0.1:0", "--log", log]
        if let scenario { arguments += ["--scenario", Paths.fixture(scenario)] }
        process.executableURL = URL(fileURLWithPath: Paths.binary)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let data = out.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        url = text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func requests() throws -> [[String: Any]] { try readLog(log) }

    deinit {
        guard process.isRunning else { return }
        process.terminate()
        // Never hang a test run on a simulator that does not stop: kill it after 5 s.
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}
