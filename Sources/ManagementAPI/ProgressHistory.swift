/// What the polls of one task have seen, and when it can end at the earliest and at the latest.
///
/// Servers report `progress-percentage` as a whole number, so each poll only says that the
/// task's true progress was somewhere in [p, p + 1) at that moment. Under the assumption that
/// the task moves at a steady rate, every poll (and, when known, the moment the task was
/// started) narrows the set of rates and start times that fit, and with it the time the task
/// ends. The wait aims its next poll inside that range instead of guessing. When the polls
/// contradict a steady rate, there is no range, and the caller falls back to plain backoff.
struct ProgressHistory: Sendable {
    /// When the request that started the task went out and when its reply came back, on the
    /// session's clock; nil when the task was started elsewhere (a resume, another tool).
    var origin: ClosedRange<Double>?
    /// The first polls and the latest ones that found the task in progress.
    private(set) var samples: [ProgressSample] = []

    /// How many of the first and of the latest samples are kept: enough to pin the rate down,
    /// few enough that the estimate stays cheap on an hour-long wait.
    private static let kept = (first: 2, latest: 4)
    /// The longest task the estimate considers, a week: it bounds the range when progress has
    /// barely moved.
    private static let longestTask = 7.0 * 24 * 3600

    init(origin: ClosedRange<Double>?) {
        self.origin = origin
    }

    mutating func record(_ sample: ProgressSample) {
        samples.append(sample)
        let (first, latest) = Self.kept
        if samples.count > first + latest { samples.remove(at: first) }
    }

    /// The earliest and the latest moment the task can end, on the session's clock; nil when
    /// the polls so far cannot tell, or contradict a steady rate.
    func endRange() -> ClosedRange<Double>? {
        guard let reference = origin?.lowerBound ?? samples.first?.time else { return nil }
        guard samples.count >= (origin == nil ? 2 : 1) else { return nil }
        let constraints = self.constraints(relativeTo: reference)
        var earliest = Double.infinity
        var latest = -Double.infinity
        for (index, one) in constraints.enumerated() {
            for other in constraints[(index + 1)...] {
                guard let corner = one.meeting(other),
                    constraints.allSatisfy({ $0.holds(at: corner) })
                else { continue }
                let end = reference + (corner.u + 1) / corner.x
                earliest = min(earliest, end)
                latest = max(latest, end)
            }
        }
        guard earliest <= latest else { return nil }
        return earliest...latest
    }

    /// The half-planes in (x, u) that the polls allow, where x is the rate (the share of the
    /// task done per second) and u is x times the start time: a poll at t seeing p says that
    /// p/100 <= t·x − u < (p + 1)/100, and the end of the task is (u + 1)/x.
    private func constraints(relativeTo reference: Double) -> [HalfPlane] {
        var planes = [HalfPlane(a: 1, b: 0, c: 1 / Self.longestTask)]
        for sample in samples {
            let t = sample.time - reference
            let p = Double(sample.progress)
            planes.append(HalfPlane(a: t, b: -1, c: p / 100))
            planes.append(HalfPlane(a: -t, b: 1, c: -(p + 1) / 100))
        }
        if let origin {
            // The task started between the request going out and its reply coming back.
            planes.append(HalfPlane(a: -(origin.lowerBound - reference), b: 1, c: 0))
            planes.append(HalfPlane(a: origin.upperBound - reference, b: -1, c: 0))
        }
        return planes
    }
}

/// a·x + b·u >= c.
private struct HalfPlane {
    var a: Double
    var b: Double
    var c: Double

    /// Slack for rounding, so that a corner on the border counts as inside.
    private static let slack = 1e-9

    func holds(at point: (x: Double, u: Double)) -> Bool {
        a * point.x + b * point.u >= c - Self.slack * max(1, abs(c))
    }

    /// Where the borders of two half-planes cross; nil when they are parallel.
    func meeting(_ other: HalfPlane) -> (x: Double, u: Double)? {
        let determinant = a * other.b - other.a * b
        guard abs(determinant) > 1e-12 else { return nil }
        let x = (c * other.b - other.c * b) / determinant
        let u = (a * other.c - other.a * c) / determinant
        guard x > 0 else { return nil }
        return (x, u)
    }
}
