import Foundation
import Testing

/// Paths inside the repository, found from this file's own path.
enum Repository {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func sample(_ name: String) -> String { path("Tests/ResultsTests/Samples/\(name)") }

    /// The venv of scripts/make-venv, with jsonschema.
    static var python: String? {
        let candidate = path(".venv/bin/python")
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
    }

    static func temporaryFolder() -> String {
        let path = NSTemporaryDirectory() + "chkflow-results-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// The result of a finished child process.
struct ProcessOutcome {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a program to its end and collects what it printed.
func runProgram(_ path: String, _ arguments: [String]) throws -> ProcessOutcome {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: Repository.root)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessOutcome(
        status: process.terminationStatus,
        stdout: String(decoding: output, as: UTF8.self),
        stderr: String(decoding: errors, as: UTF8.self)
    )
}

/// The first program of that name on PATH.
func which(_ name: String) -> String? {
    let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    for folder in folders + ["/usr/bin", "/usr/local/bin"] {
        let candidate = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Compares a generated text with a checked-in sample; with CHKFLOW_UPDATE_SAMPLES=1 it
/// rewrites the sample instead.
func expectSample(
    _ text: String,
    _ name: String,
    sourceLocation: SourceLocation = #_sourceLocation
)
    throws
{
    let path = Repository.sample(name)
    if ProcessInfo.processInfo.environment["CHKFLOW_UPDATE_SAMPLES"] == "1" {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
    let stored = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text == stored, "\(name) differs from its sample", sourceLocation: sourceLocation)
}
