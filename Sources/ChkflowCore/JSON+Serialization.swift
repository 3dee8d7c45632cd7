extension JSON {
    /// The compact JSON text of the value, with object keys sorted.
    public func serialized() -> String {
        var output = ""
        write(to: &output, indent: nil, level: 0)
        return output
    }

    /// The JSON text of the value, indented by two spaces per level, with object keys sorted.
    public func prettyPrinted() -> String {
        var output = ""
        write(to: &output, indent: "  ", level: 0)
        return output
    }

    /// The compact JSON text as UTF-8 bytes.
    public func serializedBytes() -> [UInt8] { Array(serialized().utf8) }

    private func write(to output: inout String, indent: String?, level: Int) {
        switch self {
        case .null: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number): output += Self.format(number)
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let items): writeArray(items, to: &output, indent: indent, level: level)
        case .object(let members): writeObject(members, to: &output, indent: indent, level: level)
        }
    }

    private func writeArray(_ items: [JSON], to output: inout String, indent: String?, level: Int) {
        guard !items.isEmpty else {
            output += "[]"
            return
        }
        output += "["
        for (position, item) in items.enumerated() {
            if position > 0 { output += "," }
            Self.newline(&output, indent: indent, level: level + 1)
            item.write(to: &output, indent: indent, level: level + 1)
        }
        Self.newline(&output, indent: indent, level: level)
        output += "]"
    }

    private func writeObject(
        _ members: [String: JSON],
        to output: inout String,
        indent: String?,
        level: Int
    ) {
        guard !members.isEmpty else {
            output += "{}"
            return
        }
        output += "{"
        for (position, key) in members.keys.sorted().enumerated() {
            if position > 0 { output += "," }
            Self.newline(&output, indent: indent, level: level + 1)
            Self.writeString(key, to: &output)
            output += indent == nil ? ":" : ": "
            members[key, default: .null].write(to: &output, indent: indent, level: level + 1)
        }
        Self.newline(&output, indent: indent, level: level)
        output += "}"
    }

    private static func newline(_ output: inout String, indent: String?, level: Int) {
        guard let indent else { return }
        output += "\n"
        for _ in 0..<level { output += indent }
    }

    private static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    private static func writeString(_ text: String, to output: inout String) {
        output += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}
