import ChkflowCore

/// A fingerprint pin: the SHA-256 of the server certificate an administrator has checked.
///
/// Every new connection of a pinned session checks it inside the TLS handshake (`PinCheck`), so
/// a server that presents any other certificate gets no request at all.
struct CertificatePin: Equatable {
    /// The 32 bytes of the SHA-256.
    var digest: [UInt8]

    /// Reads hex with or without colons or spaces, in either case; also accepts the output of
    /// `openssl x509 -noout -fingerprint -sha256` (`sha256 Fingerprint=AB:CD:…`).
    init?(_ text: String) {
        var hex = Substring(text)
        if let equals = hex.lastIndex(of: "=") { hex = hex[hex.index(after: equals)...] }
        let digits = hex.filter { $0 != ":" && $0 != " " && $0 != "\n" }
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        digest = bytes
    }

    init(digest: [UInt8]) { self.digest = digest }

    /// The pin of a DER-encoded certificate.
    init(certificate der: [UInt8]) { digest = SHA256.digest(der) }

    /// Upper-case hex with colons, as `openssl x509 -fingerprint` prints it.
    var text: String {
        digest.map { byte in
            let hex = String(byte, radix: 16, uppercase: true)
            return byte < 16 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    static let formatMessage =
        "the fingerprint must be the SHA-256 of the server certificate: 64 hex digits, with or"
        + " without colons"
}
