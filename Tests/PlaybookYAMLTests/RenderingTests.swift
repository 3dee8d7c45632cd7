import PlaybookYAML
import Testing

@Suite struct RenderingTests {
    private func error(_ line: Int, _ column: Int) -> YAMLError {
        YAMLError(file: "p.yaml", mark: Mark(line: line, column: column), message: "m")
    }

    @Test(arguments: [
        ("é日✓x\n", 1, 4, "é日✓x", "   ^"),
        ("a: 1\r\nbé: 2\r\n", 2, 5, "bé: 2", "    ^"),
        ("a\rb\rc", 3, 1, "c", "^"),
        ("a\u{85}b\u{2028}c\u{2029}d", 4, 1, "d", "^"),
        ("\u{FEFF}key: x", 1, 6, "key: x", "     ^"),
        ("one\ntwo\n", 3, 1, "", "^"),
        ("one\ntwo", 9, 2, "", " ^"),
        ("short\n", 1, 10, "short", "         ^"),
        ("\tkey", 1, 2, "\tkey", " ^"),
    ])
    func placesTheCaretByCharacter(
        source: String,
        line: Int,
        column: Int,
        expectedLine: String,
        caret: String
    ) {
        let rendered = error(line, column).rendered(source: source)
        #expect(rendered == "p.yaml:\(line):\(column): error: m\n\(expectedLine)\n\(caret)")
    }

    @Test func marksAfterUnusualLineBreaksAgreeWithLibYAML() throws {
        let text = "a: 1\u{85}b: 2\u{2028}c: é: 3\n"
        let error = try #require(loadError(text))
        let expected = [
            "test.yaml:3:5: error: mapping values are not allowed in this context; if ': ' is part"
                + " of the value, put the value in quotes",
            "c: é: 3", "    ^",
        ]
        #expect(error.rendered(source: text) == expected.joined(separator: "\n"))
    }
}
