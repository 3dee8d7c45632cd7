import ChkflowCore
import Simulator
import Testing

/// The hostile fault actions as a scenario file spells them.
@Suite struct HostileScenarioTests {
    static let spellings: [(String, FaultAction)] = [
        (#"{"huge-reply": 70000000}"#, .hugeReply(bytes: 70_000_000)),
        (#"{"truncated-reply": true}"#, .truncatedReply),
        (#"{"non-json-reply": 502}"#, .nonJSONReply(status: 502)),
        (#"{"wrong-shape": "tasks-empty"}"#, .wrongShape(.tasksEmpty)),
        (#"{"wrong-shape": "task-without-status"}"#, .wrongShape(.taskWithoutStatus)),
        (#"{"wrong-shape": "numbers-as-strings"}"#, .wrongShape(.numbersAsStrings)),
        (#"{"task-goes-backwards": true}"#, .taskGoesBackwards),
        (#"{"never-answer": "true"}"#, .neverAnswer),
    ]

    @Test(arguments: spellings)
    func eachHostileActionReadsFromAScenarioDocument(fault: String, action: FaultAction) throws {
        let document = try JSON.parse(Array(#"{"faults": [\#(fault)]}"#.utf8))
        let scenario = try Scenario(document: document)
        #expect(scenario.faults == [FaultRule(action: action)])
    }

    static let mistakes: [(String, String)] = [
        (#"{"huge-reply": 0}"#, "faults[0].huge-reply: must be from 1 to 1073741824"),
        (#"{"non-json-reply": 99}"#, "faults[0].non-json-reply: must be from 100 to 599"),
        (
            #"{"wrong-shape": "square"}"#,
            "faults[0].wrong-shape: must be one of tasks-empty, task-without-status,"
                + " numbers-as-strings"
        ),
        (#"{"never-answer": false}"#, "faults[0].never-answer: must be true when present"),
        (
            #"{"truncated-reply": true, "never-answer": true}"#,
            "faults[0]: a fault needs exactly one of error, drop, slow-reply, forbidden-html,"
                + " huge-reply, truncated-reply, non-json-reply, wrong-shape, task-goes-backwards,"
                + " never-answer"
        ),
    ]

    @Test(arguments: mistakes)
    func aMisspeltHostileActionIsAnErrorWithItsPath(fault: String, message: String) throws {
        let document = try JSON.parse(Array(#"{"faults": [\#(fault)]}"#.utf8))
        #expect(throws: ScenarioError.self) { try Scenario(document: document) }
        do {
            _ = try Scenario(document: document)
        } catch {
            #expect(error.description == message)
        }
    }
}
