import ChkflowCore
import Foundation
import Testing

@testable import Engine
@testable import Results

@Suite struct JUnitTests {
    /// A login, a verification refused with markup in its message, a loop of one item whose
    /// step was skipped, and a logout.
    static var smallRun: RunResult {
        var error = ErrorSummary(
            message: "Domain <Lyon> & \"Global\" can't be verified",
            code: "err_validation_failed",
            httpStatus: 400
        )
        error.blockingErrors = ["line one\nline two"]
        let verify = StepResult(
            id: "verify",
            kind: "verify",
            status: .failed,
            reason: "err_validation_failed: Domain <Lyon> & \"Global\" can't be verified",
            started: SampleRuns.at(0.25),
            ended: SampleRuns.at(1),
            attempts: [
                Attempt(number: 1, started: SampleRuns.at(0.25), ended: SampleRuns.at(1))
            ],
            error: error
        )
        let item = ItemResult(
            index: 0,
            item: "Paris",
            status: .skipped,
            steps: [
                StepResult(
                    id: "export",
                    kind: "export",
                    status: .skipped,
                    reason: "its condition is false"
                )
            ]
        )
        let loop = StepResult(
            id: "each",
            kind: "for-each",
            status: .succeeded,
            started: SampleRuns.at(1),
            ended: SampleRuns.at(1.5),
            items: [item]
        )
        var steps = SampleRuns.tiny.steps
        steps.insert(contentsOf: [verify, loop], at: 1)
        return SampleRuns.run(name: "small", steps: steps, outcome: .failed, calls: 3)
    }

    @Test func aSmallRunGivesExactlyThisXML() {
        #expect(
            JUnitReport.xml(Self.smallRun) == """
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuites name="small" tests="5" failures="1" errors="0" skipped="1" time="1.500">
                  <testsuite name="small" tests="5" failures="1" errors="0" skipped="1" time="1.500" timestamp="2026-12-05T01:00:00">
                    <properties>
                      <property name="run-id" value="20261205010000-0a1b2c3d"/>
                      <property name="playbook-file" value="playbooks/small.yaml"/>
                      <property name="playbook-sha256" value="\(String(repeating: "ab", count: 32))"/>
                      <property name="outcome" value="failed"/>
                      <property name="api-calls" value="3"/>
                      <property name="logins" value="1"/>
                      <property name="server.primary" value="2.0.1"/>
                    </properties>
                    <testcase name="login" classname="small" time="0.250"/>
                    <testcase name="verify" classname="small" time="0.750">
                      <failure message="err_validation_failed: Domain &lt;Lyon&gt; &amp; &quot;Global&quot; can&apos;t be verified" type="err_validation_failed">err_validation_failed: Domain &lt;Lyon&gt; &amp; "Global" can't be verified
                code: err_validation_failed
                http-status: 400
                blocking-error: line one
                line two</failure>
                    </testcase>
                    <testcase name="each" classname="small" time="0.500"/>
                    <testcase name="each[0].export" classname="small" time="0.000">
                      <skipped message="its condition is false"/>
                    </testcase>
                    <testcase name="logout" classname="small" time="0.250"/>
                  </testsuite>
                </testsuites>

                """
        )
    }

    @Test func everyStatusMapsToItsElement() throws {
        let xml = JUnitReport.xml(SampleRuns.everyStatus)
        try expectSample(xml, "junit-every-status.xml")
        #expect(
            xml.contains(
                #"<testsuite name="every-status" tests="13" failures="4" errors="1" skipped="2""#
            )
        )
        #expect(
            xml.contains(
                #"<testcase name="each[1].export" classname="every-status" time="0.750">"#
            )
        )
        #expect(xml.contains(#"<failure message="it expects 45m"#))
        #expect(xml.contains(#"type="refused">"#))
        #expect(xml.contains(#"type="timed-out">"#))
        #expect(
            xml.contains(
                #"<error message="the run was cancelled while this step ran" type="cancelled"/>"#
            )
        )
        #expect(
            xml.contains(
                "<system-out>ignored: generic_err_object_not_found: Session not found (ignored: on-error says continue)</system-out>"
            )
        )
    }

    @Test(arguments: [
        ("a & b", "a &amp; b"), ("<x>", "&lt;x&gt;"), ("\"'", "&quot;&apos;"),
        ("tab\there", "tab&#9;here"), ("one\ntwo", "one&#10;two"),
        ("nul\u{0}bell\u{7}", "nul\u{FFFD}bell\u{FFFD}"),
        ("é 東京 🔥", "é 東京 🔥"),
    ])
    func attributeTextIsEscaped(text: String, expected: String) {
        #expect(Markup.escaped(text, quotes: true) == expected)
    }

    @Test func elementTextKeepsQuotesAndLineBreaks() {
        #expect(Markup.escaped("a \"b\"\n<c>\r", quotes: false) == "a \"b\"\n&lt;c&gt;&#13;")
    }

    @Test(
        .enabled(
            if: which("xmllint") != nil,
            "xmllint is missing: apt-get install -y libxml2-utils"
        )
    )
    func xmllintFindsTheXMLWellFormed() throws {
        var run = Self.smallRun
        run.steps[1].reason = "control \u{1}\u{1b}[31m characters ]]> and <![CDATA[ & \u{FFFF}"
        run.playbookName = "name with \"quotes\" & <angles>"
        let folder = Repository.temporaryFolder()
        for (name, text) in [
            ("small.xml", JUnitReport.xml(run)),
            ("every.xml", JUnitReport.xml(SampleRuns.everyStatus)),
        ] {
            let path = folder + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let outcome = try runProgram(which("xmllint") ?? "", ["--noout", path])
            #expect(outcome.status == 0, "\(name): \(outcome.stderr)")
            #expect(outcome.stderr == "")
        }
    }

    @Test(.enabled(if: which("python3") != nil, "python3 is missing"))
    func pythonReadsBackTheNamesAndMessages() throws {
        let path = Repository.temporaryFolder() + "/small.xml"
        try JUnitReport.xml(Self.smallRun).write(toFile: path, atomically: true, encoding: .utf8)
        let script = """
            import sys, xml.etree.ElementTree as tree
            root = tree.parse(sys.argv[1]).getroot()
            for case in root.iter("testcase"):
                failure = case.find("failure")
                print(case.get("name"), failure.get("message") if failure is not None else "-")
            """
        let outcome = try runProgram(which("python3") ?? "", ["-c", script, path])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(
            outcome.stdout == """
                login -
                verify err_validation_failed: Domain <Lyon> & "Global" can't be verified
                each -
                each[0].export -
                logout -

                """
        )
    }
}
