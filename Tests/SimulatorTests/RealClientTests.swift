import ChkflowCore
import Foundation
import Testing

@testable import Simulator

/// Check Point's own Python SDK (`cp-mgmt-api-sdk`) against the simulator, unchanged.
///
/// The SDK speaks only HTTPS, so a small TLS relay written with Python's `ssl` module sits in
/// front of the simulator's plain HTTP port until the simulator serves TLS itself. Runs when
/// CHKFLOW_SDK_PYTHON names a Python that can import `cpapi` and `openssl` is on the PATH.
@Suite(
    "Check Point's Python SDK",
    .enabled(if: ProcessInfo.processInfo.environment["CHKFLOW_SDK_PYTHON"] != nil)
)
struct RealClientTests {
    @Test("login, show-api-versions, pre-export verification, export, logout")
    func sdkExportRun() throws {
        var scenario = Scenario()
        scenario.verification = TaskBehaviour(duration: 1)
        scenario.export = TaskBehaviour(duration: 3)
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let folder = NSTemporaryDirectory() + "chkflow-sdk-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try makeCertificate(in: folder)
        try Self.script.write(toFile: folder + "/run.py", atomically: true, encoding: .utf8)

        let output = try runPython([folder + "/run.py", String(harness.server.port), folder])
        let result = try JSON.parse(output)
        #expect(result["login"] == true)
        #expect(result["versions"] == "2.0.1")
        #expect(result["verification"] == "succeeded")
        #expect(result["export"] == "succeeded")
        #expect(result["file-path"] == "/var/log/exported.tgz")
        #expect(result["logout"] == true)

        let records = harness.server.requests
        #expect(records.allSatisfy { $0.status == 200 })
        #expect(records.first?.path == "/web_api/login")
        #expect(records.dropFirst().allSatisfy { $0.path.hasPrefix("/web_api/v2.0.1/") })
        let commands = records.map(\.command).filter { $0 != "show-task" }
        #expect(
            commands == [
                "login", "show-api-versions", "export-management", "export-management", "logout",
            ]
        )
        #expect(records.filter { $0.command == "show-task" }.count >= 4)
        #expect(Set(records.map(\.connection)).count == 1)
    }

    private func makeCertificate(in folder: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
            "/CN=127.0.0.1", "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }

    private func runPython(_ arguments: [String]) throws -> String {
        let python = ProcessInfo.processInfo.environment["CHKFLOW_SDK_PYTHON"] ?? "python3"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return String(decoding: data, as: UTF8.self)
    }

    /// The SDK run, and a TLS relay to the simulator's plain port.
    static let script = #"""
        import json, socket, ssl, sys, threading
        from cpapi import APIClient, APIClientArgs

        target_port, folder = int(sys.argv[1]), sys.argv[2]
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(folder + "/cert.pem", folder + "/key.pem")
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)

        def pump(source, sink):
            try:
                while True:
                    data = source.recv(65536)
                    if not data:
                        break
                    sink.sendall(data)
            except OSError:
                pass
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def relay():
            while True:
                client, _ = listener.accept()
                secure = context.wrap_socket(client, server_side=True)
                upstream = socket.create_connection(("127.0.0.1", target_port))
                upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                threading.Thread(target=pump, args=(secure, upstream), daemon=True).start()
                threading.Thread(target=pump, args=(upstream, secure), daemon=True).start()

        threading.Thread(target=relay, daemon=True).start()
        result = {}
        args = APIClientArgs(server="127.0.0.1", port=listener.getsockname()[1], unsafe=True)
        client = APIClient(args)
        login = client.login("admin", "chkflow", domain="System Data")
        result["login"] = login.success
        result["versions"] = client.api_call("show-api-versions").data["current-version"]
        verify = client.api_call("export-management", {"pre-export-verification-only": True})
        result["verification"] = verify.data["tasks"][0]["status"]
        export = client.api_call(
            "export-management", {"file-path": "/var/log/exported.tgz", "version": "R82"})
        task = export.data["tasks"][0]
        result["export"] = task["status"]
        result["file-path"] = task["task-details"][0]["file-path"]
        result["logout"] = client.api_call("logout").success
        print(json.dumps(result))
        """#
}
