internal import CYAML

/// The owner of one libyaml parser and of the bytes it reads.
///
/// libyaml keeps only a pointer to its input, so the parser copies the input into a buffer it
/// owns and frees both together in `deinit`. The `yaml_parser_t` and the event it fills live on
/// the heap at fixed addresses, because libyaml holds on to them between calls. Not `Sendable`:
/// one parser belongs to one loading call.
final class EventParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let event: UnsafeMutablePointer<yaml_event_t>
    private let input: UnsafeMutableBufferPointer<UInt8>
    private let source: [UInt8]
    private let file: String

    /// Creates a parser over a copy of `bytes`, which must already be known to be UTF-8 (or
    /// invalid UTF-8: libyaml reports that), not UTF-16.
    init(bytes: [UInt8], file: String) throws(YAMLError) {
        self.source = bytes
        self.file = file
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        parser = .allocate(capacity: 1)
        event = .allocate(capacity: 1)
        guard yaml_parser_initialize(parser) != 0 else {
            parser.deallocate()
            event.deallocate()
            input.deallocate()
            throw YAMLError(file: file, mark: Mark(line: 1, column: 1), message: outOfMemory)
        }
        yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        event.deallocate()
        input.deallocate()
    }

    /// The next event; throws the libyaml error, translated, when the input is not valid YAML.
    func next() throws(YAMLError) -> Event {
        guard yaml_parser_parse(parser, event) != 0 else {
            throw LibYAMLError(parser.pointee).yamlError(file: file, source: source)
        }
        defer { yaml_event_delete(event) }
        return convert(event.pointee)
    }

    private func convert(_ event: yaml_event_t) -> Event {
        let mark = Mark(event.start_mark)
        switch event.type {
        case YAML_SCALAR_EVENT:
            let data = event.data.scalar
            let bytes = UnsafeBufferPointer(start: data.value, count: data.length)
            let scalar = Node.Scalar(
                text: String(decoding: bytes, as: UTF8.self),
                style: Node.ScalarStyle(data.style),
                tag: string(data.tag)
            )
            return .scalar(scalar, anchor: string(data.anchor), mark: mark)
        case YAML_ALIAS_EVENT:
            return .alias(anchor: string(event.data.alias.anchor) ?? "", mark: mark)
        case YAML_SEQUENCE_START_EVENT:
            return .sequenceStart(anchor: string(event.data.sequence_start.anchor), mark: mark)
        case YAML_SEQUENCE_END_EVENT:
            return .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            return .mappingStart(anchor: string(event.data.mapping_start.anchor), mark: mark)
        case YAML_MAPPING_END_EVENT:
            return .mappingEnd
        case YAML_DOCUMENT_START_EVENT:
            return .documentStart(mark)
        case YAML_DOCUMENT_END_EVENT:
            return .documentEnd
        case YAML_STREAM_START_EVENT:
            return .streamStart
        default:
            return .streamEnd
        }
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}

let outOfMemory = "not enough memory to read the file"

extension Mark {
    /// Converts libyaml's 0-based mark.
    init(_ mark: yaml_mark_t) {
        self.init(line: mark.line + 1, column: mark.column + 1)
    }
}

extension Node.ScalarStyle {
    init(_ style: yaml_scalar_style_t) {
        switch style {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: self = .singleQuoted
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: self = .doubleQuoted
        case YAML_LITERAL_SCALAR_STYLE: self = .literal
        case YAML_FOLDED_SCALAR_STYLE: self = .folded
        default: self = .plain
        }
    }
}
