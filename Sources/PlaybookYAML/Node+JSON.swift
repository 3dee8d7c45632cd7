import ChkflowCore

extension Node {
    /// A scalar's value as playbooks and scenario files read it.
    ///
    /// Plain scalars are typed as the YAML 1.2 core schema does (`true`, `12`, `1.5`, `~`);
    /// quoted or tagged ones stay strings. Nil for a mapping or a sequence.
    public var scalarValue: JSON? {
        guard let scalar else { return nil }
        guard scalar.style == .plain, scalar.tag == nil else { return .string(scalar.text) }
        if isNull { return .null }
        switch scalar.text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let whole = Int64(scalar.text) { return .int(whole) }
        if scalar.text.contains("."), let number = Double(scalar.text), number.isFinite {
            return .double(number)
        }
        return .string(scalar.text)
    }
}
