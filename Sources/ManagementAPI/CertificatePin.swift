import ChkflowCore

/// A fingerprint pin: the SHA-256 of the server certificate an administrator has checked.
///
/// libcurl can pin a public key (`CURLOPT_PINNEDPUBLICKEY`) but not a certificate. So the
/// client first opens a handshake-only connection (`CURLOPT_CONNECT_ONLY`), reads the server's
/// certificate (`CURLOPT_CERTINFO`), and compares its SHA-256 with the pin before any request is
/// sent. When they match, the certificate's public key becomes a libcurl key pin for every
/// connection of the session, so each later handshake is refused unless the server proves it
/// holds the same key: a certificate swapped in after the check cannot slip through.
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

/// What the client needs out of a certificate.
enum Certificate {
    /// The DER bytes of the first certificate in PEM text.
    static func der(fromPEM pem: String) -> [UInt8]? {
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        guard let start = pem.firstRange(of: begin), let stop = pem.firstRange(of: end),
            start.upperBound <= stop.lowerBound
        else { return nil }
        return Base64.decode(String(pem[start.upperBound..<stop.lowerBound]))
    }

    /// The DER of the SubjectPublicKeyInfo inside a certificate (RFC 5280 4.1).
    static func subjectPublicKeyInfo(_ der: [UInt8]) -> [UInt8]? {
        var reader = DERReader(der[...])
        guard let certificate = reader.next(), certificate.tag == 0x30 else { return nil }
        var fields = DERReader(certificate.content)
        guard let tbs = fields.next(), tbs.tag == 0x30 else { return nil }
        var items = DERReader(tbs.content)
        guard var item = items.next() else { return nil }
        if item.tag == 0xA0 {
            guard let serial = items.next() else { return nil }
            item = serial
        }
        // After the serial number: signature, issuer, validity, subject, then the key.
        for _ in 0..<4 { guard items.next() != nil else { return nil } }
        guard let key = items.next(), key.tag == 0x30 else { return nil }
        return Array(key.whole)
    }
}

/// Reads DER type-length-value items one after another.
private struct DERReader {
    struct Item {
        var tag: UInt8
        var content: ArraySlice<UInt8>
        var whole: ArraySlice<UInt8>
    }

    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func next() -> Item? {
        let start = bytes.startIndex
        guard bytes.count >= 2 else { return nil }
        let tag = bytes[start]
        var index = start + 1
        var length = Int(bytes[index])
        index += 1
        if length >= 0x80 {
            let count = length & 0x7F
            guard (1...4).contains(count), index + count <= bytes.endIndex else { return nil }
            length = 0
            for byte in bytes[index..<index + count] { length = length << 8 | Int(byte) }
            index += count
        }
        guard length <= bytes.endIndex - index else { return nil }
        let end = index + length
        let item = Item(tag: tag, content: bytes[index..<end], whole: bytes[start..<end])
        bytes = bytes[end...]
        return item
    }
}

/// Base64 as PEM and libcurl's key pins use it.
enum Base64 {
    private static let alphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            var value = 0
            for (position, byte) in chunk.enumerated() { value |= Int(byte) << (16 - 8 * position) }
            for position in 0..<4 {
                output.append(
                    position <= chunk.count ? alphabet[(value >> (18 - 6 * position)) & 63] : 61
                )
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes, skipping whitespace; nil on any other character outside the alphabet.
    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var value = 0
        var bits = 0
        for byte in text.utf8 {
            if byte == 61 { break }
            if byte == 10 || byte == 13 || byte == 32 || byte == 9 { continue }
            guard let digit = alphabet.firstIndex(of: byte) else { return nil }
            value = value << 6 | digit
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((value >> bits) & 0xFF))
            }
        }
        return output
    }
}
