import PlaybookYAML

/// One problem found in a playbook, at a position.
public struct Diagnostic: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var file: String
    public var mark: Mark
    public var message: String

    public init(file: String, mark: Mark, message: String) {
        self.file = file
        self.mark = mark
        self.message = message
    }

    public var description: String { "\(file):\(mark.line):\(mark.column): error: \(message)" }

    public static func < (lhs: Diagnostic, rhs: Diagnostic) -> Bool {
        (lhs.mark, lhs.message) < (rhs.mark, rhs.message)
    }
}

/// Every problem of a playbook, sorted by position.
public struct PlaybookError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics.sorted() }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// The closest of `candidates` to `word`, when it is close enough to be a likely typo.
func suggestion(for word: String, among candidates: [String]) -> String? {
    let scored = candidates.map { ($0, editDistance(word, $0)) }
    guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
    return best.1 <= max(2, word.count / 3) ? best.0 : nil
}

/// Edits (insert, delete, replace, or swap two neighbours) that turn one word into the other.
private func editDistance(_ a: String, _ b: String) -> Int {
    let left = Array(a)
    let right = Array(b)
    var beforePrevious: [Int] = []
    var previous = Array(0...right.count)
    for (i, leftCharacter) in left.enumerated() {
        var current = [i + 1]
        for (j, rightCharacter) in right.enumerated() {
            let cost = leftCharacter == rightCharacter ? 0 : 1
            var best = min(previous[j] + cost, previous[j + 1] + 1, current[j] + 1)
            if i > 0, j > 0, leftCharacter == right[j - 1], left[i - 1] == rightCharacter {
                best = min(best, beforePrevious[j - 1] + 1)
            }
            current.append(best)
        }
        beforePrevious = previous
        previous = current
    }
    return previous[right.count]
}
