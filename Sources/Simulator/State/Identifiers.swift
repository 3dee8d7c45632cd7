import ChkflowCore
import Synchronization

/// Random identifiers in the shapes a real management server uses.
enum Identifiers {
    /// A session id: 32 random bytes in unpadded base64url, 43 characters.
    static func sessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return base64URL(bytes)
    }

    /// A random (version 4) UUID in lowercase, as task ids and uids are.
    static func uuid() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        return format(bytes)
    }

    /// A UUID derived from a name, the same in every run (for domains, which a real server
    /// also keeps for ever).
    static func stableUUID(for name: String) -> String {
        if let known = stableUUIDs.withLock({ $0[name] }) { return known }
        let made = makeStableUUID(for: name)
        stableUUIDs.withLock { if $0.count < 10_000 { $0[name] = made } }
        return made
    }

    /// The stable UUIDs made so far: every show-task names its domain's, and hashing the name
    /// each time cost more than the rest of the reply.
    private static let stableUUIDs = Mutex<[String: String]>([:])

    private static func makeStableUUID(for name: String) -> String {
        var bytes = Array(SHA256.digest(Array(("chkflow-simulator:" + name).utf8)).prefix(16))
        bytes[6] = bytes[6] & 0x0F | 0x50
        bytes[8] = bytes[8] & 0x3F | 0x80
        return format(bytes)
    }

    private static func format(_ bytes: [UInt8]) -> String {
        let hex = bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]]
            .map { $0.joined() }.joined(separator: "-")
    }

    /// Whether a text has the shape of a UUID (8-4-4-4-12 hexadecimal digits).
    static func isUUID(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 36 else { return false }
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return false }
            } else if ASCII.hexValue(byte) == nil {
                return false
            }
        }
        return true
    }

    /// How the request log names a session: the first 8 hex digits of the SHA-256 of its sid.
    static func sessionHash(_ sid: String) -> String {
        String(SHA256.hex(Array(sid.utf8)).prefix(8))
    }

    private static let alphabet = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8
    )

    static func base64URL(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = bytes[index..<min(index + 3, bytes.count)]
            let value = chunk.enumerated().reduce(UInt32(0)) {
                $0 | UInt32($1.element) << (16 - 8 * UInt32($1.offset))
            }
            for position in 0...chunk.count {
                output.append(alphabet[Int(value >> UInt32(18 - 6 * position) & 0x3F)])
            }
            index += 3
        }
        return String(decoding: output, as: UTF8.self)
    }
}
