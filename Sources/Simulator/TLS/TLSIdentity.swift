/// The certificate and private key the simulator serves HTTPS with.
///
/// Clients that pin (chkflow, the Python SDK, `mgmt_cli`) are pointed at the simulator with the
/// fingerprints; clients that verify against a CA file can use `certificatePEM`, since the
/// certificate is self-signed.
public struct TLSIdentity: Sendable, Equatable {
    /// The certificate, PEM-encoded.
    public let certificatePEM: String
    /// The private key, PEM-encoded: a secret, never printed or logged.
    let privateKeyPEM: String
    /// SHA-256 of the DER certificate, upper-case hex pairs joined by colons.
    public let sha256Fingerprint: String
    /// SHA-1 of the DER certificate, as the Python SDK pins it (ignoring the colons).
    public let sha1Fingerprint: String

    /// A certificate and key read from PEM text, checked to belong together.
    public init(certificatePEM: String, privateKeyPEM: String) throws {
        let fingerprints = try OpenSSLSupport.fingerprints(
            certificatePEM: certificatePEM,
            privateKeyPEM: privateKeyPEM
        )
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        sha256Fingerprint = fingerprints.sha256
        sha1Fingerprint = fingerprints.sha1
    }

    /// A fresh self-signed certificate (ECDSA P-256, valid for a year from an hour ago) whose
    /// subject alternative names are `hosts`: IP addresses and DNS names.
    public static func selfSigned(
        hosts: [String] = ["127.0.0.1", "localhost"]
    ) throws -> TLSIdentity {
        let pair = try OpenSSLSupport.selfSigned(hosts: hosts)
        return try TLSIdentity(certificatePEM: pair.certificate, privateKeyPEM: pair.privateKey)
    }

    public static func == (lhs: TLSIdentity, rhs: TLSIdentity) -> Bool {
        lhs.certificatePEM == rhs.certificatePEM && lhs.privateKeyPEM == rhs.privateKeyPEM
    }
}

/// A TLS layer over one connection's socket, used only on the connection's loop thread.
protocol SecureChannel: AnyObject {
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Socket.Transfer
    func send(_ bytes: [UInt8], from offset: Int) -> Socket.Transfer
    /// Whether decrypted bytes wait inside the TLS layer, where poll cannot see them.
    var hasBufferedInput: Bool { get }
    /// Sends the TLS close_notify alert, best effort.
    func closeNotify()
}

/// Makes the TLS layer of each accepted connection.
protocol SecureChannelFactory: Sendable {
    func makeChannel(fd: Int32) -> (any SecureChannel)?
}
