import PlaybookYAML
import Testing

/// An input that fails to load, and the full rendered error: the compiler-style line, the
/// offending source line and the caret.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var bytes: [UInt8]
    var expected: String

    init(_ text: String, _ lines: String...) {
        self.init(bytes: Array(text.utf8), lines)
    }

    init(bytes: [UInt8], _ lines: String...) {
        self.init(bytes: bytes, lines)
    }

    private init(bytes: [UInt8], _ lines: [String]) {
        self.bytes = bytes
        self.expected = lines.joined(separator: "\n")
    }

    var testDescription: String { String(decoding: bytes, as: UTF8.self).debugDescription }
}

@Suite struct ErrorTests {
    static let wholeFile: [ErrorCase] = [
        ErrorCase("", "test.yaml:1:1: error: the file is empty", "", "^"),
        ErrorCase("# only\n# comments\n", "test.yaml:1:1: error: the file is empty", "# only", "^"),
        ErrorCase(
            "a: 1\n---\nb: 2\n",
            "test.yaml:2:1: error: several documents in one file; chkflow reads one",
            "---",
            "^"
        ),
        ErrorCase(
            "---\nname: x\n---\n",
            "test.yaml:3:1: error: several documents in one file; chkflow reads one",
            "---",
            "^"
        ),
        ErrorCase(
            bytes: [0xFF, 0xFE] + Array("a\0:\0".utf8),
            "test.yaml:1:1: error: the file is UTF-16 encoded; save it as UTF-8",
            "\u{FFFD}\u{FFFD}a\0:\0",
            "^"
        ),
    ]

    static let keys: [ErrorCase] = [
        ErrorCase(
            "chkflow: 1\nname: x\nsteps: []\nname: y\n",
            "test.yaml:4:1: error: duplicate key 'name' (first at 2:1)",
            "name: y",
            "^"
        ),
        ErrorCase(
            "steps:\n  - id: a\n    'id': b\n",
            "test.yaml:3:5: error: duplicate key 'id' (first at 2:5)",
            "    'id': b",
            "    ^"
        ),
        ErrorCase(
            "{é: 1, ü: 2, é: 3}",
            "test.yaml:1:14: error: duplicate key 'é' (first at 1:2)",
            "{é: 1, ü: 2, é: 3}",
            "             ^"
        ),
        ErrorCase(
            "? a\n? a\n",
            "test.yaml:2:3: error: duplicate key 'a' (first at 1:3)",
            "? a",
            "  ^"
        ),
        ErrorCase(
            "base: &b {a: 1}\nstep:\n  <<: *b\n",
            "test.yaml:3:3: error: merge keys ('<<') are not supported; write the keys out in full",
            "  <<: *b",
            "  ^"
        ),
    ]

    static let aliases: [ErrorCase] = [
        ErrorCase(
            "a: &x 1\nb: *y\n",
            "test.yaml:2:4: error: unknown alias '*y'; no anchor '&y' comes before it",
            "b: *y",
            "   ^"
        ),
        ErrorCase(
            "a: *later\nb: &later 1\n",
            "test.yaml:1:4: error: unknown alias '*later'; no anchor '&later' comes before it",
            "a: *later",
            "   ^"
        ),
        ErrorCase(
            "a: &x [1, *x]\n",
            "test.yaml:1:11: error: alias '*x' refers to a node that contains it",
            "a: &x [1, *x]",
            "          ^"
        ),
        ErrorCase(
            "a: &x 1\nb: &x {c: *x}\n",
            "test.yaml:2:11: error: alias '*x' refers to a node that contains it",
            "b: &x {c: *x}",
            "          ^"
        ),
    ]

    static let tabsAndCharacters: [ErrorCase] = [
        ErrorCase(
            "a:\n\tb: 1\n",
            "test.yaml:2:1: error: tabs are not allowed for indentation; use spaces",
            "\tb: 1",
            "^"
        ),
        ErrorCase(
            "a:\n  b: 1\n  \tc: 2\n",
            "test.yaml:3:3: error: tabs are not allowed for indentation; use spaces",
            "  \tc: 2",
            "  ^"
        ),
        ErrorCase(
            "script: |\n  line\n\tmore\n",
            "test.yaml:3:1: error: tabs are not allowed for indentation; use spaces",
            "\tmore",
            "^"
        ),
        ErrorCase(
            "list:\n  - a\n  -\tb\n",
            "test.yaml:3:4: error: tabs are not allowed for indentation; use spaces",
            "  -\tb",
            "   ^"
        ),
        ErrorCase(
            "user: @admin\n",
            "test.yaml:1:7: error: a plain value cannot start with '@'; put the value in quotes",
            "user: @admin",
            "      ^"
        ),
        ErrorCase(
            bytes: Array("a: x\u{7}y\n".utf8),
            "test.yaml:1:5: error: the character U+0007 is not allowed in YAML (at byte 4)",
            "a: x\u{7}y",
            "    ^"
        ),
    ]

    static let invalidUTF8: [ErrorCase] = [
        ErrorCase(
            bytes: Array("a: 1\nb: \"é".utf8) + [0xFF] + Array("\"\n".utf8),
            "test.yaml:2:6: error: invalid UTF-8 at byte 11; save the file as UTF-8",
            "b: \"é\u{FFFD}\"",
            "     ^"
        ),
        ErrorCase(
            bytes: Array("a: ".utf8) + [0xC3, 0x28] + Array("\n".utf8),
            "test.yaml:1:4: error: invalid UTF-8 at byte 3; save the file as UTF-8",
            "a: \u{FFFD}(",
            "   ^"
        ),
        ErrorCase(
            bytes: Array("a: 1\nb: ".utf8) + [0xE2, 0x82] + Array("\n".utf8),
            "test.yaml:2:4: error: invalid UTF-8 at byte 8; save the file as UTF-8",
            "b: \u{FFFD}",
            "   ^"
        ),
        ErrorCase(
            bytes: Array("# ".utf8) + [0xED, 0xA0, 0x80] + Array("\nkey: 1\n".utf8),
            "test.yaml:1:3: error: invalid UTF-8 at byte 2; save the file as UTF-8",
            "# \u{FFFD}\u{FFFD}\u{FFFD}",
            "  ^"
        ),
    ]

    static let syntax: [ErrorCase] = [
        ErrorCase(
            "a: b: c\n",
            "test.yaml:1:5: error: mapping values are not allowed in this context; if ': ' is part"
                + " of the value, put the value in quotes",
            "a: b: c",
            "    ^"
        ),
        ErrorCase(
            "note: ünïcödé: bad\n",
            "test.yaml:1:14: error: mapping values are not allowed in this context; if ': ' is"
                + " part of the value, put the value in quotes",
            "note: ünïcödé: bad",
            "             ^"
        ),
        ErrorCase(
            "\u{FEFF}a: x: 1\n",
            "test.yaml:1:5: error: mapping values are not allowed in this context; if ': ' is part"
                + " of the value, put the value in quotes",
            "a: x: 1",
            "    ^"
        ),
        ErrorCase(
            "on: [a, b\n",
            "test.yaml:2:1: error: did not find expected ',' or ']' (while parsing a flow sequence"
                + " that started at 1:5)",
            "",
            "^"
        ),
        ErrorCase(
            "name: 'unterminated\n",
            "test.yaml:2:1: error: found unexpected end of stream (while scanning a quoted scalar"
                + " that started at 1:7)",
            "",
            "^"
        ),
        ErrorCase(
            "steps:\n  - a\n  id: b\n",
            "test.yaml:3:3: error: did not find expected '-' indicator (while parsing a block"
                + " collection that started at 2:3)",
            "  id: b",
            "  ^"
        ),
        ErrorCase(
            "path: \"C:\\data\"\n",
            "test.yaml:1:10: error: found unknown escape character (while parsing a quoted scalar"
                + " that started at 1:7)",
            "path: \"C:\\data\"",
            "         ^"
        ),
        ErrorCase(
            "key: [a, b]]\n",
            "test.yaml:1:12: error: did not find expected key (while parsing a block mapping that"
                + " started at 1:1)",
            "key: [a, b]]",
            "           ^"
        ),
    ]

    @Test(
        arguments: [wholeFile, keys, aliases, tabsAndCharacters, invalidUTF8, syntax].joined()
    )
    func rendersTheFullError(_ testCase: ErrorCase) throws {
        let error = try #require(loadError(testCase.bytes))
        let source = String(decoding: testCase.bytes, as: UTF8.self)
        #expect(error.rendered(source: source) == testCase.expected)
    }

    @Test func descriptionIsCompilerStyle() {
        let error = YAMLError(
            file: "playbooks/x.yaml",
            mark: Mark(line: 12, column: 7),
            message: "duplicate key 'steps' (first at 3:1)"
        )
        let expected = "playbooks/x.yaml:12:7: error: duplicate key 'steps' (first at 3:1)"
        #expect(error.description == expected)
        #expect("\(error)" == expected)
    }

    @Test func errorsCarryTheFileName() {
        let expected = YAMLError(
            file: "playbooks/smc-export.yaml",
            mark: Mark(line: 2, column: 1),
            message: "duplicate key 'a' (first at 1:1)"
        )
        #expect(throws: expected) {
            try YAMLLoader.load(Array("a: 1\na: 2\n".utf8), file: "playbooks/smc-export.yaml")
        }
    }
}
