/// What an injected fault does to a call.
public enum FaultAction: Sendable, Equatable {
    /// Answer with this status and Check Point error instead of running the command.
    case error(status: Int, code: String, message: String)
    /// Close the connection once the request has arrived, without running the command or
    /// answering: the client cannot tell whether it took effect (it did not).
    case dropBeforeRead
    /// Run the command, then close the connection without answering: the command took
    /// effect (an export started) but the client never hears of it.
    case dropAfterRead
    /// Run the command and hold the reply back for this many real seconds.
    case slowReply(seconds: Double)
    /// Answer 403 with an HTML body, as a server does to a client whose address the API
    /// settings do not accept.
    case nonJSONForbidden
    /// Run the command and answer with its reply padded by a `padding` member to at least this
    /// many bytes.
    case hugeReply(bytes: Int)
    /// Run the command, send the first half of its JSON reply (framed as a whole reply) and
    /// close the connection.
    case truncatedReply
    /// Answer with this status and an HTML body; the command runs only when the status is 200.
    case nonJSONReply(status: Int)
    /// Run the command and answer 200 with JSON of the wrong shape.
    case wrongShape(WrongShape)
    /// Run show-task and report the progress of tasks still in progress as going down
    /// (99 minus the real percentage).
    case taskGoesBackwards
    /// Read the request and never answer, keeping the connection open; the command does not
    /// run.
    case neverAnswer
}

/// How a `wrongShape` fault bends a reply.
public enum WrongShape: String, Sendable, CaseIterable {
    /// `tasks` is an empty list.
    case tasksEmpty = "tasks-empty"
    /// Every entry of `tasks` lacks its `status`.
    case taskWithoutStatus = "task-without-status"
    /// Every number of the reply is sent as a string (`"progress-percentage": "40"`).
    case numbersAsStrings = "numbers-as-strings"
}

/// When a fault applies, and what it does.
///
/// A rule with `call` applies to the `call`-th call of its command (counted from 1 over the
/// whole server, failed calls included) and the `count - 1` calls after it. A rule with
/// `probability` instead applies to each call with that chance, drawn from a generator seeded
/// with `seed`, so that a run can be repeated. A rule with neither applies to every call.
public struct FaultRule: Sendable, Equatable {
    /// The command the rule watches (`show-task`), or nil for every command.
    public var command: String?
    /// The first call affected, from 1.
    public var call: Int?
    /// How many calls from `call` on are affected.
    public var count: Int
    /// The chance, from 0 to 1, that any one call is affected.
    public var probability: Double?
    /// Seeds the generator of `probability`.
    public var seed: UInt64
    public var action: FaultAction

    public init(
        command: String? = nil,
        call: Int? = nil,
        count: Int = 1,
        probability: Double? = nil,
        seed: UInt64 = 1,
        action: FaultAction
    ) {
        self.command = command
        self.call = call
        self.count = count
        self.probability = probability
        self.seed = seed
        self.action = action
    }
}

/// A small seeded generator (SplitMix64) so that probabilistic faults repeat from run to run.
struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
