import ChkflowCore
import Engine
import Foundation
import Simulator
import Testing

#if canImport(Glibc)
import Glibc
#endif

enum Load {
    /// A login, then `count` verifications and their waits, all at once, then the logout.
    static func playbook(count: Int) -> String {
        let items = (0..<count).map(String.init).joined(separator: ", ")
        return """
            chkflow: 1
            name: load
            servers:
              lab:
                url: https://mgmt.example.net
            steps:
              - id: login
                login: {user: admin, password: chkflow, domain: System Data}
              - id: each
                for-each: [\(items)]
                as: n
                max-parallel: \(count)
                steps:
                  - id: verify
                    verify: {version: R82}
                  - id: verified
                    wait: {task: '${{ steps.verify.task-id }}', timeout: 5m}
              - id: logout
                if: '${{ always() }}'
                logout: {}
            """
    }

    static let scenarioText = """
        tasks:
          verification: {duration: 2s}
        """

    /// The process's open descriptors that are TCP sockets to or from `port`.
    static func socketsOnPort(_ port: UInt16) -> [String] {
        let inodes = Set(
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [])
                .compactMap { fd -> String? in
                    let target = try? FileManager.default.destinationOfSymbolicLink(
                        atPath: "/proc/self/fd/" + fd
                    )
                    guard let target, target.hasPrefix("socket:[") else { return nil }
                    return String(target.dropFirst("socket:[".count).dropLast())
                }
        )
        let hexPort = String(format: ":%04X", port)
        var found: [String] = []
        for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
            let text = (try? String(contentsOfFile: table, encoding: .utf8)) ?? ""
            for line in text.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: " ")
                guard fields.count > 9, inodes.contains(String(fields[9])),
                    fields[1].hasSuffix(hexPort) || fields[2].hasSuffix(hexPort)
                else { continue }
                found.append(String(line))
            }
        }
        return found
    }

    /// What /proc says of a process: peak resident memory (KiB), threads, open descriptors.
    static func sample(_ pid: Int32) -> (peakKiB: Int, threads: Int, descriptors: Int)? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        else { return nil }
        func field(_ name: String) -> Int {
            let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
            let words = line.split(whereSeparator: \.isWhitespace)
            return Int(words.dropFirst().first { Int($0) != nil } ?? "") ?? 0
        }
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
        return (field("VmHWM"), field("Threads"), fds.count)
    }
}

@Suite struct LoadTests {
    /// 1,000 waits in one process with the engine: every one ends right, and afterwards no
    /// socket to the simulator is left open.
    @Test func aThousandParallelWaitsAllSucceedAndLeaveNoSocket() async throws {
        var harness = Harness()
        harness.scenario.verification = TaskBehaviour(duration: 2)
        harness.maxParallel = 1000
        harness.deadline = 120
        let rehearsal = try await harness.run(Load.playbook(count: 1000))
        #expect(rehearsal.statuses == ["login:succeeded", "each:succeeded", "logout:succeeded"])
        let items = try #require(rehearsal.step("each")).items
        #expect(items.count == 1000)
        #expect(items.allSatisfy { $0.status == .succeeded })
        #expect(items.allSatisfy { $0.steps.last?.task?.status == .succeeded })
        #expect(rehearsal.count("export-management") == 1000)
        #expect(rehearsal.taskNames.count == 1000)
        #expect(rehearsal.openSessions.isEmpty)
        let port = UInt16(rehearsal.result.servers.first?.url.split(separator: ":").last ?? "") ?? 0
        #expect(port != 0)
        #expect(Load.socketsOnPort(port) == [])
    }

    /// The same through the built binary, watched from outside.
    ///
    /// Its peak memory, threads and descriptors stay bounded; prints the figures that
    /// docs/reliability.md quotes.
    @Test func aThousandParallelWaitsThroughTheBinaryStayBounded() throws {
        let folder = Binary.folder()
        try Data(Load.playbook(count: 1000).utf8).write(
            to: URL(fileURLWithPath: folder + "/load.yaml")
        )
        try Data(Load.scenarioText.utf8).write(to: URL(fileURLWithPath: folder + "/load-sim.yaml"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = [
            "run", folder + "/load.yaml", "--simulator", folder + "/load-sim.yaml",
            "--max-parallel", "1000", "--report", folder + "/report.json", "-q",
            "--state-dir", folder + "/state",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let started = Date()
        try process.run()
        var peak = (peakKiB: 0, threads: 0, descriptors: 0)
        while process.isRunning, Date().timeIntervalSince(started) < 120 {
            if let now = Load.sample(process.processIdentifier) {
                peak = (
                    max(peak.peakKiB, now.peakKiB), max(peak.threads, now.threads),
                    max(peak.descriptors, now.descriptors)
                )
            }
            usleep(20_000)
        }
        let killed = Binary.waitOrKill(process, limit: 0)
        let seconds = Date().timeIntervalSince(started)
        #expect(!killed)
        #expect(process.terminationStatus == 0)
        let report = try JSON.parse(
            Array(try Data(contentsOf: URL(fileURLWithPath: folder + "/report.json")))
        )
        let each = report["steps"]?.arrayValue?.first { $0["id"]?.stringValue == "each" }
        #expect(each?["status"]?.stringValue == "succeeded")
        #expect(each?["items"]?.arrayValue?.count == 1000)
        print(
            "load: 1000 parallel waits in \(Int(seconds)) s; peak RSS \(peak.peakKiB / 1024) MiB,"
                + " peak threads \(peak.threads), peak descriptors \(peak.descriptors)"
        )
        #expect(peak.peakKiB < 512 * 1024)
        #expect(peak.threads < 64)
        #expect(peak.descriptors < 256)
    }
}
