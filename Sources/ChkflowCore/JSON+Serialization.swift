extension JSON {
    /// The compact JSON text of the value, with object keys sorted.
    public func serialized() -> String { String(decoding: serializedBytes(), as: UTF8.self) }

    /// The JSON text of the value, indented by two spaces per level, with object keys sorted.
    public func prettyPrinted() -> String {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(to: &output, indent: 2, level: 0)
        return String(decoding: output, as: UTF8.self)
    }

    /// The compact JSON text as UTF-8 bytes.
    public func serializedBytes() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(to: &output, indent: nil, level: 0)
        return output
    }

    // The text is built as bytes: journals, reports and request bodies are serialized on every
    // step, and appending to a String scalar by scalar cost more than the requests themselves.
    private func write(to output: inout [UInt8], indent: Int?, level: Int) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): output.append(contentsOf: String(number).utf8)
        case .double(let number): output.append(contentsOf: Self.format(number).utf8)
        case .string(let text): Self.writeString(text, to: &output)
        case .array(let items): writeArray(items, to: &output, indent: indent, level: level)
        case .object(let members): writeObject(members, to: &output, indent: indent, level: level)
        }
    }

    private func writeArray(_ items: [JSON], to output: inout [UInt8], indent: Int?, level: Int) {
        guard !items.isEmpty else {
            output.append(contentsOf: "[]".utf8)
            return
        }
        output.append(UInt8(ascii: "["))
        for (position, item) in items.enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            Self.newline(&output, indent: indent, level: level + 1)
            item.write(to: &output, indent: indent, level: level + 1)
        }
        Self.newline(&output, indent: indent, level: level)
        output.append(UInt8(ascii: "]"))
    }

    private func writeObject(
        _ members: [String: JSON],
        to output: inout [UInt8],
        indent: Int?,
        level: Int
    ) {
        guard !members.isEmpty else {
            output.append(contentsOf: "{}".utf8)
            return
        }
        output.append(UInt8(ascii: "{"))
        for (position, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
            if position > 0 { output.append(UInt8(ascii: ",")) }
            Self.newline(&output, indent: indent, level: level + 1)
            Self.writeString(member.key, to: &output)
            output.append(UInt8(ascii: ":"))
            if indent != nil { output.append(UInt8(ascii: " ")) }
            member.value.write(to: &output, indent: indent, level: level + 1)
        }
        Self.newline(&output, indent: indent, level: level)
        output.append(UInt8(ascii: "}"))
    }

    private static func newline(_ output: inout [UInt8], indent: Int?, level: Int) {
        guard let indent else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
    }

    private static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }

    /// The string in quotes, escaped; runs of bytes that need no escape are copied whole.
    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var runStart = 0
            for (index, byte) in bytes.enumerated() {
                let escape: String
                switch byte {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case UInt8(ascii: "\n"): escape = "\\n"
                case UInt8(ascii: "\r"): escape = "\\r"
                case UInt8(ascii: "\t"): escape = "\\t"
                case let control where control < 0x20:
                    let hex = String(control, radix: 16)
                    escape = "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                output.append(contentsOf: escape.utf8)
                runStart = index + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }
}
