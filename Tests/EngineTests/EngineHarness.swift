import ChkflowCore
import Engine
import Playbook
import Simulator

/// Runs a playbook text against a fresh simulator on a free loopback port.
struct EngineHarness {
    var scenario = Scenario.default
    var maxParallel = 4
    var variables: [String: String] = [:]

    func run(_ text: String) async throws -> (RunResult, [RequestRecord]) {
        let plan = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "test.yaml")
        let server = SimulatorServer(scenario: scenario)
        try server.start()
        defer { server.stop() }
        var options = RunOptions()
        options.simulatorURL = server.baseURL
        options.maxParallel = maxParallel
        options.variables = variables
        let runner = Runner(plan: plan, options: options)
        let result = await runner.run(try runner.prepare())
        return (result, server.requests)
    }
}

extension [RequestRecord] {
    func count(of command: String) -> Int { filter { $0.command == command }.count }
}

extension RunResult {
    /// `id:status` of every top-level step, in plan order.
    var statuses: [String] { steps.map { "\($0.id):\($0.status.rawValue)" } }

    func step(_ id: String) -> StepResult? { steps.first { $0.id == id } }
}

/// The head every test playbook shares: one server, the simulator's admin, System Data.
let playbookHead = """
    chkflow: 1
    name: engine-test
    servers:
      lab:
        url: https://mgmt.example.net
    steps:
      - id: login
        login:
          user: admin
          password: chkflow
          domain: System Data

    """

/// Steps to follow ``playbookHead``: an export and the wait for its task.
let exportAndWaitSteps = """
      - id: export
        export:
          file-path: /var/log/x.tgz
      - id: exported
        wait:
          task: ${{ steps.export.task-id }}

    """

/// The head, then an export, the wait for its task and a logout that always runs.
let exportWaitLogout =
    playbookHead + exportAndWaitSteps + """
          - id: logout
            if: ${{ always() }}
            logout: {}
        """
