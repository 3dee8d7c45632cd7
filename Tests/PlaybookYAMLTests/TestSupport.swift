import PlaybookYAML

/// Loads `text` as a file named `test.yaml`.
func load(_ text: String, limits: YAMLLimits = .init()) throws(YAMLError) -> Node {
    try YAMLLoader.load(Array(text.utf8), file: "test.yaml", limits: limits)
}

/// The error that loading `bytes` throws, or nil when it loads.
func loadError(_ bytes: [UInt8], limits: YAMLLimits = .init()) -> YAMLError? {
    do {
        _ = try YAMLLoader.load(bytes, file: "test.yaml", limits: limits)
        return nil
    } catch {
        return error
    }
}

/// The error that loading `text` throws, or nil when it loads.
func loadError(_ text: String, limits: YAMLLimits = .init()) -> YAMLError? {
    loadError(Array(text.utf8), limits: limits)
}

/// A one-line picture of a node: `{key: value}`, `[item]`, and scalars marked by style
/// (`plain`, `'single'`, `"double"`, `|literal|`, `>folded>`) with an explicit tag in front
/// (`<tag:yaml.org,2002:str> text`).
func outline(_ node: Node) -> String {
    switch node.content {
    case .scalar(let scalar):
        let tag = scalar.tag.map { "<\($0)> " } ?? ""
        switch scalar.style {
        case .plain: return tag + scalar.text
        case .singleQuoted: return tag + "'\(scalar.text)'"
        case .doubleQuoted: return tag + "\"\(scalar.text)\""
        case .literal: return tag + "|\(scalar.text)|"
        case .folded: return tag + ">\(scalar.text)>"
        }
    case .mapping(let pairs):
        let entries = pairs.map { outline($0.key) + ": " + outline($0.value) }
        return "{" + entries.joined(separator: ", ") + "}"
    case .sequence(let items):
        return "[" + items.map(outline).joined(separator: ", ") + "]"
    }
}

/// Every node's position in document order, keys before their values, as `line:column what`.
func marks(_ node: Node) -> [String] {
    switch node.content {
    case .scalar(let scalar):
        return ["\(node.mark) \(scalar.text)"]
    case .mapping(let pairs):
        return ["\(node.mark) {"] + pairs.flatMap { marks($0.key) + marks($0.value) }
    case .sequence(let items):
        return ["\(node.mark) ["] + items.flatMap(marks)
    }
}
