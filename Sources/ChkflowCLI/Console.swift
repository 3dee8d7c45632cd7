import Foundation

/// Where chkflow writes: results to stdout, everything else to stderr.
struct Console: Sendable {
    var quiet = false
    var verbose = false

    static let standardErrorIsTerminal = isatty(STDERR_FILENO) == 1

    func error(_ text: String) { Self.writeError(text + "\n") }

    func info(_ text: String) {
        if !quiet { Self.writeError(text + "\n") }
    }

    func output(_ text: String) {
        FileHandle.standardOutput.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func writeError(_ text: String) { FileHandle.standardError.write(Data(text.utf8)) }
}
