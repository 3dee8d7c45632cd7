/// Builds the node tree of one document from parser events, without recursion.
///
/// Open mappings and sequences sit on an explicit stack, so the depth of the input never
/// reaches the call stack. Limits are checked as events arrive: an alias adds the node count
/// of the node it repeats, so an alias bomb fails before anything is expanded.
struct Composer {
    private struct Anchored {
        var node: Node
        /// Nodes in the anchored subtree, aliases inside it expanded.
        var count: Int
        /// Levels of collections in the subtree: 0 for a scalar.
        var height: Int
    }

    private struct Frame {
        var isMapping: Bool
        var mark: Mark
        var anchor: String?
        /// The node count before this collection was counted.
        var countBefore: Int
        /// Where this collection's entries start in `entries`.
        var start: Int
        var height = 0
        /// First positions of scalar keys, built once a mapping has enough pairs that a linear
        /// search for duplicates would cost more than the table.
        var keyMarks: [String: Mark]?
        /// Whether each finished entry is handed out (`takeStreamedItem`) instead of kept.
        var streams = false
    }

    private var limits: YAMLLimits
    private let maximumDepth: Int
    private let file: String
    private var frames: [Frame] = []
    /// The finished entries of every open collection; a mapping's keys and values alternate.
    private let entries = EntryStack()
    private var anchors: [String: Anchored] = [:]
    private var nodeCount = 0
    private var hasDocument = false
    private var root: Node?
    /// The top-level key whose list is streamed, if any.
    private let streamedKey: String?
    /// A finished entry of the streamed list, not yet taken.
    private var streamedItem: Node?

    /// Starts a document; `streamedKey` names the top-level list to hand out entry by entry.
    ///
    /// The entries of the list that is that key's value in the root mapping are handed out one by
    /// one as they finish, and that list stays empty in the tree. A list with an anchor is kept
    /// whole, since an alias to it must repeat its entries.
    init(limits: YAMLLimits, file: String, streamedKey: String? = nil) {
        self.streamedKey = streamedKey
        self.limits = limits
        self.maximumDepth = min(limits.maximumDepth, YAMLLimits.largestSafeDepth)
        self.limits.maximumNodes = max(limits.maximumNodes, 0)
        self.file = file
    }

    // MARK: - Events

    /// The start of a document: the first is welcome, a second is an error.
    mutating func startDocument(at mark: Mark) throws(YAMLError) {
        guard !hasDocument else {
            throw error(at: mark, "several documents in one file; chkflow reads one")
        }
        hasDocument = true
    }

    /// The root of the document, once the stream has ended.
    func finish() throws(YAMLError) -> Node {
        guard let root else { throw error(at: Mark(line: 1, column: 1), "the file is empty") }
        return root
    }

    mutating func addScalar(
        _ scalar: consuming Node.Scalar,
        anchor: String?,
        at mark: Mark
    ) throws(YAMLError) {
        nodeCount += 1
        guard nodeCount <= limits.maximumNodes else { throw tooManyNodes(at: mark) }
        if isExpectingKey { try checkKey(scalar, at: mark) }
        let node = Node(content: .scalar(consume scalar), mark: mark)
        if let anchor { anchors[anchor] = Anchored(node: node, count: 1, height: 0) }
        attach(consume node, height: 0)
    }

    mutating func addAlias(named name: String, at mark: Mark) throws(YAMLError) {
        guard let anchored = anchors[name] else {
            if frames.contains(where: { $0.anchor == name }) {
                throw error(at: mark, "alias '*\(name)' refers to a node that contains it")
            }
            throw error(at: mark, "unknown alias '*\(name)'; no anchor '&\(name)' comes before it")
        }
        guard anchored.count <= limits.maximumNodes - nodeCount else {
            let limit = limits.maximumNodes
            throw error(at: mark, "alias '*\(name)' expands the document beyond \(limit) nodes")
        }
        guard frames.count + anchored.height <= maximumDepth else {
            let limit = maximumDepth
            throw error(at: mark, "alias '*\(name)' nests the document deeper than \(limit) levels")
        }
        nodeCount += anchored.count
        if isExpectingKey, case .scalar(let scalar) = anchored.node.content {
            try checkKey(scalar, at: mark)
        }
        attach(Node(content: anchored.node.content, mark: mark), height: anchored.height)
    }

    mutating func openCollection(
        isMapping: Bool,
        anchor: String?,
        at mark: Mark
    ) throws(YAMLError) {
        guard frames.count < maximumDepth else {
            throw error(at: mark, "the document nests deeper than \(maximumDepth) levels")
        }
        let countBefore = nodeCount
        nodeCount += 1
        guard nodeCount <= limits.maximumNodes else { throw tooManyNodes(at: mark) }
        // From here on the name means this collection, which is not finished: an alias to it
        // inside it is a cycle, not a reference to an earlier anchor of the same name.
        if let anchor { anchors[anchor] = nil }
        var frame = Frame(
            isMapping: isMapping,
            mark: mark,
            anchor: anchor,
            countBefore: countBefore,
            start: entries.count
        )
        frame.streams = !isMapping && anchor == nil && isStreamedKeyValue
        frames.append(frame)
    }

    /// The entry of the streamed list that finished with the last event, if one did.
    mutating func takeStreamedItem() -> Node? {
        guard streamedItem != nil else { return nil }
        return streamedItem.take()
    }

    /// Whether the node that starts now is the value of `streamedKey` in the root mapping.
    private var isStreamedKeyValue: Bool {
        guard let streamedKey, frames.count == 1, frames[0].isMapping,
            (entries.count - frames[0].start) % 2 == 1,
            case .scalar(let key) = entries[entries.count - 1].content
        else { return false }
        return key.text == streamedKey
    }

    mutating func closeCollection() {
        guard let frame = frames.popLast() else { return }
        let content: Node.Content =
            frame.isMapping
            ? .mapping(entries.popPairs(from: frame.start))
            : .sequence(entries.popItems(from: frame.start))
        let node = Node(content: content, mark: frame.mark)
        if let anchor = frame.anchor {
            let count = nodeCount - frame.countBefore
            anchors[anchor] = Anchored(node: node, count: count, height: frame.height + 1)
        }
        attach(node, height: frame.height + 1)
    }

    // MARK: - Building

    /// Whether the next node is a key: the open collection is a mapping with every key paired.
    private var isExpectingKey: Bool {
        let top = frames.endIndex - 1
        return top >= 0 && frames[top].isMapping && (entries.count - frames[top].start) % 2 == 0
    }

    /// Puts a finished node into the collection that is open, or makes it the root.
    private mutating func attach(_ node: consuming Node, height: Int) {
        let top = frames.endIndex - 1
        guard top >= 0 else {
            root = node
            return
        }
        // A scalar's height of 0 never raises a collection's height.
        if height > frames[top].height { frames[top].height = height }
        if frames[top].streams {
            streamedItem = node
            return
        }
        entries.push(node)
    }

    private mutating func checkKey(_ key: borrowing Node.Scalar, at mark: Mark) throws(YAMLError) {
        if key.isMergeKey {
            let message = "merge keys ('<<') are not supported; write the keys out in full"
            throw error(at: mark, message)
        }
        if let first = firstMark(ofKey: key.text, at: mark) {
            throw error(at: mark, "duplicate key '\(key.text)' (first at \(first))")
        }
    }

    /// The position of an earlier key with the same text in the open mapping, and records this
    /// one when there is none.
    private mutating func firstMark(ofKey text: String, at mark: Mark) -> Mark? {
        let top = frames.endIndex - 1
        let start = frames[top].start
        if frames[top].keyMarks == nil, entries.count - start < 16 {
            return entries.firstMark(ofKey: text, amongEvery: 2, from: start)
        }
        if frames[top].keyMarks == nil {
            var marks: [String: Mark] = [:]
            for index in stride(from: start, to: entries.count, by: 2) {
                guard case .scalar(let key) = entries[index].content else { continue }
                marks[key.text] = marks[key.text] ?? entries[index].mark
            }
            frames[top].keyMarks = marks
        }
        return frames[top].keyMarks?.updateValue(mark, forKey: text)
    }

    private func tooManyNodes(at mark: Mark) -> YAMLError {
        error(at: mark, "the document has more than \(limits.maximumNodes) nodes")
    }

    private func error(at mark: Mark, _ message: String) -> YAMLError {
        YAMLError(file: file, mark: mark, message: message)
    }
}

extension Node.Scalar {
    /// Whether this is YAML 1.1's merge key: a plain, untagged `<<` or one tagged `!!merge`.
    fileprivate var isMergeKey: Bool {
        let tag = tag
        if tag == nil { return style == .plain && text == "<<" }
        return tag == "tag:yaml.org,2002:merge"
    }
}
