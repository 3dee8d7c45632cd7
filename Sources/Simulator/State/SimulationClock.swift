import ChkflowCore

#if canImport(Glibc)
import Glibc
#endif

/// Real and simulated time of one server run.
///
/// Simulated time runs `timeScale` times as fast as real time and starts at the wall-clock
/// moment the server started.
struct SimulationClock: Sendable {
    let startMonotonic: Double
    let startWallSeconds: Double
    let timeScale: Double

    init(timeScale: Double) {
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        startMonotonic = MonotonicClock.now()
        startWallSeconds = Double(wall.tv_sec) + Double(wall.tv_nsec) / 1e9
        self.timeScale = timeScale > 0 && timeScale.isFinite ? min(timeScale, Self.maximumScale) : 1
    }

    /// The fastest time runs: a year a second.
    static let maximumScale = 31_536_000.0
    /// 9999-12-31T23:59:59Z: later moments are shown as this one.
    static let latestMoment = 253_402_300_799.0

    /// Real seconds since the server started, for the request log.
    func realElapsed() -> Double { MonotonicClock.now() - startMonotonic }

    /// Simulated seconds since the server started: what sessions and tasks age by.
    func now() -> Double { realElapsed() * timeScale }

    /// The API's time object for a simulated moment: `{"posix": ms, "iso-8601": ...}`.
    func timeObject(at simulated: Double) -> JSON {
        let sum = startWallSeconds + simulated
        let seconds = sum.isFinite ? min(max(sum, 0), Self.latestMoment) : 0
        return [
            "posix": .int(Int64((seconds * 1000).rounded(.down))),
            "iso-8601": .string(Self.iso8601Minutes(Int(seconds.rounded(.down)))),
        ]
    }

    /// `YYYY-MM-DDTHH:MM+0000`: minute precision, offset without a colon, as the API writes it.
    static func iso8601Minutes(_ epochSeconds: Int) -> String {
        var time = time_t(epochSeconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let date = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
        return "\(date)T\(two(parts.tm_hour)):\(two(parts.tm_min))+0000"
    }
}
