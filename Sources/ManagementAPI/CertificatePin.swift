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
    init(certificate der: [UInt8]) { digest = SHA256.hash(der) }

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

/// SHA-256 (FIPS 180-4), enough for certificate fingerprints; the toolchain on Linux has no
/// digest API without an extra package.
enum SHA256 {
    private static let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
        0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
        0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
        0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
        0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
        0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
        0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
        0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
        0xc671_78f2,
    ]

    static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: [UInt32] = [
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c,
            0x1f83_d9ab, 0x5be0_cd19,
        ]
        var padded = message
        padded.append(0x80)
        while padded.count % 64 != 56 { padded.append(0) }
        let bitLength = UInt64(message.count) &* 8
        for shift in stride(from: 56, through: 0, by: -8) {
            padded.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        var block = [UInt32](repeating: 0, count: 64)
        for start in stride(from: 0, to: padded.count, by: 64) {
            compress(padded[start..<start + 64], into: &state, schedule: &block)
        }
        return state.flatMap { word in
            [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: word >> UInt32($0)) }
        }
    }

    private static func compress(
        _ chunk: ArraySlice<UInt8>,
        into state: inout [UInt32],
        schedule w: inout [UInt32]
    ) {
        let base = chunk.startIndex
        for index in 0..<16 {
            let offset = base + index * 4
            w[index] =
                UInt32(chunk[offset]) << 24 | UInt32(chunk[offset + 1]) << 16
                | UInt32(chunk[offset + 2]) << 8 | UInt32(chunk[offset + 3])
        }
        for index in 16..<64 {
            let s0 = rotate(w[index - 15], 7) ^ rotate(w[index - 15], 18) ^ (w[index - 15] >> 3)
            let s1 = rotate(w[index - 2], 17) ^ rotate(w[index - 2], 19) ^ (w[index - 2] >> 10)
            w[index] = w[index - 16] &+ s0 &+ w[index - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, h) = (
            state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7]
        )
        for index in 0..<64 {
            let s1 = rotate(e, 6) ^ rotate(e, 11) ^ rotate(e, 25)
            let choice = (e & f) ^ (~e & g)
            let t1 = h &+ s1 &+ choice &+ k[index] &+ w[index]
            let s0 = rotate(a, 2) ^ rotate(a, 13) ^ rotate(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ majority
            (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        for (index, value) in [a, b, c, d, e, f, g, h].enumerated() { state[index] &+= value }
    }

    private static func rotate(_ value: UInt32, _ count: UInt32) -> UInt32 {
        value >> count | value << (32 - count)
    }
}
