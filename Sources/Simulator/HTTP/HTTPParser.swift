/// Incremental parsing of HTTP/1.x requests from the bytes a connection has received so far.
///
/// Every function looks at a buffer that may hold part of a request, several requests, or
/// garbage; each either says it needs more bytes, returns what it parsed, or throws an
/// `HTTPParseError` that the connection answers and then closes on.
enum HTTPParser {
    /// What the body parser found after the head.
    enum BodyProgress: Equatable {
        case incomplete
        /// The decoded body and the index just past the request.
        case complete(body: [UInt8], end: Int)
    }

    /// The index of the first byte that is not part of the empty lines a client may send
    /// between requests (RFC 9112 §2.2 lets a server skip them).
    static func skipEmptyLines(in buffer: [UInt8], from start: Int) -> Int {
        var index = start
        while index < buffer.count, buffer[index] == ASCII.cr || buffer[index] == ASCII.lf {
            index += 1
        }
        return index
    }

    /// The index just past the blank line that ends the head, or nil while it has not arrived.
    static func headEnd(in buffer: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < buffer.count {
            if buffer[index] == ASCII.lf {
                if index + 1 < buffer.count, buffer[index + 1] == ASCII.lf { return index + 2 }
                if index + 2 < buffer.count, buffer[index + 1] == ASCII.cr,
                    buffer[index + 2] == ASCII.lf
                {
                    return index + 3
                }
            }
            index += 1
        }
        return nil
    }

    /// Whether the first line has arrived; throws when it has and is not a request line.
    ///
    /// This answers garbage at once instead of when the request timeout ends.
    static func checkRequestLine(in buffer: [UInt8]) throws(HTTPParseError) -> Bool {
        guard var end = buffer.firstIndex(of: ASCII.lf) else { return false }
        if end > 0, buffer[end - 1] == ASCII.cr { end -= 1 }
        _ = try parseRequestLine(buffer[..<end])
        return true
    }

    /// Parses the request line and header fields in `buffer[start..<end]`.
    static func parseHead(
        _ buffer: [UInt8],
        from start: Int,
        to end: Int,
        limits: HTTPLimits
    ) throws(HTTPParseError) -> HTTPHead {
        let lines = try lineRanges(buffer, from: start, to: end)
        guard let first = lines.first else { throw .malformed("empty request") }
        var head = try parseRequestLine(buffer[first])
        head.fields.reserveCapacity(lines.count - 1)
        for line in lines.dropFirst() where !line.isEmpty {
            head.fields.append(try parseField(buffer[line]))
        }
        head.framing = try framing(of: head, limits: limits)
        return head
    }

    /// Looks for the complete body of a request whose head ended at `start`.
    static func body(
        _ framing: BodyFraming,
        in buffer: [UInt8],
        from start: Int,
        limits: HTTPLimits
    ) throws(HTTPParseError) -> BodyProgress {
        switch framing {
        case .none:
            return .complete(body: [], end: start)
        case .length(let length):
            guard buffer.count - start >= length else { return .incomplete }
            return .complete(body: Array(buffer[start..<start + length]), end: start + length)
        case .chunked:
            var decoder = ChunkedDecoder(buffer: buffer, index: start, limits: limits)
            return try decoder.decode()
        }
    }

    /// Where the lines of `buffer[start..<end]` are, without their CR LF or LF, and without the
    /// empty lines at the end.
    private static func lineRanges(
        _ buffer: [UInt8],
        from start: Int,
        to end: Int
    ) throws(HTTPParseError) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var lineStart = start
        var index = start
        while index <= end {
            guard index == end || buffer[index] == ASCII.lf else {
                index += 1
                continue
            }
            var lineEnd = index
            if lineEnd > lineStart, buffer[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
            guard !buffer[lineStart..<lineEnd].contains(ASCII.cr) else {
                throw .malformed("bare CR in the head")
            }
            lines.append(lineStart..<lineEnd)
            index += 1
            lineStart = index
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    private static func parseRequestLine(
        _ line: ArraySlice<UInt8>
    ) throws(HTTPParseError) -> HTTPHead {
        let parts = line.split(separator: ASCII.space, omittingEmptySubsequences: false)
        guard parts.count == 3 else {
            throw .malformed("request line is not METHOD TARGET VERSION")
        }
        guard !parts[0].isEmpty, parts[0].allSatisfy(ASCII.isTokenByte) else {
            throw .malformed("invalid method")
        }
        guard parts[1].first == ASCII.slash, parts[1].allSatisfy(ASCII.isVisible) else {
            throw .malformed("invalid request target")
        }
        let version = String(decoding: parts[2], as: UTF8.self)
        return HTTPHead(
            method: String(decoding: parts[0], as: UTF8.self),
            target: String(decoding: parts[1], as: UTF8.self),
            minorVersion: try minorVersion(of: version),
            fields: [],
            framing: .none
        )
    }

    private static func minorVersion(of version: String) throws(HTTPParseError) -> Int {
        switch version {
        case "HTTP/1.1": return 1
        case "HTTP/1.0": return 0
        default:
            let bytes = Array(version.utf8)
            let shaped =
                bytes.count == 8 && version.hasPrefix("HTTP/") && bytes[6] == ASCII.dot
                && ASCII.isDigit(bytes[5]) && ASCII.isDigit(bytes[7])
            if shaped { throw .unsupportedVersion("HTTP version \(version) is not supported") }
            throw .malformed("invalid HTTP version")
        }
    }

    private static func parseField(
        _ line: ArraySlice<UInt8>
    ) throws(HTTPParseError) -> (name: String, value: String) {
        guard line.first != ASCII.space, line.first != ASCII.tab else {
            throw .malformed("folded header lines are not accepted")
        }
        guard let colon = line.firstIndex(of: ASCII.colon), colon > 0,
            line[..<colon].allSatisfy(ASCII.isTokenByte)
        else { throw .malformed("invalid header field") }
        let value = line[(colon + 1)...]
        guard value.allSatisfy({ $0 == ASCII.tab || $0 >= ASCII.space && $0 != 0x7F }) else {
            throw .malformed("control character in a header value")
        }
        let name = String(decoding: line[..<colon], as: UTF8.self)
        var first = value.startIndex
        var last = value.endIndex
        while first < last, value[first] == ASCII.space || value[first] == ASCII.tab { first += 1 }
        while last > first, value[last - 1] == ASCII.space || value[last - 1] == ASCII.tab {
            last -= 1
        }
        return (name, String(decoding: value[first..<last], as: UTF8.self))
    }

    private static func framing(
        of head: HTTPHead,
        limits: HTTPLimits
    ) throws(HTTPParseError) -> BodyFraming {
        let lengths = head.fields.filter { $0.name.caseInsensitiveEquals("Content-Length") }
        let encodings = head.fields.filter { $0.name.caseInsensitiveEquals("Transfer-Encoding") }
        if !encodings.isEmpty {
            guard lengths.isEmpty else {
                throw .malformed("both Transfer-Encoding and Content-Length are present")
            }
            let codings = encodings.flatMap { $0.value.split(separator: ",") }
                .map { $0.trimmingSpaces().lowercased() }
            guard codings == ["chunked"] else {
                throw .malformed("only the chunked transfer coding is accepted")
            }
            return .chunked
        }
        guard let first = lengths.first else { return .none }
        guard lengths.allSatisfy({ $0.value == first.value }) else {
            throw .malformed("conflicting Content-Length values")
        }
        guard !first.value.isEmpty, first.value.utf8.count <= 18,
            first.value.utf8.allSatisfy(ASCII.isDigit), let length = Int(first.value)
        else { throw .malformed("invalid Content-Length") }
        guard length <= limits.maximumBodyBytes else {
            throw .tooLarge("request body larger than \(limits.maximumBodyBytes) bytes")
        }
        return length == 0 ? .none : .length(length)
    }
}

/// Decodes a chunked body (RFC 9112 §7.1) from a buffer that may not hold all of it yet.
private struct ChunkedDecoder {
    let buffer: [UInt8]
    var index: Int
    let limits: HTTPLimits
    var body: [UInt8] = []

    init(buffer: [UInt8], index: Int, limits: HTTPLimits) {
        self.buffer = buffer
        self.index = index
        self.limits = limits
    }

    /// The longest chunk-size line accepted, extensions included.
    private static let maximumLineBytes = 1024

    mutating func decode() throws(HTTPParseError) -> HTTPParser.BodyProgress {
        while true {
            guard let line = try nextLine() else { return .incomplete }
            let size = try chunkSize(line)
            if size == 0 { return try trailers() }
            guard body.count + size <= limits.maximumBodyBytes else {
                throw .tooLarge("request body larger than \(limits.maximumBodyBytes) bytes")
            }
            guard buffer.count - index >= size + 2 else { return .incomplete }
            body.append(contentsOf: buffer[index..<index + size])
            index += size
            guard buffer[index] == ASCII.cr, buffer[index + 1] == ASCII.lf else {
                throw .malformed("chunk data not followed by CRLF")
            }
            index += 2
        }
    }

    /// The next CRLF-terminated line without its terminator, or nil while incomplete.
    private mutating func nextLine() throws(HTTPParseError) -> ArraySlice<UInt8>? {
        var end = index
        while end < buffer.count, buffer[end] != ASCII.lf {
            end += 1
            if end - index > Self.maximumLineBytes { throw .malformed("chunk line too long") }
        }
        guard end < buffer.count else { return nil }
        guard end > index, buffer[end - 1] == ASCII.cr else {
            throw .malformed("chunk line not ended by CRLF")
        }
        let line = buffer[index..<end - 1]
        index = end + 1
        return line
    }

    private func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        let digits = line.prefix { ASCII.hexValue($0) != nil }
        guard !digits.isEmpty, digits.count <= 8 else { throw .malformed("invalid chunk size") }
        let rest = line.dropFirst(digits.count)
        guard
            rest.isEmpty || rest.first == ASCII.semicolon || rest.first == ASCII.space
                || rest.first == ASCII.tab
        else { throw .malformed("invalid chunk size") }
        return digits.reduce(0) { $0 * 16 + Int(ASCII.hexValue($1) ?? 0) }
    }

    private mutating func trailers() throws(HTTPParseError) -> HTTPParser.BodyProgress {
        while true {
            guard let line = try nextLine() else { return .incomplete }
            if line.isEmpty { return .complete(body: body, end: index) }
        }
    }
}

/// Byte values and classes the parser needs.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let dot: UInt8 = 0x2E
    static let slash: UInt8 = 0x2F
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B

    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    static func isVisible(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7F }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }

    /// The `tchar` set of RFC 9110 §5.6.2.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
            UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }
}
