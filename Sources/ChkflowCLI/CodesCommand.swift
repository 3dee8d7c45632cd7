import ChkflowCore

/// `chkflow codes`: the error-code catalogue with each code's default class.
enum CodesCommand {
    static func execute(_ words: [String]) throws(UsageError) -> ExitCode {
        let arguments = try Arguments(words, valued: [], switches: ["--json"])
        guard arguments.operands.isEmpty else { throw UsageError("codes takes no operands") }
        let console = Console()
        if arguments.has("--json") {
            let entries = ErrorCatalogue.entries.map { entry -> JSON in
                [
                    "code": .string(entry.code), "class": .string(entry.errorClass.rawValue),
                    "meaning": .string(entry.meaning),
                ]
            }
            console.output(JSON.array(entries).prettyPrinted())
            return .success
        }
        let width = ErrorCatalogue.entries.map(\.code.count).max() ?? 0
        var lines: [String] = []
        for entry in ErrorCatalogue.entries {
            let code = entry.code.padding(width)
            let errorClass = entry.errorClass.rawValue.padding(9)
            lines.append("\(code)  \(errorClass)  \(entry.meaning)")
        }
        console.output(lines.joined(separator: "\n"))
        return .success
    }
}

extension String {
    /// The string padded with spaces to at least `width` characters.
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
