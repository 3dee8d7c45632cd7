/// How long the tasks one command started have taken, as far as a session's polls could tell.
///
/// A poll that finds a task ended bounds its duration from above (the reply came after the
/// end, the task started after its request went out); the last poll that found it running
/// bounds it from below. When the tasks seen agree, a new task of the same command is
/// expected to end within the shortest of the upper bounds, and its wait can poll then instead
/// of starting with a quick poll and narrowing down.
public struct TaskDurations: Sendable, Equatable {
    /// The least of the upper bounds: no task seen took longer than its own bound, and when
    /// they all take the same time, none takes longer than this.
    public private(set) var shortestUpperBound = Double.infinity
    /// The greatest of the lower bounds.
    public private(set) var longestLowerBound = 0.0
    /// How many ended tasks were counted.
    public private(set) var count = 0

    /// How far the bounds may disagree and still count as one duration: tasks whose durations
    /// differ by more are not predicted.
    public static let agreement = 1.1

    public init() {}

    /// Counts a task that took at least `bounds.lowerBound` and at most `bounds.upperBound`.
    public mutating func record(_ bounds: ClosedRange<Double>) {
        shortestUpperBound = min(shortestUpperBound, bounds.upperBound)
        longestLowerBound = max(longestLowerBound, bounds.lowerBound)
        count += 1
    }

    /// The longest a new task is expected to take, or nil when no task was counted or their
    /// durations disagree by more than ``agreement``.
    public var expected: Double? {
        guard count > 0, longestLowerBound <= shortestUpperBound * Self.agreement else {
            return nil
        }
        return shortestUpperBound
    }
}
