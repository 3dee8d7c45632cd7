/// A small parser for `chkflow COMMAND [options] [operands]`.
///
/// Options take their value as the next word or after `=`; `--` ends the options.
struct Arguments {
    private(set) var operands: [String] = []
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []

    /// Parses `words` for a command whose options are `valued` (take a value) and `switches`.
    ///
    /// An `optional` option is a switch that may take a value: `--simulator=FILE`, or the next
    /// word when it names a YAML file and the command's first operand is already given.
    init(
        _ words: [String],
        valued: Set<String>,
        switches: Set<String>,
        optional: Set<String> = []
    ) throws(UsageError) {
        var index = 0
        var optionsEnded = false
        while index < words.count {
            let word = words[index]
            index += 1
            guard !optionsEnded, word.hasPrefix("-"), word != "-" else {
                operands.append(word)
                continue
            }
            if word == "--" {
                optionsEnded = true
                continue
            }
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            let name = parts[0]
            if optional.contains(name) {
                flags.insert(name)
                if parts.count == 2 {
                    values[name, default: []].append(parts[1])
                } else if index < words.count, !operands.isEmpty, !words[index].hasPrefix("-"),
                    Self.looksLikeValue(words[index])
                {
                    values[name, default: []].append(words[index])
                    index += 1
                }
            } else if switches.contains(name) {
                guard parts.count == 1 else { throw UsageError("\(name) takes no value") }
                flags.insert(name)
            } else if valued.contains(name) {
                if parts.count == 2 {
                    values[name, default: []].append(parts[1])
                } else {
                    guard index < words.count else { throw UsageError("\(name) needs a value") }
                    values[name, default: []].append(words[index])
                    index += 1
                }
            } else {
                let known = valued.union(switches).union(optional).sorted()
                var message = "unknown option '\(name)'"
                if let close = known.first(where: { $0.hasPrefix(name) || name.hasPrefix($0) }) {
                    message += "; did you mean '\(close)'?"
                }
                throw UsageError(message)
            }
        }
    }

    /// Whether a word after an optional option is its value: a YAML file or a run id.
    private static func looksLikeValue(_ word: String) -> Bool {
        if word.hasSuffix(".yaml") || word.hasSuffix(".yml") { return true }
        let parts = word.split(separator: "-")
        return parts.count == 2 && parts[0].count == 14 && parts[0].allSatisfy(\.isNumber)
            && parts[1].count == 8 && parts[1].allSatisfy(\.isHexDigit)
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }

    func value(_ name: String) -> String? { values[name]?.last }

    func all(_ name: String) -> [String] { values[name] ?? [] }
}
