import CYAML
import PlaybookYAML
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Loading time against libyaml alone on a 10 MB playbook-shaped file.
///
/// Opt-in and meaningful only in a release build:
/// `CHKFLOW_BENCHMARK=1 swift test -c release --filter YAMLBenchmark`.
@Suite struct YAMLBenchmark {
    static let isEnabled = getenv("CHKFLOW_BENCHMARK") != nil && !isDebugBuild

    static var isDebugBuild: Bool {
        #if DEBUG
        true
        #else
        false
        #endif
    }

    @Test(.enabled(if: isEnabled, "set CHKFLOW_BENCHMARK=1 and build in release"))
    func loadingTakesAtMostTwiceAsLongAsLibYAMLEvents() throws {
        let bytes = Self.playbook(bytes: 10 << 20)
        // The file has about 1.1 million nodes, more than the default limit.
        var limits = YAMLLimits()
        limits.maximumNodes = 10_000_000
        var bare = Double.infinity
        var loading = Double.infinity
        var teardown = Double.infinity
        var steps = 0
        // CPU time of this thread, best of several rounds, so that other work on a shared
        // machine counts as little as it can.
        for _ in 0..<15 {
            bare = min(bare, Self.cpuSeconds { _ = Self.countEvents(bytes) })
            var root: Node?
            loading = min(
                loading,
                Self.cpuSeconds { root = try? YAMLLoader.load(bytes, file: "b", limits: limits) }
            )
            steps = root?["steps"]?.items?.count ?? 0
            teardown = min(teardown, Self.cpuSeconds { root = nil })
        }
        let ratio = loading / bare
        print("libyaml events \(bare) s, load \(loading) s (\(ratio)x), freeing \(teardown) s")
        #expect(steps > 20_000)
        #expect(ratio <= 2)
    }

    static func playbook(bytes: Int) -> [UInt8] {
        var text = "chkflow: 1\nname: benchmark\nsteps:\n"
        var index = 0
        while text.utf8.count < bytes {
            text += """
                  - id: step-\(index)
                    login: {server: primary, user: admin, password: "p-\(index)", domain: System Data}
                    when: ${{ steps.verify.task.status == 'succeeded' }}
                    tags: [export, backup, "domain-\(index % 17)", 'quoted é']
                    note: |
                      literal line one for step \(index)
                      literal line two
                    retry:
                      on: [err_too_many_requests, transport]
                      attempts: \(index % 7)
                      backoff: {initial: 2s, factor: 2, max: 1m, jitter: full}

                """
            index += 1
        }
        return Array(text.utf8)
    }

    static func cpuSeconds(_ work: () -> Void) -> Double {
        var start = timespec()
        var end = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        work()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    }

    /// Parses every event with libyaml and nothing else.
    static func countEvents(_ bytes: [UInt8]) -> Int {
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        let event = UnsafeMutablePointer<yaml_event_t>.allocate(capacity: 1)
        defer {
            yaml_parser_delete(parser)
            parser.deallocate()
            event.deallocate()
        }
        guard yaml_parser_initialize(parser) != 0 else { return 0 }
        var count = 0
        bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(parser, buffer.baseAddress, buffer.count)
            while yaml_parser_parse(parser, event) != 0 {
                let isEnd = event.pointee.type == YAML_STREAM_END_EVENT
                yaml_event_delete(event)
                count += 1
                if isEnd { break }
            }
        }
        return count
    }
}
