import FoundationEssentials
import Glibc

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
        Self.write(text.hasSuffix("\n") ? text : text + "\n", to: STDOUT_FILENO)
    }

    static func writeError(_ text: String) { write(text, to: STDERR_FILENO) }

    /// Writes all of `text`, going on after partial writes and interrupted calls; a stream that
    /// is gone (a closed pipe) ends the write silently, as there is nowhere left to say so.
    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let result = Glibc.write(
                    descriptor,
                    bytes.baseAddress! + offset,
                    bytes.count - offset
                )
                if result < 0, errno == EINTR { continue }
                guard result > 0 else { return }
                offset += result
            }
        }
    }
}
