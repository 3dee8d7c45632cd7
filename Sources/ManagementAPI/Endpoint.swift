/// How the client decides whether to trust the management server's certificate.
public enum TLSPolicy: Sendable, Equatable {
    /// Verify the certificate chain and host name against the system's trust store.
    case system
    /// Verify the certificate chain and host name against the CA certificates in this PEM file
    /// only; the system store is not consulted.
    case caFile(String)
    /// Accept exactly the server certificate whose SHA-256 fingerprint this is (hex, with or
    /// without colons), whoever issued it.
    case fingerprint(String)
    /// Verify nothing. Only for a lab; the caller must announce it on every run.
    case insecure
}

/// Where a management server listens and how to talk to it.
public struct Endpoint: Sendable {
    /// `https://host[:port]`, or `http://127.0.0.1:port` for a server on this machine; the
    /// client appends `/web_api/<command>`.
    public var url: String
    public var tls: TLSPolicy = .system
    /// Seconds allowed to open the TCP connection and finish the TLS handshake.
    public var connectTimeout: Double = 10
    /// Seconds allowed for one whole request, from connecting to the last byte of the reply.
    public var requestTimeout: Double = 120

    public init(
        url: String,
        tls: TLSPolicy = .system,
        connectTimeout: Double = 10,
        requestTimeout: Double = 120
    ) {
        self.url = url
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
    }
}

/// What an administrator logs in with.
public enum Credentials: Sendable {
    case password(user: String, password: String)
    case apiKey(String)
}

/// The optional fields of a login request.
public struct LoginOptions: Sendable {
    /// The domain to log in to, by name or UID; nil for the server's default domain.
    public var domain: String?
    public var readOnly: Bool = false
    public var sessionName: String?
    /// The idle timeout of the session in seconds (the server's default is 600).
    public var sessionTimeout: Int?

    public init(
        domain: String? = nil,
        readOnly: Bool = false,
        sessionName: String? = nil,
        sessionTimeout: Int? = nil
    ) {
        self.domain = domain
        self.readOnly = readOnly
        self.sessionName = sessionName
        self.sessionTimeout = sessionTimeout
    }
}

/// The parts of an endpoint URL the client needs, checked once.
struct ServerAddress: Equatable {
    var isHTTPS: Bool
    var host: String
    var port: Int?
    /// The URL up to and without `/web_api`, without a trailing slash.
    var base: String

    /// Whether the host is this machine: 127.0.0.0/8, ::1 or `localhost`.
    var isLoopback: Bool {
        if host.lowercased() == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets.first == "127" else { return false }
        return octets.allSatisfy { part in
            guard part.allSatisfy(\.isASCII), let value = Int(part) else { return false }
            return (0...255).contains(value)
        }
    }

    /// Parses `scheme://host[:port][/prefix]`.
    static func parse(_ url: String) -> Result<ServerAddress, AddressError> {
        let lowered = url.lowercased()
        let isHTTPS: Bool
        let rest: Substring
        if lowered.hasPrefix("https://") {
            isHTTPS = true
            rest = url.dropFirst(8)
        } else if lowered.hasPrefix("http://") {
            isHTTPS = false
            rest = url.dropFirst(7)
        } else {
            return .failure(
                AddressError("the server URL must start with https:// (got \"\(url)\")")
            )
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let path = rest.dropFirst(authority.count)
        guard !path.contains("?"), !path.contains("#") else {
            return .failure(AddressError("the server URL must not have a query or a fragment"))
        }
        guard !authority.contains("@") else {
            return .failure(AddressError("the server URL must not carry a user name or password"))
        }
        guard let (host, port) = splitHostPort(authority) else {
            return .failure(AddressError("the server URL has no valid host and port: \"\(url)\""))
        }
        var base = String(url.dropLast(path.count)) + path
        while base.hasSuffix("/") { base.removeLast() }
        return .success(ServerAddress(isHTTPS: isHTTPS, host: host, port: port, base: base))
    }

    private static func splitHostPort(_ authority: Substring) -> (String, Int?)? {
        var host = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(" ") else { return nil }
        guard let portText else { return (String(host), nil) }
        guard portText.allSatisfy(\.isASCII), let port = Int(portText), (1...65535).contains(port)
        else { return nil }
        return (String(host), port)
    }
}

/// Why an endpoint URL cannot be used.
struct AddressError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension Endpoint {
    /// The warning to show on every run that talks to this endpoint without verifying it, or
    /// nil when the endpoint is verified (or on this machine over plain HTTP).
    public var tlsWarning: String? {
        guard tls == .insecure, url.lowercased().hasPrefix("https://") else { return nil }
        return "TLS verification is off for \(url) (insecure): chkflow does not check that it"
            + " is talking to the real management server"
    }
}
