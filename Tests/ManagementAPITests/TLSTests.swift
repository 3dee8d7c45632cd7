import ChkflowCore
import Foundation
import Simulator
import Testing

@testable import ManagementAPI

/// Runs `body` against stunnel in front of a fresh MiniServer.
private func withTLSServer(
    subjectAltName: String = "IP:127.0.0.1",
    _ body: (TLSFixture, LoopbackResponder) async throws -> Void
) async throws {
    let server = MiniServer()
    let responder = try LoopbackResponder(handler: server.reply)
    defer { responder.stop() }
    let fixture = try TLSFixture(backendPort: responder.port, subjectAltName: subjectAltName)
    defer { fixture.stop() }
    try await body(fixture, responder)
}

private let admin = Credentials.password(user: "admin", password: "chkflow")

@Suite("TLS policies against stunnel", .enabled(if: TLSFixture.available, TLSFixture.skipReason))
struct TLSTests {
    @Test func aSelfSignedServerIsRefusedByDefault() async throws {
        try await withTLSServer { fixture, responder in
            let session = Session(endpoint: Endpoint(url: fixture.url))
            let error = await #expect(throws: APIError.self) { try await session.login(admin) }
            #expect(error?.kind == .tls)
            #expect(error?.requestMayHaveReachedServer == false)
            #expect(
                error?.description.hasPrefix(
                    "login: TLS error: the server's certificate was not accepted: "
                ) == true
            )
            #expect(responder.requests.isEmpty)
        }
    }

    @Test func aCAFileIsAccepted() async throws {
        try await withTLSServer { fixture, responder in
            let endpoint = Endpoint(url: fixture.url, tls: .caFile(fixture.certificatePath))
            let session = Session(endpoint: endpoint)
            _ = try await session.login(admin)
            _ = try await session.call("show-session")
            try await session.logout()
            #expect(commands(responder) == ["login", "show-session", "logout"])
            #expect(await session.statistics.connections == 1)
            #expect(endpoint.tlsWarning == nil)
        }
    }

    @Test func aCAFileDoesNotExcuseAWrongHostName() async throws {
        try await withTLSServer(subjectAltName: "DNS:mgmt.example.com") { fixture, responder in
            let endpoint = Endpoint(url: fixture.url, tls: .caFile(fixture.certificatePath))
            let session = Session(endpoint: endpoint)
            let error = await #expect(throws: APIError.self) { try await session.login(admin) }
            #expect(error?.kind == .tls)
            #expect(responder.requests.isEmpty)
        }
    }

    @Test func aMatchingPinIsAcceptedInEverySpelling() async throws {
        try await withTLSServer { fixture, responder in
            let printed = try fixture.opensslFingerprint()
            let hex = String(printed.split(separator: "=").last ?? "")
            let spellings = [printed, hex, hex.replacing(":", with: "").lowercased()]
            for spelling in spellings {
                let session = Session(
                    endpoint: Endpoint(url: fixture.url, tls: .fingerprint(spelling))
                )
                _ = try await session.login(admin)
                _ = try await session.call("show-session")
                #expect(
                    await session.statistics == CallStatistics(calls: 2, logins: 1, connections: 1)
                )
            }
            #expect(responder.requests.count == 6)
        }
    }

    @Test func aPinMismatchStopsBeforeAnyCredentialIsSent() async throws {
        try await withTLSServer { fixture, responder in
            let wrong = String(repeating: "ab:", count: 31) + "ab"
            let session = Session(endpoint: Endpoint(url: fixture.url, tls: .fingerprint(wrong)))
            let error = await #expect(throws: APIError.self) { try await session.login(admin) }
            let presented = String(
                try fixture.opensslFingerprint().split(separator: "=").last ?? ""
            )
            #expect(error?.kind == .tls)
            #expect(error?.requestMayHaveReachedServer == false)
            #expect(
                error?.description
                    == "login: TLS error: the server's certificate does not match the pinned"
                    + " fingerprint (SHA-256 \(wrong.uppercased())); it presented SHA-256"
                    + " \(presented); nothing was sent to it"
            )
            #expect(responder.requests.isEmpty)
            #expect(await session.statistics.calls == 0)
            #expect(await !session.isLoggedIn)
        }
    }

    @Test func thePinIsCheckedBeforeTheSimulatorSeesAnyLogin() async throws {
        let server = SimulatorServer()
        try server.start()
        defer { server.stop() }
        let fixture = try TLSFixture(backendPort: Int(server.port))
        defer { fixture.stop() }
        let wrong = String(repeating: "0", count: 64)
        let session = Session(endpoint: Endpoint(url: fixture.url, tls: .fingerprint(wrong)))
        let error = await #expect(throws: APIError.self) { try await session.login(admin) }
        #expect(error?.kind == .tls)
        #expect(server.requests.isEmpty)

        let right = try fixture.opensslFingerprint()
        let pinned = Session(endpoint: Endpoint(url: fixture.url, tls: .fingerprint(right)))
        _ = try await pinned.login(admin)
        #expect(server.requests.map(\.command) == ["login"])
    }

    @Test func aMalformedPinIsAUsageError() async throws {
        let session = Session(
            endpoint: Endpoint(url: "https://127.0.0.1:1", tls: .fingerprint("abc"))
        )
        let error = await #expect(throws: APIError.self) { try await session.login(admin) }
        #expect(
            error?.description
                == "login: usage error: the fingerprint must be the SHA-256 of the server"
                + " certificate: 64 hex digits, with or without colons"
        )
    }

    @Test func insecureIsAcceptedAndAnnounced() async throws {
        try await withTLSServer { fixture, responder in
            let endpoint = Endpoint(url: fixture.url, tls: .insecure)
            let session = Session(endpoint: endpoint)
            _ = try await session.login(admin)
            #expect(commands(responder) == ["login"])
            #expect(
                endpoint.tlsWarning
                    == "TLS verification is off for \(fixture.url) (insecure): chkflow does not"
                    + " check that it is talking to the real management server"
            )
        }
    }

    @Test func thePinIsCheckedOnEveryNewConnection() async throws {
        try await withTLSServer { fixture, responder in
            let right = try #require(CertificatePin(try fixture.opensslFingerprint()))
            let wrong = try #require(CertificatePin(String(repeating: "7", count: 64)))
            let request = HTTPRequest(
                url: fixture.url + "/web_api/show-session",
                body: Array("{}".utf8),
                headers: [],
                freshConnection: true
            )
            let pinned = try #require(CurlTransport(settings: settings(pin: right)))
            for _ in 0..<3 { #expect(try await pinned.post(request).newConnections == 1) }
            #expect(responder.requests.count == 3)

            let refused = try #require(CurlTransport(settings: settings(pin: wrong)))
            for _ in 0..<2 {
                let error = await #expect(throws: TransportFailure.self) {
                    try await refused.post(request)
                }
                #expect(error?.kind == .tls)
                #expect(error?.message.hasPrefix("the server's certificate does not match") == true)
            }
            #expect(responder.requests.count == 3)
        }
    }

    @Test func aPinnedHandshakeThatFailsForAnotherReasonKeepsLibcurlsMessage() async throws {
        let pin = try #require(CertificatePin(String(repeating: "7", count: 64)))
        let transport = try #require(CurlTransport(settings: settings(pin: pin)))
        let request = HTTPRequest(url: "https://127.0.0.1:1/web_api/login", body: [], headers: [])
        let error = await #expect(throws: TransportFailure.self) {
            try await transport.post(request)
        }
        #expect(error?.kind == .transport)
        #expect(error?.message.hasPrefix("could not connect: ") == true)
    }

    @Test func readsTheCertificateLikeOpenSSL() async throws {
        try await withTLSServer { fixture, _ in
            let der = try fixture.certificateDER()
            #expect(
                CertificatePin(certificate: der) == CertificatePin(try fixture.opensslFingerprint())
            )
        }
    }
}

private func settings(pin: CertificatePin) -> TransportSettings {
    TransportSettings(
        tls: .fingerprint(pin.text),
        connectTimeout: 5,
        requestTimeout: 5,
        userAgent: "chkflow-test",
        noProxy: true,
        pin: pin
    )
}

@Suite("Digests and encodings")
struct DigestTests {
    @Test(arguments: [
        (
            "",
            "E3:B0:C4:42:98:FC:1C:14:9A:FB:F4:C8:99:6F:B9:24:27:AE:41:E4:64:9B:93:4C:A4:95:99:1B:78:52:B8:55"
        ),
        (
            "abc",
            "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD"
        ),
        (
            "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "24:8D:6A:61:D2:06:38:B8:E5:C0:26:93:0C:3E:60:39:A3:3C:E4:59:64:FF:21:67:F6:EC:ED:D4:19:DB:06:C1"
        ),
        (
            String(repeating: "a", count: 1000),
            "41:ED:EC:E4:2D:63:E8:D9:BF:51:5A:9B:A6:93:2E:1C:20:CB:C9:F5:A5:D1:34:64:5A:DB:5D:B1:B9:73:7E:A3"
        ),
    ])
    func sha256(input: String, digest: String) {
        #expect(CertificatePin(digest: SHA256.digest(Array(input.utf8))).text == digest)
    }

    @Test(arguments: [
        ("sha256 Fingerprint=AB:CD", false),
        (String(repeating: "0", count: 64), true),
        (String(repeating: "0A:", count: 31) + "0a", true),
        (String(repeating: "g", count: 64), false),
        (String(repeating: "0", count: 40), false),
    ])
    func pinsAreParsed(text: String, valid: Bool) {
        #expect((CertificatePin(text) != nil) == valid)
    }
}
