import ChkflowCore
import Foundation
import Testing

@testable import Simulator

@Suite("HTTPS")
struct TLSTests {
    @Test("without OpenSSL, asking for HTTPS says so", .enabled(if: !SimulatorServer.supportsTLS))
    func unavailable() throws {
        #expect(throws: SimulatorError.tlsUnavailable) { try TLSIdentity.selfSigned() }
    }

    @Test("a self-signed identity has both fingerprints", .enabled(if: SimulatorServer.supportsTLS))
    func selfSigned() throws {
        let identity = try TLSIdentity.selfSigned()
        #expect(identity.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(identity.sha256Fingerprint.split(separator: ":").count == 32)
        #expect(identity.sha1Fingerprint.split(separator: ":").count == 20)
        #expect(identity.sha256Fingerprint == identity.sha256Fingerprint.uppercased())
        let again = try TLSIdentity(
            certificatePEM: identity.certificatePEM,
            privateKeyPEM: identity.privateKeyPEM
        )
        #expect(again.sha256Fingerprint == identity.sha256Fingerprint)
        let other = try TLSIdentity.selfSigned()
        #expect(other.sha256Fingerprint != identity.sha256Fingerprint)
        #expect(throws: SimulatorError.self) {
            try TLSIdentity(
                certificatePEM: identity.certificatePEM,
                privateKeyPEM: other.privateKeyPEM
            )
        }
        #expect(throws: SimulatorError.self) {
            try TLSIdentity(certificatePEM: "garbage", privateKeyPEM: identity.privateKeyPEM)
        }
    }

    @Test(
        "curl logs in over HTTPS, trusting the certificate as its CA",
        .enabled(if: SimulatorServer.supportsTLS)
    )
    func curlOverTLS() throws {
        let identity = try TLSIdentity.selfSigned()
        let server = SimulatorServer()
        try server.start(tls: identity)
        defer { server.stop() }
        #expect(server.baseURL == "https://127.0.0.1:\(server.port)")
        let folder = NSTemporaryDirectory() + "chkflow-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try identity.certificatePEM.write(
            toFile: folder + "/ca.pem",
            atomically: true,
            encoding: .utf8
        )

        let login = try curl(
            server.baseURL + "/web_api/login",
            body: #"{"api-key": "chkflow-demo-key"}"#,
            ca: folder + "/ca.pem"
        )
        let reply = try JSON.parse(login)
        #expect(reply["url"] == .string(server.baseURL + "/web_api"))
        let sid = try #require(reply["sid"]?.stringValue)
        let keepalive = try curl(
            server.baseURL + "/web_api/keepalive",
            body: "{}",
            ca: folder + "/ca.pem",
            headers: ["X-chkp-sid: \(sid)"]
        )
        #expect(try JSON.parse(keepalive) == ["message": "OK"])
        #expect(server.requests.map(\.status) == [200, 200])
    }

    @Test(
        "plain HTTP and garbage on the HTTPS port are dropped; TLS clients go on",
        .enabled(if: SimulatorServer.supportsTLS)
    )
    func plainOnTLSPort() throws {
        let identity = try TLSIdentity.selfSigned()
        let server = SimulatorServer()
        try server.start(tls: identity)
        defer { server.stop() }
        let plain = try TestClient(port: server.port)
        try plain.send(TestClient.request("/web_api/keepalive"))
        #expect(plain.isClosedByServer())
        let garbage = try TestClient(port: server.port)
        try garbage.send(Array(repeating: 0x16, count: 5000))
        #expect(garbage.isClosedByServer())
        #expect(server.requests.isEmpty)

        let folder = NSTemporaryDirectory() + "chkflow-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try identity.certificatePEM.write(
            toFile: folder + "/ca.pem",
            atomically: true,
            encoding: .utf8
        )
        let login = try curl(
            server.baseURL + "/web_api/login",
            body: #"{"api-key": "chkflow-demo-key"}"#,
            ca: folder + "/ca.pem"
        )
        #expect(try JSON.parse(login)["sid"] != nil)
    }

    @Test(
        "a TLS client that leaves without reading its replies harms nothing",
        .enabled(if: SimulatorServer.supportsTLS)
    )
    func clientLeavesMidReply() throws {
        let server = SimulatorServer()
        try server.start(tls: try TLSIdentity.selfSigned())
        defer { server.stop() }
        let script = #"""
            import socket, ssl, sys
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            request = (b"POST /web_api/show-api-versions HTTP/1.1\r\nHost: x\r\n"
                       b"Content-Length: 2\r\n\r\n{}")
            for _ in range(20):
                raw = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
                secure = context.wrap_socket(raw)
                secure.sendall(request * 300)
                secure.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                secure.close()
            # The server still answers a client that reads its reply.
            secure = context.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1]))))
            secure.sendall(request)
            reply = b""
            while b"\r\n" not in reply:
                reply += secure.recv(4096)
            print(reply.split(b"\r\n")[0].decode())
            """#
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, String(server.port)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(
            decoding: pipe.fileHandleForReading.readDataToEndOfFile(),
            as: UTF8.self
        )
        process.waitUntilExit()
        #expect(output == "HTTP/1.1 401 Unauthorized\n")
        pause(seconds: 0.2)
        // Those that left may have gone before the server read a request: at least the last
        // client's request was served, and every one that was read got its refusal.
        #expect(server.requests.count > 0)
        #expect(server.requests.allSatisfy { $0.status == 401 })
    }

    private func curl(
        _ url: String,
        body: String,
        ca: String,
        headers: [String] = []
    ) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                "curl", "--silent", "--show-error", "--cacert", ca, "-H",
                "Content-Type: application/json",
            ]
            + headers.flatMap { ["-H", $0] } + ["--data", body, url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }
}
