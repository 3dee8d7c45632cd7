import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How one run of the built binary ended.
struct BinaryOutcome {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Whether the watchdog had to kill the process.
    var killed: Bool
}

/// The built `chkflow` and the package around it.
enum Binary {
    static let root: String = {
        let file = #filePath
        return String(file[..<file.range(of: "/Tests/")!.lowerBound])
    }()

    /// `CHKFLOW_BINARY` when set (a build with another scratch path), else `.build/debug/chkflow`.
    static let path =
        ProcessInfo.processInfo.environment["CHKFLOW_BINARY"] ?? root + "/.build/debug/chkflow"

    /// A fresh folder for one test's files.
    static func folder() -> String {
        let path = NSTemporaryDirectory() + "chkflow-reliability-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs the binary with stdout and stderr in files (no pipe can fill and block it), killing
    /// it after `limit` seconds.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        limit: Double = 5
    ) throws -> BinaryOutcome {
        let folder = folder()
        let outPath = folder + "/stdout"
        let errPath = folder + "/stderr"
        _ = FileManager.default.createFile(atPath: outPath, contents: nil)
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        var merged = ProcessInfo.processInfo.environment
        merged["CHKFLOW_STATE_DIR"] = folder + "/state"
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let killed = waitOrKill(process, limit: limit)
        return BinaryOutcome(
            status: process.terminationStatus,
            stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
            killed: killed
        )
    }

    /// Waits for the process, killing it (SIGKILL) when it outlives `limit`; true when killed.
    static func waitOrKill(_ process: Process, limit: Double) -> Bool {
        let deadline = Date().addingTimeInterval(limit)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        guard process.isRunning else { return false }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return true
    }
}
