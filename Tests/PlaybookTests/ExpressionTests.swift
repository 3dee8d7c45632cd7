import ChkflowCore
import Playbook
import Testing

/// What expressions see in these tests: a loop over domains (`domain`) inside a loop over sites
/// (`site`), after an export and a show-domains step.
private let scope = EvaluationScope(
    roots: [
        "inputs": [
            "version": "R82", "count": 3, "empty": "", "zero": 0, "list": ["a", "b"],
            "flag": false,
        ],
        "secrets": ["password": "hunter2", "token": "t0k"],
        "env": ["HOST": "mgmt"],
        "steps": [
            "export": ["task-id": "t-1", "status": "succeeded"],
            "domains": [
                "response": [
                    "objects": [
                        ["name": "A", "servers": [["ip": "10.0.0.1"]]],
                        ["name": "B", "servers": [["ip": "10.0.0.2"], ["ip": "10.0.0.3"]]],
                    ],
                    "total": 2,
                ]
            ],
            "odd": ["odd name": 5],
        ],
        "domain": "Alpha",
        "site": ["name": "north", "paths": ["/a", "/b"]],
    ],
    statusFunctions: ["success": true, "failure": false, "always": true, "cancelled": false]
)

private func evaluate(_ text: String) throws -> Value {
    try Template.parse(text).evaluate(in: scope)
}

@Suite struct ExpressionEvaluationTests {
    static let literalsAndPaths: [(String, JSON)] = [
        ("${{ 'it''s' }}", "it's"),
        ("${{ 42 }}", 42),
        ("${{ -1.5 }}", -1.5),
        ("${{ 1e3 }}", 1000.0),
        ("${{ true }}", true),
        ("${{ null }}", nil),
        ("plain text", "plain text"),
        ("${{ inputs.count }} items", "3 items"),
        ("a${{ null }}b", "ab"),
        (" ${{ inputs.count }} ", 3),
        ("list: ${{ inputs.list }}", "list: [\"a\",\"b\"]"),
        ("${{ inputs.version }}", "R82"),
        ("${{ inputs.missing }}", nil),
        ("${{ env.HOST }}", "mgmt"),
        ("${{ steps.export.task-id }}", "t-1"),
        ("${{ steps.domains.response.objects[*].name }}", ["A", "B"]),
        ("${{ steps.domains.response.objects[1].name }}", "B"),
        ("${{ steps.domains.response.objects[5].name }}", nil),
        (
            "${{ steps.domains.response.objects[*].servers[*].ip }}",
            ["10.0.0.1", "10.0.0.2", "10.0.0.3"]
        ),
        ("${{ steps.odd['odd name'] }}", 5),
        ("${{ steps.export['task-id'] }}", "t-1"),
        ("${{ domain }}", "Alpha"),
        ("/var/log/${{ domain }}.tgz", "/var/log/Alpha.tgz"),
        ("${{ site.name }}", "north"),
        ("${{ site.paths[0] }}", "/a"),
        ("${{ site.paths[*] }}", ["/a", "/b"]),
    ]

    @Test(arguments: literalsAndPaths)
    func readsLiteralsAndPaths(text: String, expected: JSON) throws {
        #expect(try evaluate(text).json == expected)
    }

    static let operators: [(String, JSON)] = [
        ("${{ steps.export.status == 'SUCCEEDED' }}", true),
        ("${{ inputs.count == 3.0 }}", true),
        ("${{ inputs.count == '3' }}", true),
        ("${{ inputs.version != 'R81.20' }}", true),
        ("${{ inputs.list == inputs.list }}", true),
        ("${{ inputs.count < 4 }}", true),
        ("${{ inputs.count <= 3 }}", true),
        ("${{ inputs.count > 3 }}", false),
        ("${{ inputs.count >= 3 }}", true),
        ("${{ 'R81.20' < 'R82' }}", true),
        ("${{ '10' > '9' }}", true),
        ("${{ inputs.count > 1 && inputs.version }}", "R82"),
        ("${{ inputs.zero && nope.x }}", 0),
        ("${{ inputs.empty || 'fallback' }}", "fallback"),
        ("${{ inputs.version || nope.x }}", "R82"),
        ("${{ !inputs.flag }}", true),
        ("${{ !inputs.zero }}", true),
        ("${{ !inputs.empty }}", true),
        ("${{ !inputs.list }}", false),
        ("${{ !null }}", true),
        ("${{ !steps.export }}", false),
        ("${{ !!inputs.version }}", true),
        ("${{ true || false && false }}", true),
        ("${{ (true || false) && false }}", false),
        ("${{ !(inputs.count == 3) }}", false),
        ("${{ !inputs.count == 3 }}", false),
        ("${{ ((inputs.count)) }}", 3),
        ("${{ inputs.count>=3&&!failure() }}", true),
    ]

    @Test(arguments: operators)
    func appliesOperators(text: String, expected: JSON) throws {
        #expect(try evaluate(text).json == expected)
    }

    static let functions: [(String, JSON)] = [
        ("${{ success() }}", true),
        ("${{ failure() }}", false),
        ("${{ always() }}", true),
        ("${{ cancelled() }}", false),
        ("${{ contains(steps.domains.response.objects[*].name, 'b') }}", true),
        ("${{ contains(inputs.list, 'c') }}", false),
        ("${{ contains('Management', 'AGE') }}", true),
        ("${{ contains(inputs.count, 3) }}", true),
        ("${{ contains(steps.domains.response.objects[*].servers[*].ip, '10.0.0.3') }}", true),
        ("${{ startsWith(inputs.version, 'r8') }}", true),
        ("${{ startsWith('abc', 'bc') }}", false),
        ("${{ endsWith('export.tgz', '.TGZ') }}", true),
        ("${{ format('{0}/{1}', env.HOST, inputs.version) }}", "mgmt/R82"),
        ("${{ format('{{0}} is {0}', 1) }}", "{0} is 1"),
        ("${{ format('{1}{0}', 'a', 'b') }}", "ba"),
        ("${{ format('no placeholders') }}", "no placeholders"),
        ("${{ join(inputs.list) }}", "a,b"),
        ("${{ join(inputs.list, ' + ') }}", "a + b"),
        ("${{ join('solo', '-') }}", "solo"),
        ("${{ join(steps.domains.response.objects[*].name, ', ') }}", "A, B"),
        ("${{ length('héllo') }}", 5),
        ("${{ length(inputs.list) }}", 2),
        ("${{ length(steps.domains.response) }}", 2),
        ("${{ length('') }}", 0),
        ("${{ toJSON(inputs.list) }}", "[\"a\",\"b\"]"),
        ("${{ toJSON(site) }}", "{\"name\":\"north\",\"paths\":[\"/a\",\"/b\"]}"),
        ("${{ toJSON('x') }}", "\"x\""),
        ("${{ toJSON(null) }}", "null"),
        ("${{ fromJSON('{\"a\": [1, 2.5, null]}') }}", ["a": [1, 2.5, nil]]),
        ("${{ fromJSON('true') }}", true),
        ("${{ fromJSON(toJSON(site)) }}", ["name": "north", "paths": ["/a", "/b"]]),
        ("${{ length(format('{0}{0}', 'ab')) }}", 4),
    ]

    @Test(arguments: functions)
    func callsFunctions(text: String, expected: JSON) throws {
        #expect(try evaluate(text).json == expected)
    }

    @Test func statusFunctionsDefaultToARunThatWentWell() throws {
        let bare = EvaluationScope(roots: [:])
        let answers = try ["success", "failure", "always", "cancelled"].map {
            try Template.parse("${{ \($0)() }}").evaluate(in: bare).json
        }
        #expect(answers == [false, false, true, false])
    }

    static let runTimeErrors: [(String, String)] = [
        ("${{ nope.x }}", "unknown name 'nope'"),
        ("${{ 'a' < 1 }}", "cannot compare string with number using '<'"),
        ("${{ inputs.list >= 1 }}", "cannot compare array with number using '>='"),
        ("${{ format('{0} {1}', 'a') }}", "format(): no argument for {1}"),
        ("${{ format('{x}', 'a') }}", "format(): invalid placeholder in '{x}'"),
        ("${{ format('{0', 'a') }}", "format(): invalid placeholder in '{0'"),
        (
            "${{ length(inputs.count) }}",
            "length() needs a string, an array or an object, not number"
        ),
        ("${{ fromJSON('{') }}", "fromJSON(): invalid JSON at byte 1: expected a string key"),
        ("${{ nosuch(1) }}", "unknown function 'nosuch'"),
    ]

    @Test(arguments: runTimeErrors)
    func failsAtRunTimeWithAMessage(text: String, message: String) {
        #expect(throws: EvaluationError(message)) { try evaluate(text) }
    }
}

@Suite struct SecretTaintTests {
    static let cases: [(String, Bool)] = [
        ("${{ secrets.password }}", true),
        ("${{ secrets }}", true),
        ("user:${{ secrets.password }}", true),
        ("${{ !secrets.password }}", true),
        ("${{ secrets.password == 'x' }}", true),
        ("${{ secrets.password < 'z' }}", true),
        ("${{ secrets.password && inputs.version }}", true),
        ("${{ inputs.empty || secrets.password }}", true),
        ("${{ secrets.password || 'x' }}", true),
        ("${{ (secrets.password) }}", true),
        ("${{ contains(secrets.password, 'h') }}", true),
        ("${{ contains(inputs.list, secrets.token) }}", true),
        ("${{ startsWith(secrets.password, 'h') }}", true),
        ("${{ endsWith(secrets.password, '2') }}", true),
        ("${{ format('{0}', secrets.password) }}", true),
        ("${{ format(secrets.password) }}", true),
        ("${{ join(secrets.password) }}", true),
        ("${{ length(secrets.password) }}", true),
        ("${{ toJSON(secrets.password) }}", true),
        ("${{ fromJSON(toJSON(secrets.password)) }}", true),
        // The value is the left operand alone; nothing of the secret is in it.
        ("${{ inputs.version || secrets.password }}", false),
        ("${{ inputs.zero && secrets.password }}", false),
        ("${{ success() }}", false),
        ("${{ inputs.version }}", false),
        ("${{ steps.export.task-id }}", false),
        ("${{ format('{0}', inputs.version) }}", false),
    ]

    @Test(arguments: cases)
    func marksEveryValueBuiltFromASecret(text: String, secret: Bool) throws {
        #expect(try evaluate(text).isSecret == secret)
    }

    @Test func aBodyWithOneSecretLeafIsSecret() throws {
        let password = try Template.parse("${{ secrets.password }}")
        let user = try Template.parse("admin")
        let body = TemplateTree.object([
            ("user", .leaf(user)), ("credentials", .array([.leaf(password)])),
        ])
        let value = try body.evaluate(in: scope)
        #expect(value.isSecret)
        #expect(value.json == ["user": "admin", "credentials": ["hunter2"]])
        #expect(try TemplateTree.array([.leaf(user)]).evaluate(in: scope).isSecret == false)
    }
}

@Suite struct ExpressionSyntaxTests {
    static let errors: [(String, Int, String)] = [
        ("${{ inputs. }}", 11, "expected a name after '.'"),
        ("${{ (a }}", 7, "expected ')'"),
        ("${{ 'open }}", 0, "'${{' without a closing '}}'"),
        ("${{ a == }}", 9, "expected a value"),
        ("x ${{ a", 2, "'${{' without a closing '}}'"),
        ("${{ }}", 4, "expected a value"),
        ("${{ a b }}", 6, "unexpected 'b'"),
        ("${{ a[ }}", 7, "expected an index, '*' or a quoted name"),
        ("${{ a[1 }}", 8, "expected ']'"),
        ("${{ f(a b) }}", 8, "expected ',' or ')'"),
        ("${{ 1.2.3 }}", 4, "invalid number '1.2.3'"),
        ("${{ 1e }}", 4, "invalid number '1e'"),
        ("${{ 1 < 2 == true }}", 10, "unexpected '='"),
        ("${{ ! }}", 6, "expected a value"),
        ("${{ a ? b }}", 6, "unexpected '?'"),
        ("${{ a == 'x }}", 0, "'${{' without a closing '}}'"),
        ("ok ${{ a }} then ${{ b. }}", 23, "expected a name after '.'"),
    ]

    @Test(arguments: errors)
    func reportsWhereAndWhat(text: String, offset: Int, message: String) {
        #expect(throws: ExpressionSyntaxError(offset: offset, message: message)) {
            try Template.parse(text)
        }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text =
            "${{ " + String(repeating: "(", count: 10_000) + "1"
            + String(repeating: ")", count: 10_000) + " }}"
        #expect(throws: ExpressionSyntaxError(offset: 68, message: "expression nested too deeply"))
        {
            try Template.parse(text)
        }
        let negations = "${{ " + String(repeating: "!", count: 10_000) + "true }}"
        #expect(throws: ExpressionSyntaxError.self) { try Template.parse(negations) }
    }

    static let descriptions: [(String, String)] = [
        (
            "${{ steps.a.task.status == 'succeeded' && !failure() }}",
            "${{ (steps.a.task.status == 'succeeded') && !failure() }}"
        ),
        ("${{ steps.odd['odd name'] }}", "${{ steps.odd['odd name'] }}"),
        ("${{ steps.odd['it''s'][*] }}", "${{ steps.odd['it''s'][*] }}"),
        ("${{ 2.0 }}", "${{ 2.0 }}"),
        ("${{ 1e20 }}", "${{ 1e+20 }}"),
        ("${{ 'it''s' }}", "${{ 'it''s' }}"),
        ("v-${{ inputs.version }}-x", "v-${{ inputs.version }}-x"),
        ("${{ a[*].b[0] }}", "${{ a[*].b[0] }}"),
        ("${{ !(a || b) }}", "${{ !(a || b) }}"),
        ("${{ format('{0}', x, -1) }}", "${{ format('{0}', x, -1) }}"),
        // A chain of one operator prints flat, however long (found by the fuzzer: 68 levels of
        // parentheses read back past the nesting limit).
        ("${{ a && b && c || d || e }}", "${{ (a && b && c) || d || e }}"),
        ("${{ a && (b && c) }}", "${{ a && (b && c) }}"),
        (
            "${{ " + Array(repeating: "x", count: 300).joined(separator: " && ") + " }}",
            "${{ " + Array(repeating: "x", count: 300).joined(separator: " && ") + " }}"
        ),
        ("${{ a == b && c != d }}", "${{ (a == b) && (c != d) }}"),
    ]

    @Test(arguments: descriptions)
    func printsBackAsTextThatParsesTheSame(text: String, printed: String) throws {
        let template = try Template.parse(text)
        #expect(template.description == printed)
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
