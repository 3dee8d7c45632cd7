import ChkflowCore
import Testing

@Suite("Trimming")
struct TrimmingTests {
    @Test(arguments: [
        ("  12345 \n", "12345"),
        ("\t\r\n", ""),
        ("", ""),
        ("a b", "a b"),
        ("\u{00A0}x\u{2028}", "x"),
    ])
    func whitespace(text: String, trimmed: String) {
        #expect(text.trimmingWhitespace == trimmed)
    }

    @Test(arguments: [
        ("secret\n", "secret"),
        ("secret\r\n", "secret"),
        ("\nsecret\n\n", "secret"),
        (" secret \n", " secret "),
        ("se\ncret", "se\ncret"),
        ("\u{2029}secret\u{85}", "secret"),
        ("\n", ""),
    ])
    func newlines(text: String, trimmed: String) {
        #expect(text.trimmingNewlines == trimmed)
    }
}
