internal import CYAML

/// The error state libyaml leaves in its parser, copied out and turned into a `YAMLError`.
///
/// libyaml's own texts are kept where they are clear (most scanner and parser errors), and
/// replaced where they are cryptic for someone editing a playbook: tabs in indentation,
/// characters that cannot start a value, invalid UTF-8.
struct LibYAMLError {
    enum Kind {
        /// `YAML_MEMORY_ERROR`
        case memory
        /// `YAML_READER_ERROR`: the bytes are not valid UTF-8 or hold a forbidden character.
        case reader
        /// `YAML_SCANNER_ERROR`
        case scanner
        /// `YAML_PARSER_ERROR`
        case parser
        /// Any other code, including ones a future libyaml may add.
        case unexpected(code: UInt32)
    }

    var kind: Kind
    var problem: String?
    var problemMark: Mark
    var problemOffset: Int
    var problemValue: Int32
    var context: String?
    var contextMark: Mark

    // MARK: - Messages

    func yamlError(file: String, source: [UInt8]) -> YAMLError {
        switch kind {
        case .memory:
            return YAMLError(file: file, mark: problemMark, message: outOfMemory)
        case .reader:
            return readerError(file: file, source: source)
        case .scanner, .parser:
            return syntaxError(file: file, source: source)
        case .unexpected(let code):
            let message = "the YAML parser failed with an unexpected error (libyaml code \(code))"
            return YAMLError(file: file, mark: problemMark, message: message)
        }
    }

    // MARK: - Reader errors

    /// libyaml gives reader errors a byte offset instead of a mark, so the mark is computed from
    /// the bytes before the offset.
    ///
    /// For bad UTF-8, libyaml's offset can be the byte after a truncated sequence; the start of
    /// the first invalid sequence is what an editor's hex view should show.
    private func readerError(file: String, source: [UInt8]) -> YAMLError {
        var offset = min(problemOffset, source.count)
        if problem != "control characters are not allowed" {
            offset = firstInvalidUTF8(in: source) ?? offset
        }
        let prefix = String(decoding: source[..<offset], as: UTF8.self)
        let mark = SourceLines.mark(after: prefix.unicodeScalars)
        let message: String
        switch problem {
        case "control characters are not allowed":
            let code = String(UInt32(bitPattern: problemValue), radix: 16, uppercase: true)
            let padded = String(repeating: "0", count: max(4 - code.count, 0)) + code
            message = "the character U+\(padded) is not allowed in YAML (at byte \(offset))"
        case "input is too long":
            message = "the file is too long for the YAML parser"
        default:
            message = "invalid UTF-8 at byte \(offset); save the file as UTF-8"
        }
        return YAMLError(file: file, mark: mark, message: message)
    }

    private func firstInvalidUTF8(in bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded): offset += encoded.count
            case .error: return offset
            case .emptyInput: return nil
            }
        }
    }

    // MARK: - Scanner and parser errors

    private func syntaxError(file: String, source: [UInt8]) -> YAMLError {
        let text = String(decoding: source, as: UTF8.self).unicodeScalars
        let character = SourceLines.character(at: problemMark, in: text)
        let problem = problem ?? "the YAML is not valid"
        if character == "\t", problem.contains("tab") || problem.contains("cannot start") {
            let message = "tabs are not allowed for indentation; use spaces"
            return YAMLError(file: file, mark: problemMark, message: message)
        }
        if let character, character == "@" || character == "`",
            problem.contains("cannot start")
        {
            let message = "a plain value cannot start with '\(character)'; put the value in quotes"
            return YAMLError(file: file, mark: problemMark, message: message)
        }
        var message = problem
        if problem == "mapping values are not allowed in this context" {
            message += "; if ': ' is part of the value, put the value in quotes"
        }
        if let context, contextMark != problemMark {
            message += " (\(context) that started at \(contextMark))"
        }
        return YAMLError(file: file, mark: problemMark, message: message)
    }
}

extension LibYAMLError {
    /// Copies the error state out of a parser whose last call failed.
    init(_ parser: yaml_parser_t) {
        switch parser.error {
        case YAML_MEMORY_ERROR: kind = .memory
        case YAML_READER_ERROR: kind = .reader
        case YAML_SCANNER_ERROR: kind = .scanner
        case YAML_PARSER_ERROR: kind = .parser
        default: kind = .unexpected(code: parser.error.rawValue)
        }
        problem = parser.problem.map { String(cString: $0) }
        problemMark = Mark(parser.problem_mark)
        problemOffset = parser.problem_offset
        problemValue = parser.problem_value
        context = parser.context.map { String(cString: $0) }
        contextMark = Mark(parser.context_mark)
    }
}
