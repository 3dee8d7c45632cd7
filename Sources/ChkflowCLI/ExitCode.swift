/// The exit statuses of chkflow, in one place.
public enum ExitCode: Int32, Sendable {
    /// Every step succeeded or was skipped by a condition.
    case success = 0
    /// The run ended with a failed, refused or timed-out step.
    case runFailed = 1
    /// Bad command-line usage (`EX_USAGE`).
    case usage = 64
    /// An invalid playbook, scenario or input (`EX_DATAERR`).
    case invalidInput = 65
    /// A file chkflow must write cannot be written (`EX_CANTCREAT`).
    case cannotCreate = 73
    /// Another run of the same playbook holds the state folder (`EX_TEMPFAIL`).
    case busy = 75
    /// Interrupted by Ctrl-C or SIGTERM.
    case interrupted = 130
}

/// A problem with the command line itself.
public struct UsageError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The version chkflow reports and sends in its User-Agent.
public let chkflowVersion = "0.1.0"
