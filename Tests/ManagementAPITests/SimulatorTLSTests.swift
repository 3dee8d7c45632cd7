import ChkflowCore
import Foundation
import Simulator
import Testing

@testable import ManagementAPI

private let admin = Credentials.password(user: "admin", password: "chkflow")

/// Runs `body` against the simulator serving HTTPS with a fresh self-signed certificate.
private func withHTTPSSimulator(
    _ body: (SimulatorServer, TLSIdentity) async throws -> Void
) async throws {
    let identity = try TLSIdentity.selfSigned()
    let server = SimulatorServer()
    try server.start(tls: identity)
    defer { server.stop() }
    try await body(server, identity)
}

@Suite(
    "TLS policies against the simulator's HTTPS",
    .enabled(if: SimulatorServer.supportsTLS, "this build of the simulator has no OpenSSL")
)
struct SimulatorTLSTests {
    @Test func theSelfSignedSimulatorIsRefusedByDefault() async throws {
        try await withHTTPSSimulator { server, _ in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            let error = await #expect(throws: APIError.self) { try await session.login(admin) }
            #expect(error?.kind == .tls)
            #expect(error?.requestMayHaveReachedServer == false)
            #expect(server.requests.isEmpty)
        }
    }

    @Test func itsCertificateAsACAFileIsAccepted() async throws {
        try await withHTTPSSimulator { server, identity in
            let path = NSTemporaryDirectory() + "chkflow-ca-\(UUID().uuidString).pem"
            try identity.certificatePEM.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let session = Session(endpoint: Endpoint(url: server.baseURL, tls: .caFile(path)))
            _ = try await session.login(admin)
            try await session.logout()
            #expect(server.requests.map(\.command) == ["login", "logout"])
            #expect(Set(server.requests.map(\.connection)).count == 1)
        }
    }

    @Test func itsPrintedFingerprintIsAccepted() async throws {
        try await withHTTPSSimulator { server, identity in
            let endpoint = Endpoint(
                url: server.baseURL,
                tls: .fingerprint(identity.sha256Fingerprint)
            )
            let session = Session(endpoint: endpoint)
            _ = try await session.login(admin)
            _ = try await session.call("show-session")
            #expect(server.requests.map(\.command) == ["login", "show-session"])
        }
    }

    @Test func aPinMismatchSendsNoLogin() async throws {
        try await withHTTPSSimulator { server, identity in
            let other = try TLSIdentity.selfSigned()
            let endpoint = Endpoint(url: server.baseURL, tls: .fingerprint(other.sha256Fingerprint))
            let session = Session(endpoint: endpoint)
            let error = await #expect(throws: APIError.self) { try await session.login(admin) }
            #expect(
                error?.description
                    == "login: TLS error: the server's certificate does not match the pinned"
                    + " fingerprint (SHA-256 \(other.sha256Fingerprint)); it presented SHA-256"
                    + " \(identity.sha256Fingerprint); nothing was sent to it"
            )
            #expect(server.requests.isEmpty)
        }
    }

    @Test func insecureIsAccepted() async throws {
        try await withHTTPSSimulator { server, _ in
            let endpoint = Endpoint(url: server.baseURL, tls: .insecure)
            let session = Session(endpoint: endpoint)
            _ = try await session.login(admin)
            #expect(server.requests.map(\.command) == ["login"])
            #expect(endpoint.tlsWarning != nil)
        }
    }
}

@Suite(
    "Transport warm-up",
    .enabled(if: SimulatorServer.supportsTLS, "this build of the simulator has no OpenSSL")
)
struct TransportWarmUpTests {
    @Test func aWarmUpStartedTwiceLeavesPinnedLoginsWorking() async throws {
        // The login may come while the warm-up runs: libcurl's set-up is done once, under a lock.
        TransportWarmUp.begin()
        TransportWarmUp.begin()
        try await withHTTPSSimulator { server, identity in
            let pin = Endpoint(url: server.baseURL, tls: .fingerprint(identity.sha256Fingerprint))
            let session = Session(endpoint: pin)
            _ = try await session.login(admin)
            try await session.logout()
            #expect(server.requests.map(\.command) == ["login", "logout"])
            #expect(await session.statistics.connections == 1)
        }
    }
}
