/// Parses and prints durations as playbooks write them: `500ms`, `90s`, `20m`, `3h`, `1h30m`.
public enum DurationText {
    /// The number of seconds a duration text stands for, or nil when it is not one.
    public static func seconds(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var sawUnit = false
        var characters = Array(text)
        guard !characters.isEmpty else { return nil }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isASCII, character.isNumber || character == "." {
                number.append(character)
                index += 1
                continue
            }
            guard let value = Double(number) else { return nil }
            let unit: Double
            if character == "m", index + 1 < characters.count, characters[index + 1] == "s" {
                unit = 0.001
                index += 1
            } else {
                switch character {
                case "s": unit = 1
                case "m": unit = 60
                case "h": unit = 3600
                case "d": unit = 86400
                default: return nil
                }
            }
            total += value * unit
            number = ""
            sawUnit = true
            index += 1
        }
        characters.removeAll()
        guard number.isEmpty, sawUnit else { return nil }
        return total
    }

    /// A short human form of a number of seconds: `850ms`, `42s`, `3m05s`, `2h10m`.
    public static func format(_ seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 {
            return seconds < 10 ? String(format1: seconds) + "s" : "\(Int(seconds.rounded()))s"
        }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return "\(whole / 60)m" + pad(whole % 60) + "s" }
        return "\(whole / 3600)h" + pad(whole % 3600 / 60) + "m"
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension String {
    /// One decimal place, without Foundation.
    fileprivate init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}
