import Testing

@testable import ChkflowCore

@Suite struct JSONTests {
    @Test(arguments: [
        ("{}", JSON.object([:])),
        ("[1, -2, 3.5]", JSON.array([.int(1), .int(-2), .double(3.5)])),
        (
            #"{"a": "x\"y\u00e9", "b": [true, false, null]}"#,
            JSON.object(["a": "x\"yé", "b": [true, false, nil]])
        ),
        (#""\ud83d\ude00""#, JSON.string("😀")),
        (
            #"["plain", "tab\tthen more", "\\first", ""]"#,
            JSON.array(["plain", "tab\tthen more", "\\first", ""])
        ),
        // Integers of up to 18 digits are read without a string; these are the edges of that.
        ("0", JSON.int(0)),
        ("-0", JSON.int(0)),
        ("007", JSON.int(7)),
        ("123456789012345678", JSON.int(123_456_789_012_345_678)),
        ("-123456789012345678", JSON.int(-123_456_789_012_345_678)),
        ("9223372036854775807", JSON.int(.max)),
        ("-9223372036854775808", JSON.int(.min)),
        ("9223372036854775808", JSON.double(9_223_372_036_854_775_808)),
        ("[12,-3e2,4.25,5E1]", JSON.array([.int(12), .double(-300), .double(4.25), .double(50)])),
        (
            #"{"posix":1796361460840,"n":-1}"#,
            JSON.object(["posix": .int(1_796_361_460_840), "n": .int(-1)])
        ),
    ])
    func parsesValues(text: String, expected: JSON) throws {
        #expect(try JSON.parse(text) == expected)
    }

    @Test(arguments: [
        ("", "invalid JSON at byte 0: unexpected end of input"),
        ("{", "invalid JSON at byte 1: expected a string key"),
        ("[1,]", "invalid JSON at byte 3: invalid value"),
        ("{} x", "invalid JSON at byte 3: unexpected content after the value"),
        ("<html>", "invalid JSON at byte 0: invalid value"),
        ("\"abc", "invalid JSON at byte 4: unterminated string"),
        ("\"ab\u{01}\"", "invalid JSON at byte 3: control character in string"),
        ("\"a\\nb\u{01}\"", "invalid JSON at byte 5: control character in string"),
        ("-", "invalid JSON at byte 0: invalid value"),
        ("-x", "invalid JSON at byte 0: invalid value"),
        ("--1", "invalid JSON at byte 0: invalid value"),
        ("1-2", "invalid JSON at byte 0: invalid value"),
        ("1.2.3", "invalid JSON at byte 0: invalid value"),
        ("12x", "invalid JSON at byte 2: unexpected content after the value"),
        ("[7 8]", "invalid JSON at byte 3: expected ',' or ']'"),
    ])
    func rejectsInvalidText(text: String, message: String) {
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
        do {
            _ = try JSON.parse(text)
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSON.parse(text) }
    }

    @Test func serializationSortsKeysAndRoundTrips() throws {
        let value: JSON = ["b": 1, "a": ["x": "line\nbreak", "y": 2.5], "c": [nil, true]]
        #expect(value.serialized() == #"{"a":{"x":"line\nbreak","y":2.5},"b":1,"c":[null,true]}"#)
        #expect(try JSON.parse(value.serialized()) == value)
        #expect(try JSON.parse(value.prettyPrinted()) == value)
    }

    @Test func numbersAsStringsReadAsIntegers() {
        #expect(JSON.string("42").intValue == 42)
        #expect(JSON.double(3.0).intValue == 3)
        #expect(JSON.double(3.5).intValue == nil)
    }
}

@Suite struct CatalogueTests {
    @Test(arguments: [
        ("err_too_many_requests", ErrorClass.transient),
        ("generic_err_session_expired", .session),
        ("generic_err_wrong_session_id", .session),
        ("err_login_failed", .permanent),
        ("some_code_no_server_sends", .permanent),
    ])
    func classesCodes(code: String, expected: ErrorClass) {
        #expect(ErrorCatalogue.errorClass(of: code) == expected)
    }

    @Test func everyCodeIsListedOnce() {
        let codes = ErrorCatalogue.entries.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(codes.count == 57)
    }

    @Test(arguments: [
        ("generic_err_session_*", true), ("err_login_failed", true), ("err_nothing*", false),
        ("err_nothing", false),
    ])
    func matchesPatterns(pattern: String, expected: Bool) {
        #expect(ErrorCatalogue.matchesAny(pattern) == expected)
    }
}

@Suite struct DurationTests {
    @Test(arguments: [
        ("90s", 90.0), ("20m", 1200), ("3h", 10800), ("1h30m", 5400), ("500ms", 0.5), ("1.5s", 1.5),
    ])
    func parses(text: String, seconds: Double) {
        #expect(DurationText.seconds(text) == seconds)
    }

    @Test(arguments: ["", "10", "m", "5x", "1h30", "-5s"])
    func rejects(text: String) {
        #expect(DurationText.seconds(text) == nil)
    }

    @Test(arguments: [(0.25, "250ms"), (4.2, "4.2s"), (42, "42s"), (185, "3m05s"), (7800, "2h10m")])
    func formats(seconds: Double, text: String) {
        #expect(DurationText.format(seconds) == text)
    }
}

@Suite struct SHA256Tests {
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        ),
    ])
    func knownDigests(text: String, hex: String) {
        #expect(SHA256.hex(Array(text.utf8)) == hex)
    }

    @Test func millionAs() {
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(
            SHA256.hex(bytes) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        )
    }
}
