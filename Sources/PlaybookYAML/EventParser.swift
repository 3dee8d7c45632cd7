internal import CYAML
import ChkflowCore

#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The owner of one libyaml parser and of the bytes or the file it reads.
///
/// libyaml pulls its input through `readInput`, a C callback that copies the next chunk of
/// the bytes, or reads it from the file, into libyaml's own buffer, so libyaml never holds a
/// pointer into Swift memory, the input needs no second copy, and a file is never held whole.
/// The callback finds this object through the context pointer libyaml passes back; that
/// pointer is unretained, which is safe because this object owns the libyaml parser and
/// deletes it in `deinit`, before the object itself goes away.
///
/// The `yaml_parser_t` and the event it fills live on the heap at fixed addresses, because
/// libyaml holds on to them between calls. Not `Sendable`: one parser belongs to one loading
/// call.
final class EventParser {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let event: UnsafeMutablePointer<yaml_event_t>
    private enum Input {
        case bytes([UInt8])
        /// An open regular file, which this parser closes; its bytes are hashed as they pass.
        case file(descriptor: Int32, path: String, maximumBytes: Int)
    }

    /// Why reading a file failed, when it did: libyaml then only knows that its input failed.
    enum InputFailure: Error {
        case file(FileReader.Failure)
        case utf16
    }

    private let input: Input
    private var readOffset = 0
    private let file: String
    private var hasher = SHA256.Hasher()
    private(set) var inputFailure: InputFailure?

    /// Creates a parser over `bytes`, which must not be UTF-16 (libyaml would decode it, and
    /// every position after that would disagree with the file).
    init(bytes: [UInt8], file: String) throws(YAMLError) {
        self.input = .bytes(bytes)
        self.file = file
        parser = .allocate(capacity: 1)
        event = .allocate(capacity: 1)
        guard yaml_parser_initialize(parser) != 0 else {
            parser.deallocate()
            event.deallocate()
            throw YAMLError(file: file, mark: Mark(line: 1, column: 1), message: outOfMemory)
        }
        yaml_parser_set_input(parser, readInput, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Creates a parser that reads the open regular file `descriptor` as libyaml asks for it.
    ///
    /// The parser closes the file when done. A file that starts as UTF-16 fails with
    /// `InputFailure.utf16`.
    init(descriptor: Int32, path: String, maximumBytes: Int) throws(YAMLError) {
        self.input = .file(descriptor: descriptor, path: path, maximumBytes: maximumBytes)
        self.file = path
        parser = .allocate(capacity: 1)
        event = .allocate(capacity: 1)
        guard yaml_parser_initialize(parser) != 0 else {
            parser.deallocate()
            event.deallocate()
            close(descriptor)
            throw YAMLError(file: path, mark: Mark(line: 1, column: 1), message: outOfMemory)
        }
        yaml_parser_set_input(parser, readInput, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        if case .file(let descriptor, _, _) = input { close(descriptor) }
        yaml_parser_delete(parser)
        parser.deallocate()
        event.deallocate()
    }

    /// Copies up to `capacity` bytes of the input from where the last call stopped; zero bytes
    /// means the end of the input, nil a failure to read the file (`inputFailure` says why).
    fileprivate func read(into buffer: UnsafeMutablePointer<UInt8>, capacity: Int) -> Int? {
        switch input {
        case .bytes(let source):
            let count = min(capacity, source.count - readOffset)
            source.withUnsafeBufferPointer { bytes in
                guard let start = bytes.baseAddress, count > 0 else { return }
                buffer.update(from: start + readOffset, count: count)
            }
            readOffset += count
            return count
        case .file(let descriptor, _, let maximumBytes):
            switch FileReader.readChunk(descriptor, into: buffer, capacity: capacity) {
            case .failure(let failure):
                inputFailure = .file(failure)
                return nil
            case .success(let count):
                if readOffset == 0, count >= 2,
                    (buffer[0], buffer[1]) == (0xFF, 0xFE) || (buffer[0], buffer[1]) == (0xFE, 0xFF)
                {
                    inputFailure = .utf16
                    return nil
                }
                readOffset += count
                guard readOffset <= maximumBytes else {
                    inputFailure = .file(.tooLarge)
                    return nil
                }
                hasher.update(UnsafeBufferPointer(start: buffer, count: count))
                return count
            }
        }
    }

    /// The SHA-256 of the file's bytes read so far, in lower-case hex.
    func fileDigest() -> String {
        let hasher = hasher
        return SHA256.hex(ofDigest: hasher.finalize())
    }

    /// The whole input, for the messages that quote it: a file is read again, as errors are
    /// rare and the parser does not keep what it has read.
    private func errorSource() -> [UInt8] {
        switch input {
        case .bytes(let source): source
        case .file(_, let path, let maximumBytes):
            (try? FileReader.bytes(atPath: path, maximumBytes: maximumBytes)) ?? []
        }
    }

    /// Parses one event and hands it to `composer`; false once the stream has ended.
    func parseEvent(into composer: inout Composer) throws(YAMLError) -> Bool {
        guard yaml_parser_parse(parser, event) != 0 else {
            throw LibYAMLError(parser.pointee).yamlError(file: file, source: errorSource())
        }
        defer { yaml_event_delete(event) }
        let mark = Mark(event.pointee.start_mark)
        switch event.pointee.type.rawValue {
        case YAML_SCALAR_EVENT.rawValue:
            let data = event.pointee.data.scalar
            let bytes = UnsafeBufferPointer(start: data.value, count: data.length)
            let scalar = Node.Scalar(
                text: String(decoding: bytes, as: UTF8.self),
                style: Node.ScalarStyle(data.style),
                tag: string(data.tag)
            )
            try composer.addScalar(consume scalar, anchor: string(data.anchor), at: mark)
        case YAML_ALIAS_EVENT.rawValue:
            try composer.addAlias(named: string(event.pointee.data.alias.anchor) ?? "", at: mark)
        case YAML_SEQUENCE_START_EVENT.rawValue:
            let anchor = string(event.pointee.data.sequence_start.anchor)
            try composer.openCollection(isMapping: false, anchor: anchor, at: mark)
        case YAML_MAPPING_START_EVENT.rawValue:
            let anchor = string(event.pointee.data.mapping_start.anchor)
            try composer.openCollection(isMapping: true, anchor: anchor, at: mark)
        case YAML_SEQUENCE_END_EVENT.rawValue, YAML_MAPPING_END_EVENT.rawValue:
            composer.closeCollection()
        case YAML_DOCUMENT_START_EVENT.rawValue:
            try composer.startDocument(at: mark)
        case YAML_STREAM_END_EVENT.rawValue, YAML_NO_EVENT.rawValue:
            return false
        default:
            break
        }
        return true
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}

let outOfMemory = "not enough memory to read the file"

extension Mark {
    /// Converts libyaml's 0-based mark.
    @inline(__always)
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

/// libyaml's read handler: fills `buffer` from the `EventParser` that `context` points to.
private func readInput(
    context: UnsafeMutableRawPointer?,
    buffer: UnsafeMutablePointer<UInt8>?,
    capacity: Int,
    count: UnsafeMutablePointer<Int>?
) -> Int32 {
    guard let context, let buffer, let count else { return 0 }
    let parser = Unmanaged<EventParser>.fromOpaque(context).takeUnretainedValue()
    guard let read = parser.read(into: buffer, capacity: capacity) else { return 0 }
    count.pointee = read
    return 1
}
