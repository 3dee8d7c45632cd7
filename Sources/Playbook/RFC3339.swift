/// RFC 3339 timestamps such as `2026-12-05T04:00:00Z` or `2026-12-05T05:00:00+01:00`.
public enum RFC3339 {
    /// Seconds since 1970 UTC, or nil when the text is not an RFC 3339 time.
    public static func seconds(_ text: String) -> Double? {
        let characters = Array(text.uppercased())
        guard characters.count >= 20, characters[4] == "-", characters[7] == "-",
            characters[10] == "T" || characters[10] == " ", characters[13] == ":",
            characters[16] == ":",
            let year = number(characters, 0, 4), let month = number(characters, 5, 2),
            let day = number(characters, 8, 2), let hour = number(characters, 11, 2),
            let minute = number(characters, 14, 2), let second = number(characters, 17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if characters[index] == "." {
            let start = index
            index += 1
            while index < characters.count, characters[index].isNumber { index += 1 }
            fraction = Double("0" + String(characters[start..<index])) ?? 0
        }
        guard let offset = zoneOffset(characters, from: index) else { return nil }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return Double(days * 86400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    private static func zoneOffset(_ characters: [Character], from index: Int) -> Int? {
        guard index < characters.count else { return nil }
        if characters[index] == "Z" { return index + 1 == characters.count ? 0 : nil }
        guard characters.count == index + 6, characters[index] == "+" || characters[index] == "-",
            characters[index + 3] == ":",
            let hours = number(characters, index + 1, 2),
            let minutes = number(characters, index + 4, 2)
        else { return nil }
        let sign = characters[index] == "-" ? -1 : 1
        return sign * (hours * 3600 + minutes * 60)
    }

    private static func number(_ characters: [Character], _ start: Int, _ count: Int) -> Int? {
        guard start + count <= characters.count else { return nil }
        let slice = characters[start..<start + count]
        guard slice.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(String(slice))
    }

    /// Days from 1970-01-01 to a civil date (proleptic Gregorian).
    private static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The RFC 3339 text of a time, in UTC with millisecond precision.
    public static func format(_ seconds: Double) -> String {
        let milliseconds = Int((seconds * 1000).rounded())
        let whole = Int((Double(milliseconds) / 1000).rounded(.down))
        let millis = milliseconds - whole * 1000
        var days = whole / 86400
        var rest = whole % 86400
        if rest < 0 {
            rest += 86400
            days -= 1
        }
        let (year, month, day) = civil(days)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rest / 3600, 2)):"
            + "\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2)).\(pad(millis, 3))Z"
    }

    private static func civil(_ days: Int) -> (Int, Int, Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}

/// Whole-string matching of an input's `pattern`.
public enum InputPattern {
    /// Whether the whole of `text` matches; an invalid pattern matches nothing.
    public static func matches(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? Regex(pattern) else { return false }
        return (try? regex.wholeMatch(in: text)) != nil
    }

    /// Whether the pattern compiles.
    public static func isValid(_ pattern: String) -> Bool { (try? Regex(pattern)) != nil }
}
