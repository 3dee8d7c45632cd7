import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A bad playbook, scenario or command line, and what chkflow must say about it.
struct BadInput: Sendable, CustomTestStringConvertible {
    var name: String
    /// Makes the files in a fresh folder and returns the arguments; `<dir>` in `message`
    /// stands for that folder.
    var arguments: @Sendable (String) throws -> [String]
    var status: Int32
    /// The first line of stderr, exactly.
    var message: String
    var knownIssue: String?

    var testDescription: String { name }
}

enum BadInputs {
    static let example = Binary.root + "/playbooks/smc-export.yaml"
    static let usageHint = "run 'chkflow help' for usage"

    static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    static func bytes(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A file of `size` bytes (sparse: nothing is written).
    static func sized(_ size: Int, at path: String) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: UInt64(size))
        try handle.close()
    }

    static func fifo(at path: String) -> String {
        mkfifo(path, 0o600)
        return path
    }

    static let playbooks: [BadInput] = [
        BadInput(
            name: "a playbook that is a directory",
            arguments: { dir in
                try FileManager.default.createDirectory(
                    atPath: dir + "/folder.yaml",
                    withIntermediateDirectories: true
                )
                return ["run", dir + "/folder.yaml", "--simulator"]
            },
            status: 65,
            message: "<dir>/folder.yaml:1:1: error: cannot read the file: it is a directory"
        ),
        BadInput(
            name: "a playbook that does not exist",
            arguments: { dir in ["run", dir + "/missing.yaml", "--simulator"] },
            status: 65,
            message: "<dir>/missing.yaml:1:1: error: cannot read the file: it does not exist"
        ),
        BadInput(
            name: "a playbook path through a file (unreadable as root)",
            arguments: { dir in
                try write("x", to: dir + "/file")
                return ["run", dir + "/file/playbook.yaml", "--simulator"]
            },
            status: 65,
            message:
                "<dir>/file/playbook.yaml:1:1: error: cannot read the file: a part of the path is not a directory"
        ),
        BadInput(
            name: "a playbook that is a FIFO nobody writes to",
            arguments: { dir in ["run", fifo(at: dir + "/fifo.yaml"), "--simulator"] },
            status: 65,
            message: "<dir>/fifo.yaml:1:1: error: cannot read the file: it is not a regular file"
        ),
        BadInput(
            name: "a 100 MB playbook",
            arguments: { dir in
                try sized(100_000_000, at: dir + "/big.yaml")
                return ["run", dir + "/big.yaml", "--simulator"]
            },
            status: 65,
            message:
                "<dir>/big.yaml:1:1: error: the file is larger than the limit of 67108864 bytes"
        ),
        BadInput(
            name: "a binary file as the playbook (the chkflow executable)",
            arguments: { _ in ["run", Binary.path, "--simulator"] },
            status: 65,
            message: "<binary>:1:1: error: the character U+007F is not allowed in YAML (at byte 0)"
        ),
        BadInput(
            name: "NUL bytes",
            arguments: { dir in
                try bytes([0, 0, 0, 0], to: dir + "/nul.yaml")
                return ["run", dir + "/nul.yaml", "--simulator"]
            },
            status: 65,
            message:
                "<dir>/nul.yaml:1:1: error: the character U+0000 is not allowed in YAML (at byte 0)"
        ),
        BadInput(
            name: "invalid UTF-8",
            arguments: { dir in
                try bytes(
                    Array("chkflow: 1\nname: \"".utf8) + [0xFF, 0xFE, 0x22, 0x0A],
                    to: dir + "/utf8.yaml"
                )
                return ["run", dir + "/utf8.yaml", "--simulator"]
            },
            status: 65,
            message: "<dir>/utf8.yaml:2:8: error: invalid UTF-8 at byte 18; save the file as UTF-8"
        ),
        BadInput(
            name: "10,000 nested lists",
            arguments: { dir in
                try write(
                    "chkflow: " + String(repeating: "[", count: 10_000)
                        + String(repeating: "]", count: 10_000) + "\n",
                    to: dir + "/deep.yaml"
                )
                return ["run", dir + "/deep.yaml", "--simulator"]
            },
            status: 65,
            message: "<dir>/deep.yaml:1:209: error: the document nests deeper than 200 levels"
        ),
        BadInput(
            name: "an alias bomb (10^10 nodes)",
            arguments: { dir in
                var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
                for level in 1...9 {
                    let previous = "*a\(level - 1)"
                    let items = Array(repeating: previous, count: 10).joined(separator: ", ")
                    text += "a\(level): &a\(level) [\(items)]\n"
                }
                try write(text, to: dir + "/bomb.yaml")
                return ["run", dir + "/bomb.yaml", "--simulator"]
            },
            status: 65,
            message:
                "<dir>/bomb.yaml:6:45: error: alias '*a4' expands the document beyond 1000000 nodes"
        ),
    ]
}

extension BadInputs {
    /// The example playbook under `--simulator` with a scenario file of this text.
    static func scenario(_ name: String, _ text: String) -> @Sendable (String) throws -> [String] {
        { dir in
            try write(text, to: dir + "/" + name)
            return ["run", example, "--simulator", dir + "/" + name]
        }
    }

    static let scenarios: [BadInput] = [
        BadInput(
            name: "a scenario that is a directory",
            arguments: { dir in
                try FileManager.default.createDirectory(
                    atPath: dir + "/folder.yaml",
                    withIntermediateDirectories: true
                )
                return ["run", example, "--simulator", dir + "/folder.yaml"]
            },
            status: 65,
            message: "<dir>/folder.yaml:1:1: error: cannot read the file: it is a directory"
        ),
        BadInput(
            name: "a scenario that is a FIFO nobody writes to",
            arguments: { dir in ["run", example, "--simulator", fifo(at: dir + "/fifo.yaml")] },
            status: 65,
            message: "<dir>/fifo.yaml:1:1: error: cannot read the file: it is not a regular file"
        ),
        BadInput(
            name: "a 100 MB scenario",
            arguments: { dir in
                try sized(100_000_000, at: dir + "/big.yaml")
                return ["run", example, "--simulator", dir + "/big.yaml"]
            },
            status: 65,
            message:
                "<dir>/big.yaml:1:1: error: the file is larger than the limit of 67108864 bytes"
        ),
        BadInput(
            name: "a misspelt fault key",
            arguments: scenario("unknown.yaml", "faults:\n  - {command: login, explode: true}\n"),
            status: 65,
            message: "<dir>/unknown.yaml:2:31: error: faults[0].explode: unknown key"
        ),
        BadInput(
            name: "a YAML syntax error",
            arguments: scenario("syntax.yaml", "faults: [\n"),
            status: 65,
            message: "<dir>/syntax.yaml:2:1: error: did not find expected node content"
        ),
        BadInput(
            name: "a scenario that is a list",
            arguments: scenario("list.yaml", "- 1\n- 2\n"),
            status: 65,
            message: "<dir>/list.yaml:1:1: error: must be a mapping"
        ),
        BadInput(
            name: "a negative time scale",
            arguments: scenario("negative.yaml", "time-scale: -5\n"),
            status: 65,
            message: "<dir>/negative.yaml:1:13: error: time-scale: must be greater than 0"
        ),
        BadInput(
            name: "a fault on call 0",
            arguments: scenario(
                "call0.yaml",
                "faults:\n  - {command: login, call: 0, drop: before-read}\n"
            ),
            status: 65,
            message:
                "<dir>/call0.yaml:2:28: error: faults[0].call: must be from 1 to 9223372036854775807"
        ),
    ]

    static func run(_ extra: [String]) -> @Sendable (String) throws -> [String] {
        { _ in ["run", example, "--simulator"] + extra }
    }

    static let commandLines: [BadInput] = [
        BadInput(
            name: "--var without a value",
            arguments: run(["--var"]),
            status: 64,
            message: "chkflow: error: --var needs a value"
        ),
        BadInput(
            name: "--var without a name",
            arguments: run(["--var", "=R82"]),
            status: 64,
            message: "chkflow: error: --var needs NAME=VALUE, not '=R82'"
        ),
        BadInput(
            name: "--var for an input the playbook lacks",
            arguments: run(["--var", "nope=1"]),
            status: 65,
            message:
                "chkflow: error: --var nope: the playbook has no input 'nope' (it has: days-of-logs, export-path, target-version)"
        ),
        BadInput(
            name: "--var that misses the pattern",
            arguments: run(["--var", "target-version=82"]),
            status: 65,
            message:
                "chkflow: error: --var target-version: '82' does not match the pattern 'R[0-9]+(\\.[0-9]+)?'"
        ),
        BadInput(
            name: "--var with a line break",
            arguments: run(["--var", "target-version=R82\nreport: written"]),
            status: 65,
            message:
                "chkflow: error: --var target-version: 'R82\\nreport: written' does not match the pattern 'R[0-9]+(\\.[0-9]+)?'"
        ),
        BadInput(
            name: "--max-parallel 0",
            arguments: run(["--max-parallel", "0"]),
            status: 64,
            message: "chkflow: error: --max-parallel must be a whole number of at least 1, not '0'"
        ),
        BadInput(
            name: "--max-parallel beyond any integer",
            arguments: run(["--max-parallel", "99999999999999999999"]),
            status: 64,
            message:
                "chkflow: error: --max-parallel must be a whole number of at least 1, not '99999999999999999999'"
        ),
        BadInput(
            name: "an unknown option",
            arguments: run(["--bogus"]),
            status: 64,
            message: "chkflow: error: unknown option '--bogus'"
        ),
    ]
}

@Suite struct BadInputTests {
    @Test func aBadPlaybookGivesOneClearLineAndNeverHangs() async {
        await concurrently(BadInputs.playbooks, limit: 8) { try Self.check($0) }
    }

    @Test func aBadScenarioGivesOneClearLineAndNeverHangs() async {
        await concurrently(BadInputs.scenarios, limit: 8) { try Self.check($0) }
    }

    @Test func aBadCommandLineGivesOneClearLineAndNeverHangs() async {
        await concurrently(BadInputs.commandLines, limit: 8) { try Self.check($0) }
    }

    /// As root every file is readable, so the unreadable file is reached through a path that
    /// runs through a file (and a FIFO) above; otherwise a file without read permission too.
    @Test(.enabled(if: geteuid() != 0, "root reads every file"))
    func anUnreadablePlaybookGivesOneClearLine() throws {
        try Self.check(
            BadInput(
                name: "a playbook without read permission",
                arguments: { dir in
                    try BadInputs.write("chkflow: 1\n", to: dir + "/secret.yaml")
                    chmod(dir + "/secret.yaml", 0)
                    return ["run", dir + "/secret.yaml", "--simulator"]
                },
                status: 65,
                message: "<dir>/secret.yaml:1:1: error: cannot read the file: permission denied"
            )
        )
    }

    private static func check(_ input: BadInput) throws {
        let label = Comment(rawValue: input.name)
        let folder = Binary.folder()
        let arguments = try input.arguments(folder)
        let expected = input.message.replacing("<dir>", with: folder).replacing(
            "<binary>",
            with: Binary.path
        )
        let body = {
            let outcome = try Binary.run(arguments)
            #expect(!outcome.killed, "\(label): still running after 5 s")
            #expect(outcome.status == input.status, label)
            let lines = outcome.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.first.map(String.init) == expected, label)
            // One line of message; a usage error adds only the usage hint.
            let rest = lines.dropFirst().filter { !$0.isEmpty }
            #expect(rest.isEmpty || rest == [Substring(BadInputs.usageHint)], label)
            #expect(outcome.stdout.isEmpty, label)
        }
        if let issue = input.knownIssue {
            withKnownIssue(Comment(rawValue: issue)) { try body() }
        } else {
            try body()
        }
    }
}
