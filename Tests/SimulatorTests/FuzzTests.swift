import ChkflowCore
import Foundation
import Testing

@testable import Simulator

/// Seeded random input: nothing a client sends may crash the server or stop it serving.
@Suite("Hostile input")
struct FuzzTests {
    static let commands = [
        "login", "login-to-domain", "logout", "keepalive", "show-session", "set-session", "publish",
        "discard", "show-api-versions", "show-domains", "export-management", "import-management",
        "show-task", "show-tasks",
    ]

    static let fields = [
        "user", "password", "api-key", "domain", "session-timeout", "read-only", "task-id",
        "details-level", "file-path", "domain-name", "version", "days-of-logs", "include-logs",
        "is-domain-backup", "is-smc-to-mds", "pre-export-verification-only", "limit", "offset",
        "order", "filter", "status", "from-date", "to-date", "initiator", "uid", "change-ips",
        "pre-import-verification-only", "new-name", "description",
    ]

    static func randomValue(_ generator: inout SeededGenerator, depth: Int = 0) -> JSON {
        switch Int.random(in: 0..<9, using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &generator))
        case 3: return .int(Int64.random(in: -5...600, using: &generator))
        case 4: return .double(Double.random(in: -1e300...1e300, using: &generator))
        case 5:
            return .string(
                ["", "full", "2000-01-01", "Europe", "/x.tgz", "System Data"][
                    Int.random(in: 0..<6, using: &generator)
                ]
            )
        case 6: return .string(Identifiers.uuid())
        case 7 where depth < 3:
            return .array(
                (0..<Int.random(in: 0..<3, using: &generator)).map { _ in
                    randomValue(&generator, depth: depth + 1)
                }
            )
        default:
            return .string(String(repeating: "x", count: Int.random(in: 0..<50, using: &generator)))
        }
    }

    @Test("random bodies for every command get JSON answers")
    func randomBodies() throws {
        var scenario = Scenario()
        scenario.serverType = .multiDomain
        scenario.domains = ["Europe"]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let client = try harness.client()
        var generator = SeededGenerator(seed: 2026)
        for _ in 0..<600 {
            let sid = try harness.login(on: client)
            let command = Self.commands.randomElement(using: &generator) ?? "login"
            var body: [String: JSON] = [:]
            for _ in 0..<Int.random(in: 0..<4, using: &generator) {
                let field = Self.fields.randomElement(using: &generator) ?? "user"
                body[field] = Self.randomValue(&generator)
            }
            let reply = try client.post(
                "/web_api/\(command)",
                body: JSON.object(body).serialized(),
                sid: sid
            )
            #expect(reply.json?.objectValue != nil, "\(command) \(JSON.object(body).serialized())")
            #expect([200, 400, 401, 403, 404, 409, 429, 501].contains(reply.status))
        }
    }

    @Test("random bytes and mangled requests do not stop the server")
    func randomBytes() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let good = try harness.client()
        let sid = try harness.login(on: good)
        var generator = SeededGenerator(seed: 7)
        let template = Array(
            TestClient.request("/web_api/show-task", body: #"{"task-id": "x"}"#, sid: sid).utf8
        )
        for round in 0..<300 {
            let client = try harness.client(timeout: 0.02)
            var bytes = template
            for _ in 0..<Int.random(in: 1..<8, using: &generator) {
                let index = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: index)
                }
            }
            if round % 3 == 0 { bytes = bytes.shuffled(using: &generator) }
            try client.send(bytes)
            _ = client.readAll()
        }
        #expect(try good.post("/web_api/keepalive", sid: sid).status == 200)
        #expect(try harness.client().post("/web_api/keepalive", sid: sid).status == 200)
    }
}
