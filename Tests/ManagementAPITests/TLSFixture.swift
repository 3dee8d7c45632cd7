import Foundation
import Testing

/// stunnel on a loopback port in front of a plain-HTTP test server, with a self-signed
/// certificate made by the openssl command for this fixture alone.
final class TLSFixture {
    static let stunnel = ["/usr/bin/stunnel4", "/usr/bin/stunnel"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static let openssl = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static var available: Bool { stunnel != nil && openssl != nil }
    static let skipReason: Comment =
        "TLS tests need stunnel4 and openssl on this machine (apt-get install -y stunnel4 openssl)"

    let directory: URL
    let port: Int
    private let process: Process

    var certificatePath: String { directory.appendingPathComponent("cert.pem").path }
    var url: String { "https://127.0.0.1:\(port)" }

    /// Makes a certificate for `subjectAltName` and starts stunnel towards `backendPort`.
    init(backendPort: Int, subjectAltName: String = "IP:127.0.0.1") throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("chkflow-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.run(
            Self.openssl ?? "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", "key.pem", "-out", "cert.pem", "-days", "2",
                "-subj", "/CN=chkflow test", "-addext", "subjectAltName=\(subjectAltName)",
            ],
            in: directory
        )
        port = try Self.freePort()
        let config = """
            foreground = yes
            pid =
            [api]
            accept = 127.0.0.1:\(port)
            connect = 127.0.0.1:\(backendPort)
            cert = \(directory.path)/cert.pem
            key = \(directory.path)/key.pem
            """
        let configPath = directory.appendingPathComponent("stunnel.conf")
        try config.write(to: configPath, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.stunnel ?? "stunnel4")
        process.arguments = [configPath.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitUntilListening()
    }

    func stop() {
        if process.isRunning {
            // SIGKILL: stunnel inherits a signal mask from the test's threads that blocks
            // SIGTERM, so a polite terminate() would never arrive.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it.
    func opensslFingerprint() throws -> String {
        try Self.run(
            Self.openssl ?? "openssl",
            ["x509", "-in", "cert.pem", "-noout", "-fingerprint", "-sha256"],
            in: directory
        )
    }

    /// The certificate in DER, as openssl writes it.
    func certificateDER() throws -> [UInt8] {
        _ = try Self.run(
            Self.openssl ?? "openssl",
            ["x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der"],
            in: directory
        )
        return Array(try Data(contentsOf: directory.appendingPathComponent("cert.der")))
    }

    @discardableResult
    private static func run(
        _ tool: String,
        _ arguments: [String],
        in directory: URL
    ) throws
        -> String
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FixtureError("\(tool) \(arguments.joined(separator: " ")) failed")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func freePort() throws -> Int {
        let probe = try LoopbackResponder { _ in .json(200, "{}") }
        defer { probe.stop() }
        return probe.port
    }

    private func waitUntilListening() throws {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            // sockaddr_in is laid out as the sockaddr connect() reads, during the call only.
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(fd)
            if connected == 0 { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        stop()
        throw FixtureError("stunnel did not start listening on port \(port)")
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
