import ChkflowCore
import PlaybookYAML

/// A problem in a scenario file, at a position.
public struct ScenarioFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var mark: Mark
    public var message: String

    public var description: String { "\(file):\(mark.line):\(mark.column): error: \(message)" }
}

/// Scenario files: YAML read with the same loader as playbooks, then checked by
/// ``Scenario/init(document:)``; a problem is reported at the line and column of the value.
public enum ScenarioFile {
    public static func load(contentsOf path: String) throws(ScenarioFileError) -> Scenario {
        let root: Node
        do {
            root = try YAMLLoader.load(contentsOf: path)
        } catch {
            throw ScenarioFileError(file: path, mark: error.mark, message: error.message)
        }
        var marks: [String: Mark] = [:]
        let document = json(root, path: "", marks: &marks)
        do {
            return try Scenario(document: document)
        } catch {
            let mark = closestMark(error.path, marks) ?? root.mark
            throw ScenarioFileError(file: path, mark: mark, message: error.description)
        }
    }

    /// The tree as JSON, with the mark of every value recorded by its path.
    ///
    /// Plain scalars are typed as YAML's core schema does; quoted ones stay strings.
    static func json(_ node: Node, path: String, marks: inout [String: Mark]) -> JSON {
        marks[path] = node.mark
        switch node.content {
        case .scalar:
            return node.scalarValue ?? .null
        case .sequence(let items):
            var values: [JSON] = []
            for (index, item) in items.enumerated() {
                values.append(json(item, path: "\(path)[\(index)]", marks: &marks))
            }
            return .array(values)
        case .mapping(let pairs):
            var members: [String: JSON] = [:]
            for pair in pairs {
                let key = pair.key.text ?? ""
                let child = path.isEmpty ? key : "\(path).\(key)"
                marks[child + ":key"] = pair.key.mark
                members[key] = json(pair.value, path: child, marks: &marks)
            }
            return .object(members)
        }
    }

    /// The mark of the path, or of its nearest parent that has one.
    private static func closestMark(_ path: String, _ marks: [String: Mark]) -> Mark? {
        var current = path
        while true {
            if let mark = marks[current] ?? marks[current + ":key"] { return mark }
            guard let cut = current.lastIndex(where: { $0 == "." || $0 == "[" }) else {
                return marks[""]
            }
            current = String(current[..<cut])
        }
    }
}
