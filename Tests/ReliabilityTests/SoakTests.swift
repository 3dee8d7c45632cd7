import ChkflowCore
import Foundation
import Simulator
import Testing

/// Repeated exports under random faults, for as long as `CHKFLOW_SOAK_SECONDS` says (run by
/// `make soak`, not by `make test`): memory and descriptors must not grow.
@Suite struct SoakTests {
    static let seconds = ProcessInfo.processInfo.environment["CHKFLOW_SOAK_SECONDS"].flatMap(
        Double.init
    )

    /// Resident memory (KiB) and open descriptors of this process.
    static func footprint() -> (residentKiB: Int, descriptors: Int) {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        let words = line.split(whereSeparator: \.isWhitespace)
        let resident = Int(words.dropFirst().first ?? "") ?? 0
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return (resident, fds.count)
    }

    /// Faults drawn at a fixed seed per round: transient errors, drops and slow replies.
    static func faults(round: Int) -> [FaultRule] {
        let seed = UInt64(round)
        return [
            FaultRule(
                command: "show-task",
                probability: 0.1,
                seed: seed,
                action: .error(status: 500, code: "generic_internal_error", message: "soak")
            ),
            FaultRule(
                command: "show-task",
                probability: 0.05,
                seed: seed + 1,
                action: .dropBeforeRead
            ),
            FaultRule(
                command: "export-management",
                probability: 0.1,
                seed: seed + 2,
                action: .dropAfterRead
            ),
            FaultRule(
                command: "login",
                probability: 0.1,
                seed: seed + 3,
                action: .error(status: 429, code: "err_too_many_requests", message: "soak")
            ),
        ]
    }

    @Test(.enabled(if: seconds != nil, "set CHKFLOW_SOAK_SECONDS (make soak)"))
    func repeatedExportsUnderRandomFaultsDoNotGrow() async throws {
        let deadline = Date().addingTimeInterval(Self.seconds ?? 0)
        var samples: [(residentKiB: Int, descriptors: Int)] = []
        var round = 0
        var exports = 0
        while Date() < deadline || round < 20 {
            var harness = Harness()
            harness.scenario = Matrix.scenario
            // A 45-minute export at 3,600 simulated seconds per real one: an hour of exports a
            // round at most, a few seconds of real time.
            harness.scenario.export = TaskBehaviour(duration: 45 * 60)
            harness.scenario.timeScale = 3600
            harness.scenario.faults = Self.faults(round: round)
            let rehearsal = try await harness.run(
                Matrix.playbook.replacing("1500ms", with: "10s").replacing(
                    "timeout: 2s}",
                    with: "timeout: 10s}"
                )
            )
            #expect(rehearsal.exportsStarted <= 1)
            #expect(rehearsal.openSessions.isEmpty)
            exports += rehearsal.exportsStarted
            round += 1
            samples.append(Self.footprint())
        }
        let settled = samples[samples.count / 10]
        let last = samples[samples.count - 1]
        print(
            "soak: \(round) rounds, \(exports) exports; resident \(settled.residentKiB / 1024) MiB"
                + " after warm-up, \(last.residentKiB / 1024) MiB at the end; descriptors"
                + " \(settled.descriptors) then \(last.descriptors)"
        )
        #expect(last.descriptors <= settled.descriptors + 4)
        #expect(last.residentKiB <= settled.residentKiB + 32 * 1024)
    }
}
