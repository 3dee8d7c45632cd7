// Validates and plans a generated 10,000-step playbook, for `make bench-playbook`.
//
//   bench-playbook generate STEPS FILE   writes a playbook of exactly STEPS steps
//   bench-playbook time FILE [RUNS]      loads, validates and plans it RUNS times; prints timings
//   bench-playbook memory FILE           does it once; prints the peak resident memory
//   bench-playbook memory-yaml FILE      the same for YAML loading alone, as a whole tree
//
// Both measure what `chkflow validate` and `chkflow plan` call, `PlaybookLoader.plan(contentsOf:)`,
// which reads the file itself. Memory is measured in a process of its own, so that no earlier
// run's freed memory hides in the figure. Only API that older versions have is used, so that
// `compare` can build this file against an earlier commit's sources.

import Playbook
import PlaybookYAML

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Seconds on a monotonic clock.
func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// The most memory the process has held at once, in bytes.
func peakResidentBytes() -> Int {
    var usage = rusage()
    #if canImport(Glibc)
    getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Int(usage.ru_maxrss) * 1024
}

/// The current resident memory, in bytes, from /proc (0 where there is none).
func currentResidentBytes() -> Int {
    let descriptor = open("/proc/self/statm", O_RDONLY)
    guard descriptor >= 0 else { return 0 }
    defer { close(descriptor) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = read(descriptor, &buffer, buffer.count)
    guard count > 0 else { return 0 }
    let fields = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// A playbook of exactly `count` steps: exports of many domains, each waited for and checked,
/// with for-each steps among them, every step reading or needing earlier ones.
func generatePlaybook(steps count: Int) -> String {
    var text = """
        chkflow: 1
        name: generated-\(count)-steps
        inputs:
          target-version: {type: string, default: R82, pattern: 'R[0-9]+(\\.[0-9]+)?'}
        servers:
          mds:
            url: https://mds.example.net
            limits: {requests-per-second: 20, logins-per-minute: 3, exports-at-once: 4}
        secrets:
          password: {env: CHKP_PASSWORD, simulator: chkflow}
        defaults:
          retry:
            on: [err_too_many_requests, transport]
            attempts: 6
            backoff: {initial: 2s, factor: 2, max: 1m, jitter: full}
        steps:
          - id: login
            login: {user: admin, password: '${{ secrets.password }}', domain: System Data}
          - id: domains
            call: {command: show-domains, body: {limit: 500}}

        """
    var written = 2
    var group = 0
    var previous = "domains"
    while written < count - 1 {
        let left = count - 1 - written
        if group % 10 == 9, left >= 3 {
            text += loopGroup(group, after: previous)
            previous = "each-\(group)"
            written += 3
        } else if left >= 3 {
            text += exportGroup(group, after: previous)
            previous = "check-\(group)"
            written += 3
        } else {
            text += "  - id: pad-\(written)\n    needs: \(previous)\n    assert: {that: true}\n"
            previous = "pad-\(written)"
            written += 1
        }
        group += 1
    }
    text += "  - id: logout\n    if: ${{ always() }}\n    logout: {}\n"
    return text
}

func exportGroup(_ group: Int, after previous: String) -> String {
    """
      - id: export-\(group)
        needs: [\(previous)]
        expect: 20m
        export:
          file-path: /var/log/backup-\(group).tgz
          domain-name: Domain \(group)
          is-domain-backup: true
          version: ${{ inputs.target-version }}
        on-error:
          - {code: generic_err_object_locked, retry: {attempts: 3}}
      - id: exported-\(group)
        wait: {task: '${{ steps.export-\(group).task-id }}', timeout: 1h}
      - id: check-\(group)
        assert:
          that: ${{ steps.exported-\(group).task.status == 'succeeded' && !failure() }}
          message: "${{ format('domain {0}: {1}', \(group), steps.exported-\(group).outcome) }}"

    """
}

func loopGroup(_ group: Int, after previous: String) -> String {
    """
      - id: each-\(group)
        needs: \(previous)
        for-each: ${{ steps.domains.response.objects[*].name }}
        as: domain
        max-parallel: 4
        steps:
          - id: show-\(group)
            call: {command: show-domain, body: {name: '${{ domain }}'}}
          - id: seen-\(group)
            assert: {that: '${{ length(steps.show-\(group).response) > 0 }}'}

    """
}

func readFile(_ path: String) -> [UInt8] {
    do {
        return try YAMLLoader.readFile(atPath: path)
    } catch {
        fail("\(error)")
    }
}

/// The size of a file in bytes, without reading it.
func fileSize(_ path: String) -> Int {
    var status = stat()
    guard stat(path, &status) == 0 else { fail("cannot read \(path)") }
    return Int(status.st_size)
}

func planOnce(_ path: String) -> Plan {
    do {
        return try PlaybookLoader.plan(contentsOf: path)
    } catch {
        fail("the generated playbook is not valid:\n\(error)")
    }
}

func fail(_ message: String) -> Never {
    let bytes = Array("bench-playbook: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(1)
}

func megabytes(_ bytes: Int) -> String {
    let tenths = (bytes * 10 + 524_288) / 1_048_576
    return "\(tenths / 10).\(tenths % 10) MB"
}

func milliseconds(_ seconds: Double) -> String {
    "\(Int((seconds * 1000).rounded())) ms"
}

func countSteps(_ nodes: [Plan.Node]) -> Int {
    nodes.reduce(0) { $0 + 1 + countSteps($1.children) }
}

let arguments = CommandLine.arguments
switch (arguments.count > 1 ? arguments[1] : "", arguments.count) {
case ("generate", 4):
    guard let count = Int(arguments[2]), count >= 3 else { fail("STEPS must be at least 3") }
    let text = generatePlaybook(steps: count)
    let descriptor = open(arguments[3], O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { fail("cannot write \(arguments[3])") }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    guard written == bytes.count else { fail("cannot write \(arguments[3])") }
    print("wrote \(arguments[3]): \(count) steps, \(megabytes(text.utf8.count))")
case ("time", 3), ("time", 4):
    let path = arguments[2]
    let runs = arguments.count == 4 ? Int(arguments[3]) ?? 5 : 5
    let bytes = readFile(path)
    var loads: [Double] = []
    var totals: [Double] = []
    var steps = 0
    for _ in 0..<runs {
        let start = now()
        _ = try? YAMLLoader.load(bytes, file: path)
        let loaded = now()
        let plan = planOnce(path)
        let end = now()
        loads.append(loaded - start)
        totals.append(end - loaded)
        steps = countSteps(plan.nodes)
    }
    let median = { (values: [Double]) in values.sorted()[values.count / 2] }
    print(
        "\(path): \(steps) steps, \(megabytes(bytes.count)); \(runs) runs"
            + "\n  YAML loading alone:          median \(milliseconds(median(loads))),"
            + " best \(milliseconds(loads.min() ?? 0))"
            + "\n  loading, validating, planning: median \(milliseconds(median(totals))),"
            + " best \(milliseconds(totals.min() ?? 0))"
    )
    if median(totals) >= 1 { fail("validating and planning took a second or more") }
case ("memory-yaml", 3):
    // The YAML loader's share: the same measurement with loading alone.
    let path = arguments[2]
    let before = currentResidentBytes()
    let bytes = readFile(path)
    let root = try? YAMLLoader.load(bytes, file: path)
    let peak = peakResidentBytes()
    print(
        "\(path): YAML loading alone, \(megabytes(bytes.count))\(root == nil ? " (failed)" : "")"
            + "\n  peak minus the start:     \(megabytes(peak - before))"
    )
case ("memory", 3):
    let path = arguments[2]
    let size = fileSize(path)
    let before = currentResidentBytes()
    let plan = planOnce(path)
    let peak = peakResidentBytes()
    let ratio = Double(peak) / Double(size)
    let growth = Double(peak - before) / Double(size)
    print(
        "\(path): \(countSteps(plan.nodes)) steps, \(megabytes(size))"
            + "\n  resident before reading:  \(megabytes(before))"
            + "\n  peak resident:            \(megabytes(peak))"
            + " (\(Int(ratio * 10) / 10).\(Int(ratio * 10) % 10) times the file)"
            + "\n  peak minus the start:     \(megabytes(peak - before))"
            + " (\(Int(growth * 10) / 10).\(Int(growth * 10) % 10) times the file)"
    )
    if peak >= 10 * size { fail("peak memory is 10 times the file size or more") }
default:
    fail(
        "usage: bench-playbook generate STEPS FILE | time FILE [RUNS] | memory FILE | memory-yaml FILE"
    )
}
