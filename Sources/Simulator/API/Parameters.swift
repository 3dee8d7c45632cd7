import ChkflowCore

/// The body of a command, read with the types the API reference gives each field.
struct Parameters {
    let values: [String: JSON]

    /// Accepts the body when every key is one the command knows.
    init(_ values: [String: JSON], allowed: Set<String>) throws(APIError) {
        if let unknown = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .unknownParameter(unknown)
        }
        self.values = values
    }

    func contains(_ name: String) -> Bool { values[name] != nil }

    func string(_ name: String) throws(APIError) -> String? {
        guard let value = values[name] else { return nil }
        guard case .string(let text) = value else { throw .invalidParameter(name) }
        return text
    }

    func bool(_ name: String) throws(APIError) -> Bool? {
        guard let value = values[name] else { return nil }
        guard case .bool(let flag) = value else { throw .invalidParameter(name) }
        return flag
    }

    /// A whole number; a whole double such as `5.0` counts, a string does not.
    func integer(_ name: String) throws(APIError) -> Int64? {
        guard let value = values[name] else { return nil }
        switch value {
        case .int(let number): return number
        case .double(let number) where number.rounded() == number && abs(number) < 9e15:
            return Int64(number)
        default: throw .invalidParameter(name)
        }
    }
}
