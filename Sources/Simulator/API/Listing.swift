import ChkflowCore

/// `limit` and `offset` of a show-<plural> command, and the paged reply.
struct Page {
    var limit: Int
    var offset: Int

    /// The largest page a server gives.
    static let maximumLimit = 500

    init(_ parameters: Parameters) throws(APIError) {
        let limit = try parameters.integer("limit") ?? 50
        guard (1...Int64(Self.maximumLimit)).contains(limit) else {
            throw .invalidParameter("limit", "Value must be between 1 and \(Self.maximumLimit)")
        }
        let offset = try parameters.integer("offset") ?? 0
        guard offset >= 0 else { throw .invalidParameter("offset", "Value must not be negative") }
        if let order = parameters.values["order"], order.arrayValue == nil {
            throw .invalidParameter("order")
        }
        self.limit = Int(limit)
        self.offset = Int(min(offset, Int64(Int32.max)))
    }

    func slice<Item>(_ items: [Item]) -> [Item] {
        guard offset < items.count else { return [] }
        return Array(items[offset..<min(items.count, offset + limit)])
    }

    /// `{from, to, total, <key>}`, with from and to 1-based and left out when the page is empty.
    func reply(_ objects: [JSON], total: Int, key: String) -> JSON {
        var reply: [String: JSON] = ["total": .int(Int64(total)), key: .array(objects)]
        if !objects.isEmpty {
            reply["from"] = .int(Int64(offset + 1))
            reply["to"] = .int(Int64(offset + objects.count))
        }
        return .object(reply)
    }
}

/// Dates as show-tasks takes them: `YYYY-MM-DD`, optionally `THH:MM` and `:SS`, in UTC.
enum DateText {
    static func epochSeconds(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= bytes.count else { return nil }
            let digits = bytes[start..<start + length]
            guard digits.allSatisfy(ASCII.isDigit) else { return nil }
            return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        }
        guard [10, 16, 19].contains(bytes.count), let year = number(0, 4),
            let month = number(5, 2), let day = number(8, 2), (1...12).contains(month),
            (1...31).contains(day)
        else { return nil }
        let hour = bytes.count > 10 ? number(11, 2) : 0
        let minute = bytes.count > 10 ? number(14, 2) : 0
        let second = bytes.count > 16 ? number(17, 2) : 0
        guard let hour, let minute, let second, hour < 24, minute < 60, second < 61 else {
            return nil
        }
        return daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date.
    private static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }
}
