import Foundation

// chkflow-bench: the in-process benchmarks of chkflow. Each subcommand prints one JSON object
// on stdout; Benchmarks/bench.py runs them and puts the figures in docs/performance.md.

let usage = """
    usage: chkflow-bench engine-overhead [--steps N] [--runs N]
           chkflow-bench client-rate --url URL [--fingerprint SHA256] --task-id ID [--calls N] [--runs N]
    """

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    FileHandle.standardError.write(Data((usage + "\n").utf8))
    exit(64)
}
let options = Options(Array(arguments.dropFirst()))

do {
    switch command {
    case "engine-overhead":
        try await EngineOverhead(
            steps: options.integer("--steps", default: 10_000),
            runs: options.integer("--runs", default: 5)
        ).measure()
    case "client-rate":
        try await ClientRate(
            url: try options.required("--url"),
            fingerprint: options.value("--fingerprint"),
            taskID: try options.required("--task-id"),
            calls: options.integer("--calls", default: 200),
            runs: options.integer("--runs", default: 5)
        ).measure()
    default:
        FileHandle.standardError.write(Data((usage + "\n").utf8))
        exit(64)
    }
} catch {
    FileHandle.standardError.write(Data("chkflow-bench: \(error)\n".utf8))
    exit(1)
}
