import ChkflowCore

/// A failed management API call, with everything the server said about it.
public struct APIError: Error, Sendable, CustomStringConvertible {
    /// Where the failure came from.
    public enum Kind: Sendable {
        /// The server answered with an HTTP error.
        case server
        /// No usable reply: connection refused, timeout, reset.
        case transport
        /// Certificate verification or the fingerprint pin failed.
        case tls
        /// The reply is not the JSON the command should answer.
        case invalidReply
        /// The request cannot be made as asked, such as plain http:// to another machine.
        case usage
    }

    public var kind: Kind
    public var command: String
    public var httpStatus: Int?
    /// The Check Point error code, such as `err_too_many_requests`.
    public var code: String?
    /// The server's message, or for a non-JSON 403 and a 503, what the administrator should do.
    public var message: String
    public var errors: [String]
    public var warnings: [String]
    public var blockingErrors: [String]
    /// False only when the request certainly never left this machine (connection refused, name
    /// not resolved, TLS failure), so that a once-only command may be sent again.
    public var requestMayHaveReachedServer: Bool

    public init(
        kind: Kind,
        command: String,
        httpStatus: Int? = nil,
        code: String? = nil,
        message: String,
        errors: [String] = [],
        warnings: [String] = [],
        blockingErrors: [String] = [],
        requestMayHaveReachedServer: Bool
    ) {
        self.kind = kind
        self.command = command
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
        self.errors = errors
        self.warnings = warnings
        self.blockingErrors = blockingErrors
        self.requestMayHaveReachedServer = requestMayHaveReachedServer
    }

    /// The catalogue class of the code; transport failures count as transient, others as
    /// permanent.
    public var errorClass: ErrorClass {
        if let code { return ErrorCatalogue.errorClass(of: code) }
        switch kind {
        case .transport: return .transient
        case .server where httpStatus == 503: return .transient
        default: return .permanent
        }
    }

    /// The catalogue's entry for the code, nil for a code the reference does not list (or no
    /// code at all).
    public var catalogueEntry: ErrorCode? { code.flatMap { ErrorCatalogue.entry(for: $0) } }

    /// Whether a new login and the same request again can cure the failure.
    public var isSessionError: Bool { code.map { ErrorCatalogue.errorClass(of: $0) } == .session }

    /// One line: the command, the code and HTTP status, the message, then the detail arrays.
    public var description: String {
        var text = "\(command): "
        switch kind {
        case .server:
            if let code { text += code + " " }
            text += httpStatus.map { code == nil ? "HTTP \($0)" : "(HTTP \($0))" } ?? "server error"
        case .transport: text += "transport error"
        case .tls: text += "TLS error"
        case .invalidReply:
            text += httpStatus.map { "invalid reply (HTTP \($0))" } ?? "invalid reply"
        case .usage: text += "usage error"
        }
        text += ": " + message
        let details =
            blockingErrors.map { "blocking error: " + $0 } + errors.map { "error: " + $0 }
            + warnings.map { "warning: " + $0 }
        if !details.isEmpty { text += " (" + details.joined(separator: "; ") + ")" }
        return Self.oneLine(text)
    }

    static func oneLine(_ text: String) -> String {
        String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
    }

    /// The same error with every occurrence of a secret replaced, so that a server echoing the
    /// session id cannot leak it into a log or report.
    func redacting(_ secret: String?) -> APIError {
        guard let secret, !secret.isEmpty else { return self }
        func scrub(_ text: String) -> String {
            text.replacing(secret, with: "<session-id>")
        }
        var copy = self
        copy.message = scrub(message)
        copy.errors = errors.map(scrub)
        copy.warnings = warnings.map(scrub)
        copy.blockingErrors = blockingErrors.map(scrub)
        return copy
    }
}

extension APIError {
    /// What an administrator should do when the server refuses API calls from this address.
    static let forbiddenAdvice =
        "the management server accepts API calls only from allowed addresses and refused this"
        + " one; in SmartConsole open Manage & Settings > Blades > Management API > Advanced"
        + " Settings, allow this client's address (or all IP addresses), publish, then run"
        + " `api restart` on the management server"

    /// What an administrator should do when the API server is not serving.
    static let unavailableAdvice =
        "the Management API server is down or still starting; run `api status` on the"
        + " management server and try again once it reports the API as started"

    /// The error an HTTP reply other than 200 stands for.
    static func fromReply(command: String, status: Int, body: [UInt8]) -> APIError {
        guard let reply = try? JSON.parse(body), reply.objectValue != nil else {
            let message =
                switch status {
                case 403: forbiddenAdvice
                case 503: unavailableAdvice
                default: "the server answered HTTP \(status) with a body that is not JSON"
                }
            return APIError(
                kind: .server,
                command: command,
                httpStatus: status,
                message: message,
                requestMayHaveReachedServer: true
            )
        }
        let code = reply["code"]?.stringValue
        var message = reply["message"]?.stringValue ?? ""
        if message.isEmpty {
            message = status == 503 ? unavailableAdvice : "the server gave no message"
        }
        return APIError(
            kind: .server,
            command: command,
            httpStatus: status,
            code: code,
            message: message,
            errors: messages(reply["errors"]),
            warnings: messages(reply["warnings"]),
            blockingErrors: messages(reply["blocking-errors"]),
            requestMayHaveReachedServer: true
        )
    }

    /// The messages of an `errors`-style member: an array of `{message}` objects, an array of
    /// strings, or a single string.
    static func messages(_ value: JSON?) -> [String] {
        guard let value else { return [] }
        if let text = value.stringValue { return [text] }
        return (value.arrayValue ?? []).compactMap { item in
            item.stringValue ?? item["message"]?.stringValue
        }
    }

    static func invalidReply(_ command: String, status: Int?, _ message: String) -> APIError {
        APIError(
            kind: .invalidReply,
            command: command,
            httpStatus: status,
            message: message,
            requestMayHaveReachedServer: true
        )
    }

    static func usage(_ command: String, _ message: String) -> APIError {
        APIError(
            kind: .usage,
            command: command,
            message: message,
            requestMayHaveReachedServer: false
        )
    }
}
