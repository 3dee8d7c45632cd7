import ChkflowCore
import Foundation
import Testing

@testable import Simulator

@Suite("Request log")
struct RequestLogTests {
    @Test(
        "a line is the record as a JSON object with sorted keys",
        arguments: [
            RequestRecord(
                time: 1.2345,
                connection: 3,
                path: "/web_api/show-task",
                command: "show-task",
                status: 200,
                session: "0a1b2c3d"
            ),
            RequestRecord(
                time: 2,
                connection: 12,
                path: "/web_api/\"odd\"\\path",
                command: "",
                status: 401,
                code: "generic_err_wrong_session_id"
            ),
        ]
    )
    func lineShape(record: RequestRecord) throws {
        let line = RequestLog.line(for: record, method: "POST")
        let object: JSON = [
            "time": .double((record.time * 1000).rounded() / 1000),
            "connection": .int(Int64(record.connection)),
            "method": "POST",
            "path": .string(record.path),
            "command": .string(record.command),
            "status": .int(Int64(record.status)),
            "code": record.code.map(JSON.string) ?? .null,
            "session": record.session.map(JSON.string) ?? .null,
        ]
        #expect(line == object.serialized())
    }

    @Test func aLineAsWritten() {
        let record = RequestRecord(
            time: 1.2345,
            connection: 3,
            path: "/web_api/show-task",
            command: "show-task",
            status: 200,
            session: "0a1b2c3d"
        )
        #expect(
            RequestLog.line(for: record, method: "POST")
                == #"{"code":null,"command":"show-task","connection":3,"method":"POST","#
                + #""path":"/web_api/show-task","session":"0a1b2c3d","status":200,"time":1.235}"#
        )
    }

    @Test("one JSON line per request, with a session hash and never the sid")
    func logFile() throws {
        let path = NSTemporaryDirectory() + "chkflow-sim-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let harness = try Harness(logPath: path)
        let client = try harness.client()
        let sid = try harness.login(on: client)
        _ = try client.post("/web_api/v1.9/keepalive", sid: sid)
        _ = try client.post("/web_api/keepalive")
        _ = try client.post("/web_api/nothing-here", sid: sid)
        harness.server.stop()

        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains(sid))
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        let entries = try lines.map { try JSON.parse($0) }
        let hash = Identifiers.sessionHash(sid)
        #expect(hash.utf8.count == 8)

        #expect(
            entries.map { $0["command"] } == ["login", "keepalive", "keepalive", "nothing-here"]
        )
        #expect(
            entries.map { $0["path"] } == [
                "/web_api/login", "/web_api/v1.9/keepalive", "/web_api/keepalive",
                "/web_api/nothing-here",
            ]
        )
        #expect(entries.map { $0["status"] } == [200, 200, 401, 404])
        #expect(
            entries.map { $0["code"] } == [
                .null, .null, "generic_err_missing_session_id", "generic_err_command_not_found",
            ]
        )
        #expect(entries.map { $0["session"] } == [.string(hash), .string(hash), .null, .null])
        #expect(entries.allSatisfy { $0["method"] == "POST" && $0["connection"] == 1 })
        let keys = Set(entries[0].objectValue?.keys.map { $0 } ?? [])
        #expect(
            keys == [
                "time", "connection", "method", "path", "command", "status", "code", "session",
            ]
        )
        let times = entries.compactMap { $0["time"]?.doubleValue }
        #expect(times.count == 4 && times == times.sorted())
    }

    @Test("the in-memory log matches what was answered")
    func inMemory() throws {
        let harness = try Harness()
        defer { harness.server.stop() }
        let client = try harness.client()
        let sid = try harness.login(on: client)
        _ = try client.post("/web_api/show-task", body: #"{"task-id": "x"}"#, sid: sid)
        let records = harness.server.requests
        #expect(records.count == 2)
        #expect(records[1].command == "show-task")
        #expect(records[1].status == 400)
        #expect(records[1].code == "generic_err_invalid_parameter")
        #expect(records[1].session == Identifiers.sessionHash(sid))
        #expect(records[0].session == records[1].session)
    }

    @Test("identifiers have the shapes of a real server's")
    func identifiers() {
        #expect(Identifiers.base64URL([0xFB, 0xFF]) == "-_8")
        let uuid = Identifiers.uuid()
        #expect(Identifiers.isUUID(uuid))
        #expect(Array(uuid)[14] == "4")
        #expect(!Identifiers.isUUID("01234567-89ab-4def-8123-456789abcdeg"))
        #expect(SimulationClock.iso8601Minutes(1_430_032_266) == "2015-04-26T07:11+0000")
    }
}
