/// The request line and header fields of one HTTP/1.x request.
struct HTTPHead: Sendable {
    var method: String
    var target: String
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    var minorVersion: Int
    /// Header fields in the order received, names as sent.
    var fields: [(name: String, value: String)]
    var framing: BodyFraming

    /// The value of the first field with this name, compared case-insensitively.
    func value(of name: String) -> String? {
        fields.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Whether the connection stays open after the reply: HTTP/1.1 unless `Connection: close`,
    /// HTTP/1.0 only with `Connection: keep-alive`.
    var keepAlive: Bool {
        let tokens = connectionTokens
        if minorVersion == 0 { return tokens.contains("keep-alive") }
        return !tokens.contains("close")
    }

    /// Whether the client waits for `100 Continue` before sending its body (libcurl does so
    /// for bodies over 1 KiB).
    var expectsContinue: Bool {
        value(of: "Expect")?.lowercased() == "100-continue"
    }

    private var connectionTokens: [String] {
        fields.filter { $0.name.caseInsensitiveEquals("Connection") }
            .flatMap { $0.value.split(separator: ",") }
            .map { $0.trimmingSpaces().lowercased() }
    }
}

/// How the body of a request is delimited.
enum BodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}

/// A complete request: head and decoded body.
struct HTTPRequest: Sendable {
    var head: HTTPHead
    var body: [UInt8]
}

/// Why bytes from a client are not an acceptable request.
enum HTTPParseError: Error, Equatable {
    /// Not HTTP/1.x as RFC 9112 spells it: answered with 400.
    case malformed(String)
    /// Larger than the server accepts: answered with 413.
    case tooLarge(String)
    /// An HTTP version other than 1.0 or 1.1: answered with 505.
    case unsupportedVersion(String)

    var status: Int {
        switch self {
        case .malformed: 400
        case .tooLarge: 413
        case .unsupportedVersion: 505
        }
    }

    var reason: String {
        switch self {
        case .malformed(let text), .tooLarge(let text), .unsupportedVersion(let text): text
        }
    }
}

/// The bounds on what one request may be.
struct HTTPLimits: Sendable {
    /// Request line plus header fields, with the blank line that ends them.
    var maximumHeadBytes = 16 * 1024
    /// The decoded body.
    var maximumBodyBytes = 1024 * 1024
}

extension String {
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let left = utf8
        let right = other.utf8
        guard left.count == right.count else { return false }
        for (a, b) in zip(left, right) where a != b {
            guard a | 0x20 == b | 0x20, (a | 0x20) >= 0x61, (a | 0x20) <= 0x7A else { return false }
        }
        return true
    }

    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

extension Substring {
    func trimmingSpaces() -> String { String(self).trimmingSpaces() }
}
