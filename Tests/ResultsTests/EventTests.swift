import ChkflowCore
import Foundation
import Results
import Testing

@testable import Engine

@Suite struct EventTests {
    static let runID = "20261205010000-0a1b2c3d"

    /// What the engine would have said while running `SampleRuns.everyStatus`, in order.
    static var everyStatusEvents: [EngineEvent] {
        let run = SampleRuns.everyStatus
        let login = run.steps[0]
        let loop = run.steps[2]
        func labelled(_ result: StepResult, _ label: String) -> StepResult {
            var copy = result
            copy.id = "\(label).\(result.id)"
            return copy
        }
        return [
            .stepStarted(id: "login", kind: "login", at: SampleRuns.at(0)),
            .attemptFailed(id: "login", attempt: login.attempts[0], retryAfter: 2),
            .stepEnded(login),
            .stepStarted(id: "verified", kind: "wait", at: SampleRuns.at(3)),
            .stepProgress(
                id: "verified",
                taskID: "01234567-89ab-cdef-0123-456789abcdef",
                percent: 50,
                status: "in progress",
                at: SampleRuns.at(8)
            ),
            .stepEnded(run.steps[1]),
            .stepStarted(id: "each", kind: "for-each", at: SampleRuns.at(13)),
            .stepStarted(id: "each[1].export", kind: "export", at: SampleRuns.at(13)),
            .attemptFailed(
                id: "each[1].export",
                attempt: loop.items[1].steps[0].attempts[0],
                retryAfter: nil
            ),
            .stepEnded(labelled(loop.items[1].steps[0], "each[1]")),
            .stepEnded(labelled(loop.items[1].steps[1], "each[1]")),
            .stepEnded(loop),
            .stepEnded(run.steps[4]),
            .stepEnded(run.steps[5]),
            .notice(
                "logged out session 'each[1].login', which no logout step closed",
                at: SampleRuns.at(61)
            ),
        ]
    }

    @Test(arguments: [
        (
            EngineEvent.stepStarted(id: "each[3].export", kind: "export", at: SampleRuns.at(1)),
            """
            {"kind":"export","run-id":"r1","step":"each[3].export","time":"2026-12-05T01:00:01.000Z",\
            "type":"step-started"}
            """
        ),
        (
            EngineEvent.stepProgress(
                id: "exported",
                taskID: "t-1",
                percent: 35,
                status: "in progress",
                at: SampleRuns.at(2.5)
            ),
            """
            {"progress":35,"run-id":"r1","step":"exported","task-id":"t-1",\
            "task-status":"in progress","time":"2026-12-05T01:00:02.500Z","type":"progress"}
            """
        ),
        (
            EngineEvent.attemptFailed(
                id: "login",
                attempt: SampleRuns.retriedLogin.attempts[0],
                retryAfter: 2.25
            ),
            """
            {"attempt":1,"ended":"2026-12-05T01:00:00.500Z","error":{"code":"err_too_many_requests",\
            "http-status":429,"message":"Too many requests in a given amount of time"},\
            "next-attempt":2,"retry-after-seconds":2.25,"run-id":"r1",\
            "started":"2026-12-05T01:00:00.000Z","step":"login","time":"2026-12-05T01:00:00.500Z",\
            "type":"retry"}
            """
        ),
        (
            EngineEvent.attemptFailed(
                id: "login",
                attempt: SampleRuns.retriedLogin.attempts[0],
                retryAfter: nil
            ),
            """
            {"attempt":1,"ended":"2026-12-05T01:00:00.500Z","error":{"code":"err_too_many_requests",\
            "http-status":429,"message":"Too many requests in a given amount of time"},\
            "run-id":"r1","started":"2026-12-05T01:00:00.000Z","step":"login",\
            "time":"2026-12-05T01:00:00.500Z","type":"attempt-failed"}
            """
        ),
        (
            EngineEvent.attemptFailed(
                id: "versions",
                attempt: Attempt(
                    number: 1,
                    started: SampleRuns.at(0),
                    ended: SampleRuns.at(10),
                    error: ErrorSummary(
                        message: "the attempt ran out of its attempt-timeout of 10s"
                    ),
                    timedOut: true
                ),
                retryAfter: 1
            ),
            """
            {"attempt":1,"ended":"2026-12-05T01:00:10.000Z","error":{"message":\
            "the attempt ran out of its attempt-timeout of 10s"},"next-attempt":2,\
            "retry-after-seconds":1,"run-id":"r1","started":"2026-12-05T01:00:00.000Z",\
            "step":"versions","time":"2026-12-05T01:00:10.000Z","timed-out":true,"type":"retry"}
            """
        ),
        (
            EngineEvent.stepEnded(SampleRuns.timedOutWait),
            """
            {"attempts":1,"duration-seconds":10,"kind":"wait","progress":40,\
            "reason":"task task-backup still 'in progress' (40%) after 10s; it keeps running on the server",\
            "run-id":"r1","started":"2026-12-05T01:00:36.000Z","status":"timed-out",\
            "step":"backup-wait","task-id":"task-backup","task-status":"in progress",\
            "time":"2026-12-05T01:00:46.000Z","type":"step-ended"}
            """
        ),
        (
            EngineEvent.stepEnded(SampleRuns.skippedStep),
            """
            {"attempts":0,"kind":"call","reason":"its condition is false","run-id":"r1",\
            "status":"skipped","step":"notify","time":"2026-12-05T01:01:40.000Z","type":"step-ended"}
            """
        ),
        (
            EngineEvent.stepEnded(SampleRuns.domainLoop),
            """
            {"attempts":0,"duration-seconds":22.5,"items":{"cancelled":0,"failed":1,"ignored":0,\
            "refused":0,"skipped":0,"succeeded":1,"timed-out":0},"kind":"for-each",\
            "reason":"1 of 2 items failed: Lyon","run-id":"r1","started":"2026-12-05T01:00:13.000Z",\
            "status":"failed","step":"each","time":"2026-12-05T01:00:35.500Z","type":"step-ended"}
            """
        ),
        (
            EngineEvent.notice("insecure TLS for 'lab'", at: SampleRuns.at(0)),
            """
            {"message":"insecure TLS for 'lab'","run-id":"r1","time":"2026-12-05T01:00:00.000Z",\
            "type":"notice"}
            """
        ),
    ])
    func eachEventGivesExactlyThisLine(event: EngineEvent, expected: String) {
        #expect(
            EventLine.json(event, runID: "r1", now: SampleRuns.at(100)).serialized() == expected
        )
    }

    @Test func theWriterAppendsOneLinePerEventAndNothingElse() throws {
        let path = Repository.temporaryFolder() + "/events.ndjson"
        let earlier = try EventWriter(path: path, clock: { 0 })
        earlier.begin(runID: "earlier")
        earlier.write(.notice("earlier run", at: 0))
        earlier.close()
        let writer = try EventWriter(path: path, clock: { SampleRuns.at(50) })
        writer.begin(runID: Self.runID)
        for event in Self.everyStatusEvents { writer.write(event) }
        writer.close()
        writer.write(.notice("after close", at: 0))

        let lines = try String(contentsOfFile: path, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
        #expect(
            lines.first
                == #"{"message":"earlier run","run-id":"earlier","time":"1970-01-01T00:00:00.000Z","type":"notice"}"#
        )
        #expect(lines.last == "")
        let written = lines.dropFirst().dropLast().map(String.init)
        let expected = Self.everyStatusEvents.map {
            EventLine.json($0, runID: Self.runID, now: SampleRuns.at(50)).serialized()
        }
        #expect(written == expected)
        #expect(writer.failure == nil)
        try expectSample(written.joined(separator: "\n") + "\n", "events-every-status.ndjson")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]
        #expect(mode as? Int == 0o600)
    }

    @Test func noSessionIDOrRawReplyReachesALine() throws {
        var login = SampleRuns.tiny.steps[0]
        login.outputs["token"] = "secret-token"
        let text = EventLine.json(.stepEnded(login), runID: "r1", now: 0).serialized()
        #expect(!text.contains("secret-session-id"))
        #expect(!text.contains("secret-token"))
        #expect(!text.contains("response"))
        #expect(
            EventLine.json(.stepEnded(login), runID: "r1", now: 0).objectValue?.keys.sorted() == [
                "attempts", "duration-seconds", "kind", "run-id", "started", "status", "step",
                "time", "type",
            ]
        )
    }

    @Test func linesFromManyTasksNeverInterleave() async throws {
        let (reader, writerEnd) = try Self.pipe()
        let writer = EventWriter(descriptor: writerEnd, clock: { 0 })
        writer.begin(runID: "r1")
        let collected = Task.detached { FileHandle(fileDescriptor: reader).readDataToEndOfFile() }
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for number in 0..<200 {
                        writer.write(.notice("task \(task) line \(number)", at: 0))
                    }
                }
            }
        }
        close(writerEnd)
        let text = String(decoding: await collected.value, as: UTF8.self)
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1600)
        let messages = try lines.map { try JSON.parse(String($0))["message"]?.stringValue ?? "" }
        #expect(Set(messages).count == 1600)
        #expect(messages.filter { $0.hasPrefix("task 3 ") }.count == 200)
        close(reader)
    }

    @Test func aFailedWriteIsKeptAndStopsTheStream() throws {
        let path = Repository.temporaryFolder() + "/read-only.ndjson"
        try "".write(toFile: path, atomically: true, encoding: .utf8)
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let writer = EventWriter(descriptor: descriptor, name: path, clock: { 0 })
        writer.write(.notice("one", at: 0))
        writer.write(.notice("two", at: 0))
        #expect(writer.failure?.description == "cannot write \(path): Bad file descriptor")
    }

    /// With SIGPIPE ignored (as the command line must, so that `--events - | head` cannot end a
    /// run before its logout), a reader that went away is a failure, not the end of the process.
    @Test func aReaderThatGoesAwayStopsTheStreamOnly() throws {
        signal(SIGPIPE, SIG_IGN)
        let (reader, writerEnd) = try Self.pipe()
        close(reader)
        defer { close(writerEnd) }
        let writer = EventWriter(descriptor: writerEnd, clock: { 0 })
        writer.write(.notice("nobody reads this", at: 0))
        #expect(writer.failure?.description == "cannot write standard output: Broken pipe")
    }

    @Test func aFileThatCannotBeOpenedIsRefused() {
        #expect(throws: FileWriteError.self) { try EventWriter(path: "/nonexistent/e.ndjson") }
        do {
            _ = try EventWriter(path: "/nonexistent/e.ndjson")
        } catch {
            #expect(
                error.description == "cannot write /nonexistent/e.ndjson: No such file or directory"
            )
        }
    }

    static func pipe() throws -> (Int32, Int32) {
        var ends: [Int32] = [0, 0]
        guard Glibc.pipe(&ends) == 0 else { throw POSIXError(.EIO) }
        return (ends[0], ends[1])
    }
}
