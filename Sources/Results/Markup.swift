/// Escaping shared by the JUnit XML and the HTML timeline.
enum Markup {
    /// Text made safe for XML 1.0: markup characters as entities, line breaks in attributes as
    /// character references (so parsers keep them), and characters XML cannot carry at all
    /// (most control characters) as U+FFFD.
    static func escaped(_ text: String, quotes: Bool) -> String {
        var output = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"" where quotes: output += "&quot;"
            case "'" where quotes: output += "&apos;"
            case "\n" where quotes: output += "&#10;"
            case "\r": output += "&#13;"
            case "\t" where quotes: output += "&#9;"
            case "\n", "\t": output.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF:
                output += "\u{FFFD}"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
