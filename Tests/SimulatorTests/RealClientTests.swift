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
        let server = SimulatorServer(scenario: scenario)
        let identity = SimulatorServer.supportsTLS ? try TLSIdentity.selfSigned() : nil
        if let identity { try server.start(tls: identity) } else { try server.start() }
        defer { server.stop() }
        let folder = NSTemporaryDirectory() + "chkflow-sdk-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try makeCertificate(in: folder)
        try Self.script.write(toFile: folder + "/run.py", atomically: true, encoding: .utf8)

        // With HTTPS of its own the simulator is reached directly, pinned by its SHA-1 as the
        // SDK pins; otherwise through the relay.
        let fingerprint = identity?.sha1Fingerprint.replacingOccurrences(of: ":", with: "") ?? "-"
        let output = try runPython([folder + "/run.py", String(server.port), folder, fingerprint])
        let result = try JSON.parse(output)
        #expect(result["login"] == true)
        #expect(result["versions"] == "2.0.1")
        #expect(result["verification"] == "succeeded")
        #expect(result["export"] == "succeeded")
        #expect(result["file-path"] == "/var/log/exported.tgz")
        #expect(result["logout"] == true)

        let records = server.requests
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

        fingerprint = sys.argv[3]
        if fingerprint == "-":
            threading.Thread(target=relay, daemon=True).start()
            args = APIClientArgs(server="127.0.0.1", port=listener.getsockname()[1], unsafe=True)
        else:
            args = APIClientArgs(server="127.0.0.1", port=target_port, fingerprint=fingerprint)
        result = {}
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

/// Ansible's `check_point.mgmt` collection, through `ansible.netcommon`'s httpapi connection
/// over plain HTTP, against the simulator, unchanged.
///
/// Runs when CHKFLOW_ANSIBLE_PLAYBOOK names an `ansible-playbook` whose Python has the
/// `check_point.mgmt` collection (the `ansible` package from PyPI ships it).
@Suite(
    "Ansible check_point.mgmt",
    .enabled(if: ProcessInfo.processInfo.environment["CHKFLOW_ANSIBLE_PLAYBOOK"] != nil)
)
struct AnsibleTests {
    @Test("cp_mgmt_export_management verifies and exports, waiting for each task")
    func ansibleExport() throws {
        var scenario = Scenario()
        scenario.verification = TaskBehaviour(duration: 1)
        scenario.export = TaskBehaviour(duration: 1)
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let output = try runPlaybook(
            Self.playbook,
            port: harness.server.port,
            ignoringErrors: false
        )
        #expect(output.contains("\"file-path\": \"/var/log/exported.tgz\""))

        let records = harness.server.requests
        #expect(records.allSatisfy { $0.status == 200 })
        let commands = records.map(\.command).filter { $0 != "show-task" }
        #expect(commands == ["login", "export-management", "export-management", "logout"])
        #expect(records.allSatisfy { !$0.path.contains("/v") })
        #expect(Set(records.map(\.session)).count == 1)
    }

    @Test("faults: a 401 makes Ansible log in again; a 429 on a command makes it discard")
    func ansibleFaults() throws {
        var scenario = Scenario()
        scenario.verification = TaskBehaviour(duration: 0)
        scenario.faults = [
            FaultRule(
                command: "show-task",
                call: 1,
                action: .error(
                    status: 401,
                    code: "generic_err_session_expired",
                    message: "Session expired"
                )
            ),
            FaultRule(
                command: "export-management",
                call: 2,
                action: .error(
                    status: 429,
                    code: "err_too_many_requests",
                    message: "Too many requests in a given amount of time"
                )
            ),
        ]
        let harness = try Harness(scenario)
        defer { harness.server.stop() }
        let output = try runPlaybook(Self.playbook, port: harness.server.port, ignoringErrors: true)
        #expect(output.contains("Unpublished changes were discarded"))
        #expect(output.contains("ignored=1"))

        let records = harness.server.requests
        #expect(
            records.map(\.command) == [
                "login", "export-management", "show-task", "login", "show-task",
                "export-management", "discard", "logout",
            ]
        )
        #expect(records.map(\.status) == [200, 200, 401, 200, 200, 429, 200, 200])
        #expect(Set(records.compactMap(\.session)).count == 2)
    }

    private func runPlaybook(
        _ playbook: String,
        port: UInt16,
        ignoringErrors: Bool
    ) throws -> String {
        let folder = NSTemporaryDirectory() + "chkflow-ansible-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let playbookCommand = ProcessInfo.processInfo.environment["CHKFLOW_ANSIBLE_PLAYBOOK"] ?? ""
        let python = URL(fileURLWithPath: playbookCommand).deletingLastPathComponent()
            .appendingPathComponent("python").path
        try Self.inventory(port: port, python: python)
            .write(toFile: folder + "/inventory.ini", atomically: true, encoding: .utf8)
        let text =
            ignoringErrors
            ? playbook.replacingOccurrences(
                of: "\n  tasks:\n",
                with: "\n  ignore_errors: true\n  tasks:\n"
            )
            : playbook
        try text.write(toFile: folder + "/play.yml", atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: playbookCommand)
        process.arguments = ["-i", folder + "/inventory.ini", folder + "/play.yml"]
        var environment = ProcessInfo.processInfo.environment
        environment["ANSIBLE_LOCAL_TEMP"] = folder + "/tmp"
        environment["ANSIBLE_PERSISTENT_CONTROL_PATH_DIR"] = folder + "/pc"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(
            decoding: pipe.fileHandleForReading.readDataToEndOfFile(),
            as: UTF8.self
        )
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(output)")
        return output
    }

    static func inventory(port: UInt16, python: String) -> String {
        """
        [mgmt]
        simulator ansible_host=127.0.0.1

        [mgmt:vars]
        ansible_connection=httpapi
        ansible_network_os=check_point.mgmt.checkpoint
        ansible_httpapi_port=\(port)
        ansible_httpapi_use_ssl=False
        ansible_httpapi_validate_certs=False
        ansible_user=admin
        ansible_password=chkflow
        ansible_checkpoint_domain=System Data
        ansible_python_interpreter=\(python)

        """
    }

    static let playbook = """
        - hosts: mgmt
          gather_facts: false
          tasks:
            - name: Pre-export verification
              check_point.mgmt.cp_mgmt_export_management:
                pre_export_verification_only: true
            - name: Export
              check_point.mgmt.cp_mgmt_export_management:
                file_path: /var/log/exported.tgz
                target_version: R82
              register: export
            - name: Show the task
              ansible.builtin.debug:
                var: export

        """
}
