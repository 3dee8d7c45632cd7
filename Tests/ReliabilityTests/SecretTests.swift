import ChkflowCore
import Foundation
import Simulator
import Testing

/// Every example playbook, run for real (HTTPS, a pinned certificate, the password from the
/// environment) against a simulator in this process, leaves no secret and no session id in
/// anything it writes.
@Suite struct SecretTests {
    /// The example playbooks and the scenario each names in its "Rehearse:" line.
    static let examples: [String] = {
        let folder = Binary.root + "/playbooks"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted()
    }()

    static func rehearsalScenario(of playbook: String) throws -> Scenario {
        let text = try String(contentsOfFile: playbook, encoding: .utf8)
        guard
            let range = text.range(
                of: #"# Rehearse:[^\n]*--simulator (playbooks/scenarios/\S+)"#,
                options: .regularExpression
            )
        else { return Scenario() }
        let line = text[range]
        let path = Binary.root + "/" + line[line.range(of: "playbooks/scenarios/")!.lowerBound...]
        return try ScenarioFile.load(contentsOf: path)
    }

    @Test func theExamplesAreFound() {
        #expect(Self.examples.contains("smc-export.yaml"))
        #expect(Self.examples.contains("mds-export-domains.yaml"))
    }

    /// Every example, three at a time; each issue names its playbook.
    @Test func noSecretOrSessionIDReachesAnyOutput() async {
        await concurrently(Self.examples, limit: 3) { try Self.check($0) }
    }

    static func check(_ name: String) throws {
        let label = Comment(rawValue: name)
        let playbook = Binary.root + "/playbooks/" + name
        let password = "pw-" + UUID().uuidString
        var scenario = try Self.rehearsalScenario(of: playbook)
        scenario.admins = [SimulatedAdmin(name: "admin", password: password)]
        // Short exports, so that a 20-domain rehearsal takes seconds.
        scenario.export.duration = min(scenario.export.duration, 30)
        let folder = Binary.folder()
        let identity = try TLSIdentity.selfSigned()
        let server = SimulatorServer(scenario: scenario, logPath: folder + "/requests.ndjson")
        try server.start(tls: identity)
        defer { server.stop() }

        let arguments = [
            "run", playbook, "-v", "--report", folder + "/report.json", "--junit",
            folder + "/junit.xml", "--events", folder + "/events.ndjson", "--state-dir",
            folder + "/state",
        ]
        let outcome = try Binary.run(
            arguments,
            environment: [
                "CHKP_HOST": "127.0.0.1:\(server.port)",
                "CHKP_FINGERPRINT": identity.sha256Fingerprint,
                "CHKP_PASSWORD": password,
            ],
            limit: 60
        )
        #expect(outcome.status == 0, "\(label): \(outcome.stderr)")
        #expect(!outcome.killed, label)
        let sessions = server.issuedSessionIDs
        #expect(!sessions.isEmpty, label)
        #expect(server.openSessionIDs.isEmpty, label)

        var texts = [
            "stdout": outcome.stdout, "stderr": outcome.stderr,
            "arguments": arguments.joined(separator: " "),
        ]
        for file in Self.files(under: folder) {
            texts[file] = String(
                decoding: FileManager.default.contents(atPath: file) ?? Data(),
                as: UTF8.self
            )
        }
        #expect(texts.keys.contains(folder + "/report.json"), label)
        #expect(texts.keys.contains(folder + "/junit.xml"), label)
        #expect(texts[folder + "/events.ndjson"]?.contains("\"step-ended\"") == true, label)
        #expect(texts.keys.contains(folder + "/requests.ndjson"), label)
        #expect(texts.keys.contains { $0.hasSuffix(".ndjson") && $0.contains("/state/") }, label)
        for (place, text) in texts {
            #expect(!text.contains(password), "\(label): the password is in \(place)")
            for sid in sessions {
                #expect(!text.contains(sid), "\(label): a session id is in \(place)")
            }
        }
    }

    /// Every regular file under a folder, recursively.
    static func files(under folder: String) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder)
        var result: [String] = []
        while let relative = enumerator?.nextObject() as? String {
            let path = folder + "/" + relative
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                !isDirectory.boolValue
            {
                result.append(path)
            }
        }
        return result
    }
}
