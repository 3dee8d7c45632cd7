import ChkflowCore
import Simulator
import Synchronization
import Testing

@testable import ManagementAPI

private let admin = Credentials.password(user: "admin", password: "chkflow")
private let systemData = LoginOptions(domain: "System Data")

/// Runs `body` against a fresh simulator on a free loopback port.
private func withSimulator(
    _ scenario: Scenario = .default,
    _ body: (SimulatorServer) async throws -> Void
) async throws {
    let server = SimulatorServer(scenario: scenario)
    try server.start()
    defer { server.stop() }
    try await body(server)
}

private func commands(_ server: SimulatorServer) -> [String] {
    server.requests.map(\.command)
}

/// Progress values seen by a task wait, in order.
private final class ProgressLog: Sendable {
    private let seen = Mutex<[Int]>([])
    var values: [Int] { seen.withLock { $0 } }
    func record(_ info: TaskInfo) { seen.withLock { $0.append(info.progress) } }
}

@Suite("Client against the simulator")
struct SimulatorClientTests {
    @Test func exportsAndWaitsForTheTask() async throws {
        try await withSimulator { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            let login = try await session.login(.apiKey("chkflow-demo-key"), options: systemData)
            #expect(login["sid"] == nil)
            #expect(login["api-server-version"] == "2.0.1")
            let started = try await session.call(
                "export-management",
                ["file-path": "/var/log/chkflow-export.tgz"]
            )
            let taskID = try #require(started["task-id"]?.stringValue)
            let progress = ProgressLog()
            let task = try await session.waitForTask(
                taskID,
                timeout: 30,
                onProgress: progress.record
            )
            try await session.logout()

            #expect(task.taskID == taskID)
            #expect(task.status == .succeeded)
            #expect(task.progress == 100)
            #expect(progress.values == progress.values.sorted())
            #expect(progress.values.count >= 3 && progress.values.count <= 15)
            let sent = commands(server)
            #expect(Array(sent.prefix(2)) == ["login", "export-management"])
            #expect(sent.last == "logout")
            #expect(sent.dropFirst(2).dropLast().allSatisfy { $0 == "show-task" })
            #expect(server.requests.allSatisfy { $0.status == 200 })
            let statistics = await session.statistics
            #expect(statistics.calls == sent.count)
            #expect(statistics.connections == 2)
        }
    }

    @Test func waitsOfOneSessionShareTheirPolls() async throws {
        var scenario = Scenario()
        scenario.verification = TaskBehaviour(duration: 1)
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            var taskIDs: [String] = []
            for _ in 0..<3 {
                let started = try await session.call(
                    "export-management",
                    ["pre-export-verification-only": true]
                )
                taskIDs.append(try #require(started["task-id"]?.stringValue))
            }
            let statuses = try await withThrowingTaskGroup(of: TaskStatus.self) { group in
                for id in taskIDs {
                    group.addTask { try await session.waitForTask(id, timeout: 30) { _ in }.status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == [.succeeded, .succeeded, .succeeded])
            // Alone, each wait polls three or four times; together they share most polls.
            let polls = commands(server).filter { $0 == "show-task" }.count
            #expect(polls >= 2 && polls <= 6, "\(polls) show-task calls")
        }
    }

    @Test func aSessionThatExpiresDuringAWaitIsRenewedOnceForTheSameTask() async throws {
        var scenario = Scenario()
        scenario.export = TaskBehaviour(duration: 3)
        scenario.sessionsExpireAt = [1.5]
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let started = try await session.call("export-management", ["file-path": "/x.tgz"])
            let taskID = try #require(started["task-id"]?.stringValue)
            let task = try await session.waitForTask(taskID, timeout: 30) { _ in }
            #expect(task.taskID == taskID)
            #expect(task.status == .succeeded)
            // On a machine slow enough, the expiry can meet the export itself rather than the
            // wait: then the refused export is sent again, which is safe. Either way one export
            // started and one new login was made.
            let exports = server.requests.filter { $0.command == "export-management" }
            #expect(exports.filter { $0.status == 200 }.count == 1)
            #expect(commands(server).filter { $0 == "login" }.count == 2)
            let refused = server.requests.filter { $0.status != 200 }
            #expect(refused.map(\.code) == ["generic_err_session_expired"])
            #expect(await session.statistics.logins == 2)
        }
    }

    @Test func aSessionErrorInTheMiddleOfAWaitKeepsTheTaskID() async throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(
                command: "show-task",
                call: 2,
                action: .error(
                    status: 401,
                    code: "generic_err_wrong_session_id",
                    message: "Wrong session id"
                )
            )
        ]
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let started = try await session.call("export-management", ["file-path": "/x.tgz"])
            let taskID = try #require(started["task-id"]?.stringValue)
            let task = try await session.waitForTask(taskID, timeout: 30) { _ in }
            #expect(task.taskID == taskID)
            let sent = commands(server)
            #expect(
                Array(sent.prefix(5)) == [
                    "login", "export-management", "show-task", "show-task", "login",
                ]
            )
            #expect(sent.filter { $0 == "login" }.count == 2)
            #expect(sent.filter { $0 == "export-management" }.count == 1)
        }
    }

    @Test func aWaitThatTimesOutLeavesTheTaskRunningAndSaysSo() async throws {
        var scenario = Scenario()
        scenario.export = TaskBehaviour(duration: 2, hangAt: 40)
        try await withSimulator(scenario) { server in
            let clock = ManualClock()
            let session = Session(
                endpoint: Endpoint(url: server.baseURL),
                budget: nil,
                clock: clock
            )
            _ = try await session.login(admin, options: systemData)
            let started = try await session.call("export-management", ["file-path": "/x.tgz"])
            let taskID = try #require(started["task-id"]?.stringValue)
            try await Task.sleep(for: .milliseconds(900))
            let error = await #expect(throws: TaskWaitTimeout.self) {
                try await session.waitForTask(taskID, timeout: 20) { _ in }
            }
            #expect(error?.taskID == taskID)
            #expect(
                error?.description
                    == "task \(taskID) is still in progress at 40% after 20s; it keeps running on"
                    + " the server: wait for it again with this task-id"
            )
            #expect(clock.now() == 20)
            #expect(!commands(server).contains("logout"))
        }
    }

    @Test func aShowTaskWithoutReplyEndsTheWaitAtItsTimeout() async throws {
        var scenario = Scenario()
        scenario.export = TaskBehaviour(duration: 2, hangAt: 0)
        scenario.faults = [FaultRule(command: "show-task", call: 2, action: .neverAnswer)]
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let started = try await session.call("export-management", ["file-path": "/x.tgz"])
            let taskID = try #require(started["task-id"]?.stringValue)
            let clock = ContinuousClock()
            let begun = clock.now
            // A task stuck at 0% is polled again after the longest pause, here 0.3 s.
            let policy = PollPolicy(maximumInterval: 0.3)
            let error = await #expect(throws: TaskWaitTimeout.self) {
                try await session.waitForTask(taskID, timeout: 1, policy: policy) { _ in }
            }
            // libcurl alone would have waited 120 s for the reply.
            #expect(clock.now - begun < .seconds(10))
            #expect(error?.taskID == taskID)
            #expect(error?.lastSeen?.progress == 0)
            #expect(
                error?.description
                    == "the wait's timeout of 1.0s ran out before show-task was answered; task"
                    + " \(taskID) (last seen in progress at 0%) may still be running on the"
                    + " server: wait for it again with this task-id"
            )
            #expect(commands(server).filter { $0 == "show-task" }.count == 2)
        }
    }

    @Test func aWaitWithoutAUsableReplyEndsWithTheLastError() async throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(command: "show-task", count: 100, action: .wrongShape(.tasksEmpty))
        ]
        try await withSimulator(scenario) { server in
            let clock = ManualClock()
            let session = Session(
                endpoint: Endpoint(url: server.baseURL),
                budget: nil,
                clock: clock
            )
            _ = try await session.login(admin, options: systemData)
            let started = try await session.call("export-management", ["file-path": "/x.tgz"])
            let taskID = try #require(started["task-id"]?.stringValue)
            let error = await #expect(throws: TaskWaitTimeout.self) {
                try await session.waitForTask(taskID, timeout: 2) { _ in }
            }
            #expect(error?.lastSeen == nil)
            #expect(
                error?.lastError?.description
                    == "show-task: invalid reply (HTTP 200): the reply does not list task \(taskID)"
            )
            #expect(
                error?.description
                    == "the wait's timeout of 2.0s ran out after show-task failed: show-task:"
                    + " invalid reply (HTTP 200): the reply does not list task \(taskID); task"
                    + " \(taskID) may still be running on the server: wait for it again with"
                    + " this task-id"
            )
            // Polls at 0, 0.25, 0.625 and 1.19 s; the next would have come after the timeout.
            #expect(commands(server).filter { $0 == "show-task" }.count == 4)
            #expect(clock.now() == 2)
        }
    }

    @Test func failedShowTasksAreRetriedWithTheSameTaskID() async throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(
                command: "show-task",
                call: 2,
                count: 2,
                action: .error(
                    status: 500,
                    code: "generic_internal_error",
                    message: "Internal error"
                )
            ),
            FaultRule(command: "show-task", call: 4, action: .dropBeforeRead),
        ]
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let started = try await session.call("export-management", ["file-path": "/x.tgz"])
            let taskID = try #require(started["task-id"]?.stringValue)
            let task = try await session.waitForTask(taskID, timeout: 30) { _ in }
            #expect(task.status == .succeeded)
            let showTasks = server.requests.filter { $0.command == "show-task" }
            #expect(showTasks.prefix(3).map(\.status) == [200, 500, 500])
        }
    }

    @Test func aWaitGivesUpAfterTheAttemptsAndNamesTheTask() async throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(
                command: "show-task",
                call: 1,
                count: 100,
                action: .error(
                    status: 500,
                    code: "generic_internal_error",
                    message: "Internal error"
                )
            )
        ]
        try await withSimulator(scenario) { server in
            let clock = ManualClock()
            let session = Session(
                endpoint: Endpoint(url: server.baseURL),
                budget: nil,
                clock: clock
            )
            _ = try await session.login(admin, options: systemData)
            let started = try await session.call("export-management", ["file-path": "/x.tgz"])
            let taskID = try #require(started["task-id"]?.stringValue)
            let error = await #expect(throws: APIError.self) {
                try await session.waitForTask(taskID, timeout: nil) { _ in }
            }
            #expect(
                error?.description
                    == "show-task: generic_internal_error (HTTP 500): Internal error (while waiting"
                    + " for task \(taskID), which may still be running on the server)"
            )
            #expect(commands(server).filter { $0 == "show-task" }.count == 5)
        }
    }

    @Test func anUnknownTaskEndsTheWaitAtOnce() async throws {
        try await withSimulator { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin)
            let error = await #expect(throws: APIError.self) {
                try await session.waitForTask("00000000-0000-0000-0000-000000000000", timeout: 5) {
                    _ in
                }
            }
            #expect(error?.kind == .server)
            #expect(commands(server).filter { $0 == "show-task" }.count == 1)
        }
    }

    @Test func showTasksReadsSeveralTasks() async throws {
        try await withSimulator { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let verify = try await session.call(
                "export-management",
                ["pre-export-verification-only": true]
            )
            let export = try await session.call("export-management", ["file-path": "/x.tgz"])
            let ids = [verify, export].compactMap { $0["task-id"]?.stringValue }
            let tasks = try await session.showTasks(ids)
            #expect(Set(tasks.map(\.taskID)) == Set(ids))
            #expect(tasks.allSatisfy { $0.status == .inProgress })
            #expect(tasks.allSatisfy { $0.raw["task-id"]?.stringValue == $0.taskID })
        }
    }

    @Test func waitsForSeveralTasksInOneRoundOfPolls() async throws {
        try await withSimulator { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let verify = try await session.call(
                "export-management",
                ["pre-export-verification-only": true]
            )
            let export = try await session.call("export-management", ["file-path": "/x.tgz"])
            let ids = [export, verify].compactMap { $0["task-id"]?.stringValue }
            let tasks = try await session.waitForTasks(ids, timeout: 30) { _ in }
            #expect(tasks.map(\.taskID) == ids)
            #expect(tasks.allSatisfy { $0.status == .succeeded })
        }
    }

    @Test func aTimeoutOverSeveralTasksNamesThoseStillRunning() async throws {
        var scenario = Scenario()
        scenario.export = TaskBehaviour(duration: 2, hangAt: 10)
        try await withSimulator(scenario) { server in
            let clock = ManualClock()
            let session = Session(
                endpoint: Endpoint(url: server.baseURL),
                budget: nil,
                clock: clock
            )
            _ = try await session.login(admin, options: systemData)
            let first = try await session.call("export-management", ["file-path": "/a.tgz"])
            let second = try await session.call("export-management", ["file-path": "/b.tgz"])
            let ids = [first, second].compactMap { $0["task-id"]?.stringValue }
            let error = await #expect(throws: TaskWaitTimeout.self) {
                try await session.waitForTasks(ids, timeout: 90) { _ in }
            }
            #expect(error?.taskIDs == ids)
            #expect(
                error?.description
                    == "tasks \(ids[0]), \(ids[1]) are still in progress after 1m30s; they keep"
                    + " running on the server: wait for them again with these task-ids"
            )
        }
    }

    @Test func loginToDomainMovesTheSessionAndReloginsGoBackThere() async throws {
        var scenario = Scenario()
        scenario.serverType = .multiDomain
        scenario.domains = ["Domain A"]
        scenario.faults = [
            FaultRule(
                command: "show-session",
                call: 1,
                action: .error(
                    status: 401,
                    code: "generic_err_session_expired",
                    message: "Session expired"
                )
            )
        ]
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let reply = try await session.loginToDomain("Domain A")
            #expect(reply["sid"] == nil)
            #expect(commands(server) == ["login", "login-to-domain", "logout"])
            let shown = try await session.call("show-session")
            #expect(shown["domain"]?["name"] == "Domain A")
            #expect(Array(commands(server).suffix(3)) == ["show-session", "login", "show-session"])
            #expect(await session.statistics.logins == 3)
        }
    }

    @Test func aNonJSONForbiddenTellsTheAdministratorWhatToDo() async throws {
        var scenario = Scenario()
        scenario.faults = [FaultRule(command: "login", action: .nonJSONForbidden)]
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            let error = await #expect(throws: APIError.self) { try await session.login(admin) }
            #expect(error?.httpStatus == 403)
            #expect(error?.code == nil)
            #expect(error?.message == APIError.forbiddenAdvice)
        }
    }

    @Test func aSlowReplyTimesOut() async throws {
        var scenario = Scenario()
        scenario.faults = [
            FaultRule(command: "show-session", call: 1, action: .slowReply(seconds: 2))
        ]
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL, requestTimeout: 0.4))
            _ = try await session.login(admin)
            let error = await #expect(throws: APIError.self) {
                try await session.call("show-session")
            }
            #expect(error?.kind == .transport)
            #expect(error?.requestMayHaveReachedServer == true)
            _ = try await session.call("show-session")
        }
    }

    @Test func aDroppedReplyToAnExportIsNotSentAgain() async throws {
        var scenario = Scenario()
        scenario.faults = [FaultRule(command: "export-management", call: 1, action: .dropAfterRead)]
        try await withSimulator(scenario) { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let error = await #expect(throws: APIError.self) {
                try await session.call("export-management", ["file-path": "/x.tgz"])
            }
            #expect(error?.kind == .transport)
            #expect(error?.requestMayHaveReachedServer == true)
            #expect(commands(server).filter { $0 == "export-management" }.count == 1)
        }
    }

    @Test func parallelSessionsNeverExceedTheLoginBudget() async throws {
        var scenario = Scenario()
        scenario.timeScale = 60
        scenario.rateLimits.loginsPerMinute = 3
        try await withSimulator(scenario) { server in
            let clock = ScaledClock(scale: 60)
            let budget = RateBudget(.init(loginsPerMinute: 3), clock: clock)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        let session = Session(
                            endpoint: Endpoint(url: server.baseURL),
                            budget: budget,
                            clock: clock
                        )
                        _ = try await session.login(admin)
                        _ = try await session.call("show-session")
                        try await session.logout()
                    }
                }
                try await group.waitForAll()
            }
            let logins = server.requests.filter { $0.command == "login" }
            #expect(logins.count == 5)
            #expect(logins.allSatisfy { $0.status == 200 })
            let times = logins.map(\.time).sorted()
            #expect(times[3] - times[0] >= 1)
        }
    }

    @Test func aLoginBurstRefusedByTheServerHoldsBackTheNextLogins() async throws {
        var scenario = Scenario()
        scenario.timeScale = 20
        scenario.rateLimits.loginsPerMinute = 3
        try await withSimulator(scenario) { server in
            let clock = ScaledClock(scale: 20)
            // A budget that believes in more logins than the server allows.
            let budget = RateBudget(.init(loginsPerMinute: 10), clock: clock)
            var refusals = 0
            for _ in 0..<5 {
                let session = Session(
                    endpoint: Endpoint(url: server.baseURL),
                    budget: budget,
                    clock: clock
                )
                do {
                    _ = try await session.login(admin)
                } catch let error as APIError where error.code == "err_too_many_requests" {
                    refusals += 1
                    _ = try await session.login(admin)
                }
            }
            #expect(refusals == 1)
            let logins = server.requests.filter { $0.command == "login" }
            let refused = try #require(logins.firstIndex { $0.code == "err_too_many_requests" })
            #expect(logins.count == 6)
            // The next login waited a whole window: 61 simulated seconds, 3.05 real ones.
            #expect(logins[refused + 1].time - logins[refused].time >= 3)
            #expect(logins.filter { $0.code != nil }.count == 1)
        }
    }

    @Test func tooManyRequestsSlowsTheWholeBudget() async throws {
        var scenario = Scenario()
        scenario.rateLimits.requestsPerSecond = 20
        try await withSimulator(scenario) { server in
            let budget = RateBudget()
            let session = Session(endpoint: Endpoint(url: server.baseURL), budget: budget)
            _ = try await session.login(admin)
            var refusals = 0
            var done = 0
            while done < 40 {
                do {
                    _ = try await session.call("show-session")
                    done += 1
                } catch let error as APIError where error.code == "err_too_many_requests" {
                    refusals += 1
                }
            }
            #expect(refusals >= 1 && refusals <= 3)
            let rate = try #require(await budget.currentRequestsPerSecond)
            #expect(rate <= 20)
        }
    }

    /// Speed is measured in Benchmarks/, not asserted here; this checks the calls share one
    /// kept-alive connection.
    @Test func manyCallsShareOneConnection() async throws {
        try await withSimulator { server in
            let session = Session(endpoint: Endpoint(url: server.baseURL))
            _ = try await session.login(admin, options: systemData)
            let started = try await session.call(
                "export-management",
                ["pre-export-verification-only": true]
            )
            let taskID = try #require(started["task-id"]?.stringValue)
            for _ in 0..<200 { _ = try await session.showTasks([taskID]) }
            try await session.logout()
            #expect(server.requests.filter { $0.command == "show-task" }.count == 200)
            let connections = Set(
                server.requests.filter { $0.command == "show-task" }.map(\.connection)
            )
            #expect(connections.count == 1)
        }
    }
}
