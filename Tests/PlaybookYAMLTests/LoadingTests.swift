import PlaybookYAML
import Testing

@Suite struct LoadingTests {
    @Test(arguments: [
        ("a: 1\n", "{a: 1}"),
        ("- a\n- b\n", "[a, b]"),
        ("plain\n", "plain"),
        (
            "a:\n  b:\n    - 1\n    - c: d\n      e: [f, {g: h}]\n",
            "{a: {b: [1, {c: d, e: [f, {g: h}]}]}}"
        ),
        ("{a: [1, 2], b: {}}", "{a: [1, 2], b: {}}"),
        ("- []\n- {}\n- - x\n", "[[], {}, [x]]"),
        ("a:\nb: ~\n", "{a: , b: ~}"),
        ("---\nname: export\n...\n", "{name: export}"),
        ("%YAML 1.1\n---\nx\n", "x"),
        ("# comment\nkey: value # trailing\n", "{key: value}"),
        ("? [a, b]\n: c\n", "{[a, b]: c}"),
        ("\u{FEFF}a: 1\n", "{a: 1}"),
        ("a: 1\r\nb: 2\r\n", "{a: 1, b: 2}"),
        ("domain: System Data\nnote: é ✓ 日本\n", "{domain: System Data, note: é ✓ 日本}"),
    ])
    func loadsStructure(text: String, expected: String) throws {
        #expect(outline(try load(text)) == expected)
    }

    @Test(arguments: [
        ("plain text", "plain text"),
        ("'single ''quoted'''", "'single 'quoted''"),
        (#""double\tquoted\n\u00e9""#, "\"double\tquoted\né\""),
        ("|\n  line one\n  line two\n", "|line one\nline two\n|"),
        ("|-\n  kept\n", "|kept|"),
        (">\n  folded\n  text\n\n  para\n", ">folded text\npara\n>"),
        ("multi\n  line\n  plain", "multi line plain"),
        ("\"a\\0b\"", "\"a\u{0}b\""),
    ])
    func keepsScalarStyleAndText(text: String, expected: String) throws {
        #expect(outline(try load(text)) == expected)
    }

    @Test(arguments: [
        ("!!str 1", "<tag:yaml.org,2002:str> 1"),
        ("!!int \"2\"", "<tag:yaml.org,2002:int> \"2\""),
        ("!custom x", "<!custom> x"),
        ("! x", "<!> x"),
        ("%TAG !cp! tag:chkp.example,2026:\n---\n!cp!task x\n", "<tag:chkp.example,2026:task> x"),
        ("!<tag:example.com:v> x", "<tag:example.com:v> x"),
        ("!!seq [a]", "[a]"),
    ])
    func keepsExplicitTags(text: String, expected: String) throws {
        #expect(outline(try load(text)) == expected)
    }

    @Test func anchorsAndAliasesRepeatContentAtTheAliasPosition() throws {
        let text = """
            retry: &retry {attempts: 3, on: [transport]}
            steps:
              - retry: *retry
              - name: &name login
                again: *name
            """
        let root = try load(text)
        let expected =
            "{retry: {attempts: 3, on: [transport]}, steps: [{retry: {attempts: 3, on: [transport]}},"
            + " {name: login, again: login}]}"
        #expect(outline(root) == expected)
        let alias = try #require(root["steps"]?.items?[0]["retry"])
        #expect(alias.mark == Mark(line: 3, column: 12))
        #expect(alias["attempts"]?.mark == Mark(line: 1, column: 26))
        #expect(root["steps"]?.items?[1]["again"]?.mark == Mark(line: 5, column: 12))
    }

    @Test func laterAnchorWithTheSameNameWins() throws {
        #expect(outline(try load("- &a one\n- *a\n- &a two\n- *a\n")) == "[one, one, two, two]")
    }

    @Test func marksOfKeysAndValues() throws {
        let text = """
            chkflow: 1
            steps:
              - id: login
                login: {server: primary, user: "admin"}
              - [a,
                 é]
            note: |
              text
            """
        let expected = [
            "1:1 {", "1:1 chkflow", "1:10 1", "2:1 steps", "3:3 [", "3:5 {", "3:5 id", "3:9 login",
            "4:5 login", "4:12 {", "4:13 server", "4:21 primary", "4:30 user", "4:36 admin",
            "5:5 [", "5:6 a", "6:6 é", "7:1 note", "7:7 text",
        ]
        let actual = marks(try load(text))
        #expect(actual == expected, "\(actual)")
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let root = try load("é日✓: [x, y]\n")
        let pair = try #require(root.pairs?.first)
        #expect(pair.key.text == "é日✓")
        #expect(pair.value.mark == Mark(line: 1, column: 6))
        #expect(pair.value.items?[1].mark == Mark(line: 1, column: 10))
    }

    @Test func conveniencesAnswerOnlyForTheirKind() throws {
        let root = try load("map: {a: 1}\nlist: [x]\nword: w\n")
        let map = try #require(root["map"])
        let list = try #require(root["list"])
        let word = try #require(root["word"])
        #expect(map.pairs?.count == 1 && map.items == nil && map.scalar == nil && map.text == nil)
        #expect(list.items?.count == 1 && list.pairs == nil && list.text == nil)
        #expect(word.text == "w" && word.scalar?.style == .plain && word.pairs == nil)
        #expect(word["a"] == nil && list["a"] == nil && root["missing"] == nil)
        #expect(root.pairs?.map { $0.key.text } == ["map", "list", "word"])
    }

    @Test(arguments: [
        ("", true), ("~", true), ("null", true), ("Null", true), ("NULL", true),
        ("nULL", false), ("'null'", false), ("\"\"", false), ("!!null null", false),
        ("none", false), ("[]", false),
    ])
    func nullIsAnUntaggedPlainScalar(value: String, isNull: Bool) throws {
        let root = try load("value: \(value)\n")
        #expect(root["value"]?.isNull == isNull)
    }

    @Test func quotedKeysAndPlainKeysLookUpAlike() throws {
        let root = try load("\"domain-name\": Global\n'task-id': 7\n")
        #expect(root["domain-name"]?.text == "Global")
        #expect(root["task-id"]?.text == "7")
    }

    @Test func inputLargerThanLibYAMLsBufferIsReadWhole() throws {
        let lines = (1...20_000).map { "- item number \($0) é\n" }.joined()
        let root = try load(lines)
        #expect(root.items?.count == 20_000)
        #expect(root.items?.last?.text == "item number 20000 é")
        #expect(root.items?.last?.mark == Mark(line: 20_000, column: 3))

        let broken = Array(lines.utf8) + Array("- x".utf8) + [0xFF] + Array("\n".utf8)
        #expect(
            loadError(broken)?.description
                == "test.yaml:20001:4: error: invalid UTF-8 at byte \(lines.utf8.count + 3); save the"
                + " file as UTF-8"
        )
    }

    @Test func markOrdersByLineThenColumn() {
        #expect(Mark(line: 1, column: 9) < Mark(line: 2, column: 1))
        #expect(Mark(line: 2, column: 1) < Mark(line: 2, column: 2))
        #expect(!(Mark(line: 2, column: 2) < Mark(line: 2, column: 2)))
        #expect(Mark(line: 3, column: 4).description == "3:4")
    }
}
