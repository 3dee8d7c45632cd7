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
}
