/// The finished entries of every open collection, innermost last, in one growing buffer.
///
/// A collection's entries are moved, not copied, into an array of their final size when the
/// collection closes, so building a tree costs one allocation per collection and no reference
/// counting for the entries themselves. The buffer is manual memory: `count` elements from
/// `base` are initialized, the rest of `capacity` is not, and only this class touches it.
final class EntryStack {
    private var base: UnsafeMutablePointer<Node>
    private var capacity: Int
    private(set) var count = 0

    init() {
        capacity = 64
        base = .allocate(capacity: capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    subscript(index: Int) -> Node {
        precondition(index >= 0 && index < count)
        return base[index]
    }

    /// The mark of the first scalar with this text among the entries at `start`, `start +
    /// stride`, and so on; compared in place, without copying the nodes out.
    func firstMark(ofKey text: String, amongEvery stride: Int, from start: Int) -> Mark? {
        var index = start
        while index < count {
            // Comparing lengths first spares most unequal keys a full string comparison.
            if case .scalar(let scalar) = base[index].content,
                scalar.text.utf8.count == text.utf8.count, scalar.text == text
            {
                return base[index].mark
            }
            index += stride
        }
        return nil
    }

    func push(_ node: consuming Node) {
        if count == capacity { grow() }
        (base + count).initialize(to: node)
        count += 1
    }

    /// Moves the entries from `start` on into a sequence's items.
    func popItems(from start: Int) -> [Node] {
        precondition(start >= 0 && start <= count)
        let length = count - start
        let items = [Node](unsafeUninitializedCapacity: length) { buffer, initialized in
            if let destination = buffer.baseAddress {
                destination.moveInitialize(from: base + start, count: length)
            }
            initialized = length
        }
        count = start
        return items
    }

    /// Moves the entries from `start` on, keys and values alternating, into a mapping's pairs.
    func popPairs(from start: Int) -> [Node.Pair] {
        precondition(start >= 0 && start <= count && (count - start) % 2 == 0)
        let length = (count - start) / 2
        let pairs = [Node.Pair](unsafeUninitializedCapacity: length) { buffer, initialized in
            for index in 0..<length {
                let key = (base + start + 2 * index).move()
                let value = (base + start + 2 * index + 1).move()
                (buffer.baseAddress! + index).initialize(to: Node.Pair(key: key, value: value))
            }
            initialized = length
        }
        count = start
        return pairs
    }

    private func grow() {
        let larger = UnsafeMutablePointer<Node>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity *= 2
    }
}
