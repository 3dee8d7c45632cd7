import ChkflowCore
import Playbook
import Testing

private let scope = EvaluationScope(
    roots: [
        "inputs": ["version": "R82", "count": 3],
        "secrets": ["password": "hunter2"],
        "steps": [
            "export": ["task-id": "t-1", "status": "succeeded"],
            "domains": ["response": ["objects": [["name": "A"], ["name": "B"]]]],
        ],
        "env": ["HOST": "mgmt"],
    ],
    statusFunctions: ["success": true, "failure": false, "always": true, "cancelled": false]
)

private func evaluate(_ text: String) throws -> Value {
    try Template.parse(text).evaluate(in: scope)
}

@Suite struct ExpressionTests {
    @Test(arguments: [
        ("${{ inputs.version }}", JSON.string("R82")),
        ("${{ inputs.count }}", .int(3)),
        ("v-${{ inputs.version }}", .string("v-R82")),
        ("${{ steps.export.task-id }}", .string("t-1")),
        ("${{ steps.domains.response.objects[*].name }}", .array(["A", "B"])),
        ("${{ steps.domains.response.objects[1].name }}", .string("B")),
        ("${{ steps.export.status == 'SUCCEEDED' }}", .bool(true)),
        ("${{ inputs.count >= 3 && !failure() }}", .bool(true)),
        ("${{ (inputs.count < 2) || always() }}", .bool(true)),
        ("${{ contains(steps.domains.response.objects[*].name, 'B') }}", .bool(true)),
        ("${{ startsWith(inputs.version, 'r8') }}", .bool(true)),
        ("${{ format('{0}/{1}', env.HOST, inputs.version) }}", .string("mgmt/R82")),
        ("${{ join(steps.domains.response.objects[*].name, ' ') }}", .string("A B")),
        ("${{ length(steps.domains.response.objects) }}", .int(2)),
        ("${{ toJSON(inputs.count) }}", .string("3")),
        ("${{ fromJSON('{\"a\": [1]}') }}", JSON.object(["a": [1]])),
        ("${{ 'it''s' }}", .string("it's")),
        ("plain text", .string("plain text")),
    ])
    func evaluates(text: String, expected: JSON) throws {
        #expect(try evaluate(text).json == expected)
    }

    @Test(arguments: [
        ("${{ secrets.password }}", true),
        ("user:${{ secrets.password }}", true),
        ("${{ format('{0}', secrets.password) }}", true),
        ("${{ inputs.version }}", false),
    ])
    func secretsStaySecret(text: String, secret: Bool) throws {
        #expect(try evaluate(text).isSecret == secret)
    }

    @Test(arguments: [
        ("${{ inputs. }}", 11, "expected a name after '.'"),
        ("${{ (a }}", 7, "expected ')'"),
        ("${{ 'open }}", 0, "'${{' without a closing '}}'"),
        ("${{ a == }}", 9, "expected a value"),
        ("x ${{ a", 2, "'${{' without a closing '}}'"),
    ])
    func reportsSyntaxErrors(text: String, offset: Int, message: String) {
        #expect(throws: ExpressionSyntaxError(offset: offset, message: message)) {
            try Template.parse(text)
        }
    }

    @Test func deepNestingIsAnError() {
        let text =
            "${{ " + String(repeating: "(", count: 10_000) + "1"
            + String(repeating: ")", count: 10_000) + " }}"
        #expect(throws: ExpressionSyntaxError.self) { try Template.parse(text) }
    }

    @Test func unknownRootFailsAtRunTime() {
        #expect(throws: EvaluationError("unknown name 'nope'")) { try evaluate("${{ nope.x }}") }
    }

    @Test func descriptionRoundTrips() throws {
        let template = try Template.parse("${{ steps.a.task.status == 'succeeded' && !failure() }}")
        #expect(template.description == "${{ (steps.a.task.status == 'succeeded') && !failure() }}")
        #expect(try Template.parse(template.description) == template)
    }
}

@Suite struct RFC3339Tests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0), ("2026-12-05T04:00:00Z", 1_796_443_200),
        ("2026-12-05T05:00:00+01:00", 1_796_443_200), ("2000-02-29T12:30:15.5Z", 951_827_415.5),
    ])
    func parses(text: String, seconds: Double) {
        #expect(RFC3339.seconds(text) == seconds)
    }

    @Test(arguments: ["2026-13-01T00:00:00Z", "2026-12-05", "2026-12-05T04:00:00", "tomorrow"])
    func rejects(text: String) {
        #expect(RFC3339.seconds(text) == nil)
    }

    @Test func formats() {
        #expect(RFC3339.format(1_796_443_200.25) == "2026-12-05T04:00:00.250Z")
    }
}
