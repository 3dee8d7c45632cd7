/// One node of a loaded YAML document: a scalar, a mapping or a sequence, with its position.
///
/// Nodes are plain values. An alias in the file becomes a copy of the anchored node's content
/// (shared in memory, not duplicated) with the alias's own position.
public struct Node: Sendable {
    /// What a node holds.
    public enum Content: Sendable {
        case scalar(Scalar)
        /// Key-value pairs in document order. Keys are unique by their scalar text.
        case mapping([Pair])
        case sequence([Node])
    }

    /// A scalar as written: its text after unescaping and folding, its style and its tag.
    ///
    /// No type is resolved here: `"1"`, `1` and `!!int 1` all have the text `1` and differ
    /// only in style and tag.
    public struct Scalar: Sendable, Hashable {
        public var text: String
        // Tags are rare; a reference keeps the common untagged scalar 8 bytes smaller than an
        // optional String would.
        private var tagBox: TagBox?
        public var style: ScalarStyle

        /// The explicit tag in full form (`!!str` is `tag:yaml.org,2002:str`), or nil when the
        /// scalar has none.
        public var tag: String? {
            get { tagBox?.tag }
            set { tagBox = newValue.map(TagBox.init) }
        }

        public init(text: String, style: ScalarStyle = .plain, tag: String? = nil) {
            self.text = text
            self.style = style
            self.tagBox = tag.map(TagBox.init)
        }

        public static func == (lhs: Scalar, rhs: Scalar) -> Bool {
            lhs.text == rhs.text && lhs.style == rhs.style && lhs.tag == rhs.tag
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(text)
            hasher.combine(style)
            hasher.combine(tag)
        }
    }

    /// An immutable tag; `Sendable` because its only property is a `let` String.
    private final class TagBox: Sendable {
        let tag: String

        init(_ tag: String) {
            self.tag = tag
        }
    }

    /// How a scalar was written in the file.
    public enum ScalarStyle: Sendable, Hashable {
        /// `value`
        case plain
        /// `'value'`
        case singleQuoted
        /// `"value"`
        case doubleQuoted
        /// `|` block
        case literal
        /// `>` block
        case folded
    }

    /// One entry of a mapping.
    public struct Pair: Sendable {
        public var key: Node
        public var value: Node

        public init(key: Node, value: Node) {
            self.key = key
            self.value = value
        }
    }

    public var content: Content
    /// Where the node starts: the first character of the scalar (its quote or block indicator
    /// included), the `[`, `{` or first entry of a collection, or the `*` of an alias.
    public var mark: Mark

    public init(content: Content, mark: Mark) {
        self.content = content
        self.mark = mark
    }
}

// MARK: - Conveniences

extension Node {
    /// The scalar, or nil when the node is a mapping or a sequence.
    public var scalar: Scalar? {
        if case .scalar(let scalar) = content { return scalar }
        return nil
    }

    /// The scalar's text, or nil when the node is a mapping or a sequence.
    public var text: String? { scalar?.text }

    /// The pairs in document order, or nil when the node is not a mapping.
    public var pairs: [Pair]? {
        if case .mapping(let pairs) = content { return pairs }
        return nil
    }

    /// The entries, or nil when the node is not a sequence.
    public var items: [Node]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    /// The value whose key is a scalar with this text, or nil when there is none or the node is
    /// not a mapping.
    public subscript(key: String) -> Node? {
        guard case .mapping(let pairs) = content else { return nil }
        return pairs.first { $0.key.scalar?.text == key }?.value
    }

    /// Whether the node is an untagged plain scalar that YAML reads as null.
    ///
    /// Null is written as nothing at all, `~`, `null`, `Null` or `NULL`. A quoted `"null"` is a
    /// string, and `!!null null` is left for the caller to judge.
    public var isNull: Bool {
        guard let scalar, scalar.style == .plain, scalar.tag == nil else { return false }
        switch scalar.text {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }
}
