import ChkflowCore
import Foundation
import PlaybookYAML
import Testing

@Suite struct StreamingTests {
    /// Loads `text`, streaming the entries of `steps`; the root and the entries' texts and marks.
    private func stream(_ text: String) throws(YAMLError) -> (Node, [String]) {
        var entries: [String] = []
        let root = try YAMLLoader.load(
            Array(text.utf8),
            file: "test.yaml",
            streamingEntriesOf: "steps"
        ) { entry in
            entries.append("\(entry["id"]?.text ?? entry.text ?? "?")@\(entry.mark)")
        }
        return (root, entries)
    }

    @Test func handsOutEachEntryInOrderAndLeavesTheListEmpty() throws {
        let text = "name: x\nsteps:\n  - id: a\n  - {id: b}\n  - c\nafter: 1\n"
        let (root, entries) = try stream(text)
        #expect(entries == ["a@3:5", "b@4:5", "c@5:5"])
        #expect(root["steps"]?.items?.count == 0)
        #expect(root["steps"]?.mark == Mark(line: 3, column: 3))
        #expect(root["after"]?.text == "1")
    }

    @Test func aliasesReachAcrossStreamedEntries() throws {
        let (_, entries) = try stream("steps:\n  - &first {id: a}\n  - *first\n")
        #expect(entries == ["a@2:5", "a@3:5"])
    }

    @Test func streamsOnlyTheTopLevelListOfThatKey() throws {
        let (root, entries) = try stream("inner: {steps: [a]}\nsteps: b\n")
        #expect(entries.isEmpty)
        #expect(root["inner"]?["steps"]?.items?.count == 1)
        #expect(root["steps"]?.text == "b")
    }

    @Test func keepsAnAnchoredListWhole() throws {
        let (root, entries) = try stream("steps: &all [a, b]\nagain: *all\n")
        #expect(entries.isEmpty)
        #expect(root["steps"]?.items?.count == 2)
        #expect(root["again"]?.items?.count == 2)
    }

    @Test func aLaterErrorIsThrownAfterEarlierEntries() {
        var entries = 0
        #expect(throws: YAMLError.self) {
            _ = try YAMLLoader.load(
                Array("steps:\n  - a\n  - b\nsteps: 2\n".utf8),
                file: "test.yaml",
                streamingEntriesOf: "steps"
            ) { _ in entries += 1 }
        }
        #expect(entries == 2)
    }

    /// Writes `bytes` to a fresh file and streams it from the file; the error, if any.
    private func streamFile(
        _ bytes: [UInt8],
        limits: YAMLLimits = .init()
    ) throws -> (path: String, result: Result<(Node, String, Int), YAMLError>) {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("chkflow-stream-\(UUID().uuidString).yaml").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var entries = 0
        do {
            let (root, digest) = try YAMLLoader.load(
                contentsOf: path,
                limits: limits,
                streamingEntriesOf: "steps"
            ) { _ in entries += 1 }
            return (path, .success((root, digest, entries)))
        } catch {
            return (path, .failure(error))
        }
    }

    @Test func aFileIsStreamedAndHashed() throws {
        // Longer than libyaml's input buffer, so the file is read in several chunks.
        let text = "name: x\nsteps:\n" + String(repeating: "  - {id: a, note: 'é'}\n", count: 4000)
        let (_, result) = try streamFile(Array(text.utf8))
        let (root, digest, entries) = try result.get()
        #expect(entries == 4000)
        #expect(root["name"]?.text == "x")
        #expect(digest == SHA256.hex(Array(text.utf8)))
    }

    @Test func fileProblemsKeepTheirMessages() throws {
        let (path, utf16) = try streamFile([0xFF, 0xFE, 0x61, 0x00])
        #expect(
            utf16.failure?.description
                == "\(path):1:1: error: the file is UTF-16 encoded; save it as UTF-8"
        )
        // Read again for the message, which then matches loading the same bytes in memory.
        let badBytes = Array("steps:\n  - a\n".utf8) + [0xC3, 0x28]
        let (_, invalid) = try streamFile(badBytes)
        #expect(invalid.failure?.message == "invalid UTF-8 at byte 13; save the file as UTF-8")
        #expect(invalid.failure?.mark == loadError(badBytes)?.mark)
        var limits = YAMLLimits()
        limits.maximumBytes = 4
        let (largePath, large) = try streamFile(Array("steps: [a]\n".utf8), limits: limits)
        #expect(
            large.failure?.description
                == "\(largePath):1:1: error: the file is larger than the limit of 4 bytes"
        )
        let missing = "/nonexistent/chkflow.yaml"
        #expect(throws: YAMLError.self) {
            _ = try YAMLLoader.load(contentsOf: missing, streamingEntriesOf: "steps") { _ in }
        }
    }
}

extension Result {
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
