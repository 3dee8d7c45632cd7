/// The status of a server task, spelled exactly as show-task spells it.
public enum TaskStatus: String, Sendable, CaseIterable, Codable {
    case inProgress = "in progress"
    case succeeded = "succeeded"
    case succeededWithWarnings = "succeeded with warnings"
    case partiallySucceeded = "partially succeeded"
    case failed = "failed"

    /// Whether the task has ended.
    public var isTerminal: Bool { self != .inProgress }

    /// Whether chkflow counts the status as success by default: `partially succeeded` is a
    /// failure, because an export that left part of the database out is not a backup.
    public var isSuccessByDefault: Bool { self == .succeeded || self == .succeededWithWarnings }
}
