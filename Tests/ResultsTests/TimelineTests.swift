import ChkflowCore
import Foundation
import Testing

@testable import Engine
@testable import Results

@Suite struct TimelineTests {
    /// The every-status report, with a window that closes 90 s after the start and keeps 20 s.
    static var report: JSON {
        Report.json(
            SampleRuns.everyStatus,
            exitCode: 1,
            window: ReportWindow(closes: SampleRuns.at(90), reserve: 20)
        )
    }

    static let labels = [
        "login", "verified", "each", "each[0] Paris", "each[0].export", "each[0].exported",
        "each[1] Lyon", "each[1].export", "each[1].exported", "sessions", "export-logs",
        "backup-wait", "notify", "check", "logout",
    ]

    @Test func theSampleIsWhatThePageGives() throws {
        try expectSample(TimelinePage.html(report: Self.report), "timeline-every-status.html")
    }

    @Test func everyStepAndItemHasItsRowInOrderAndItsLineInTheTable() {
        let html = TimelinePage.html(report: Self.report)
        let rows = html.matches(of: /<g class="row" data-step="([^"]*)">/).map { String($0.1) }
        #expect(rows == Self.labels)
        let cells = html.matches(of: /<tr><td>([^<]*)<\/td>/).map { String($0.1) }
        #expect(cells == Self.labels)
    }

    @Test func attemptsRetriesProgressAndTheWindowAreDrawn() {
        let html = TimelinePage.html(report: Self.report)
        #expect(html.matches(of: /class="try failed"/).count == 3)
        #expect(html.matches(of: /class="retry"/).count == 1)
        #expect(html.contains("<title>retry after 2s: err_too_many_requests</title>"))
        #expect(html.matches(of: /<rect class="progress"/).count == 3)
        #expect(html.contains("10s · task in progress 40%"))
        #expect(html.contains("<title>window closes 2026-12-05T01:01:30Z</title></line>"))
        #expect(html.contains("<title>reserve starts 2026-12-05T01:01:10Z</title></line>"))
        #expect(
            html.contains(
                "<text class=\"note\" x=\"294\" y=\""
                    + "295\">refused: it expects 45m, but the window leaves 2h59m24s minus a"
                    + " reserve of 30m</text>"
            )
        )
    }

    @Test func aWindowFarAfterTheRunIsANoteNotAnAxis() {
        let html = TimelinePage.html(
            report: Report.json(
                SampleRuns.everyStatus,
                exitCode: 1,
                window: ReportWindow(closes: SampleRuns.at(3 * 3600), reserve: 1800)
            )
        )
        #expect(
            html.contains(
                "window closes 2026-12-05T04:00:00Z, 2h59m after the last step</text>"
            )
        )
        #expect(!html.contains("<line class=\"closes\""))
        #expect(
            !TimelinePage.html(report: Report.json(SampleRuns.tiny, exitCode: 0)).contains("window")
        )
    }

    @Test func thePageFetchesNothing() {
        let html = TimelinePage.html(report: Self.report)
        #expect(
            html.contains(
                #"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">"#
            )
        )
        for fetching in ["src=", "href=", "url(", "@import", "<link", "<script", "<img", "<iframe"]
        {
            #expect(!html.contains(fetching), "\(fetching)")
        }
        let withoutServer = html.replacingOccurrences(of: "https://mgmt.example.net", with: "")
        #expect(!withoutServer.contains("http://"))
        #expect(!withoutServer.contains("https://"))
    }

    @Test func everyTextFromTheReportIsEscaped() {
        var run = SampleRuns.tiny
        run.playbookName = "<script>alert('name')</script>"
        run.steps[0].id = "a<b>&\"c\""
        run.steps[1].status = .failed
        run.steps[1].reason = "</text><script>alert(1)</script>"
        let html = TimelinePage.html(report: Report.json(run, exitCode: 1))
        #expect(!html.contains("<script"))
        #expect(!html.contains("</text><"))
        #expect(
            html.contains(
                "<h1>chkflow run: &lt;script&gt;alert(&apos;name&apos;)&lt;/script&gt;</h1>"
            )
        )
        #expect(html.contains(#"data-step="a&lt;b&gt;&amp;&quot;c&quot;""#))
        #expect(html.contains("&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt;"))
    }

    @Test func aReportFromTheSimulatorDrawsEveryStep() throws {
        let text = try String(
            contentsOfFile: Repository.sample("report-smc-export-simulator.json"),
            encoding: .utf8
        )
        let html = TimelinePage.html(report: try JSON.parse(text))
        let rows = html.matches(of: /<g class="row" data-step="([^"]*)">/).map { String($0.1) }
        #expect(rows == ["login", "verify", "verified", "export", "exported", "logout"])
        #expect(html.contains("<h1>chkflow run: smc-export</h1>"))
    }

    @Test func aLoopFromTheSimulatorDrawsEachItemUnderItsLoop() throws {
        let text = try String(
            contentsOfFile: Repository.sample("report-loop-simulator.json"),
            encoding: .utf8
        )
        let html = TimelinePage.html(report: try JSON.parse(text))
        let rows = html.matches(of: /<g class="row" data-step="([^"]*)">/).map { String($0.1) }
        var expected = ["login", "each"]
        for (index, version) in ["R81.20", "R82", "R80"].enumerated() {
            expected.append("each[\(index)] \(version)")
            expected += ["known", "verify", "verified"].map { "each[\(index)].\($0)" }
        }
        #expect(rows == expected + ["sessions", "logout"])
        #expect(html.matches(of: /<rect class="progress"/).count == 3)
        #expect(html.contains("R80 is not a supported target"))
        try expectSample(html, "timeline-loop-simulator.html")
    }

    @Test func anEmptyOrForeignDocumentStillGivesAPage() {
        for document in [JSON.object([:]), ["steps": [["id": 3, "started": "yesterday"]]], "x"] {
            let html = TimelinePage.html(report: document)
            #expect(html.hasPrefix("<!DOCTYPE html>\n<html lang=\"en\">"))
            #expect(html.hasSuffix("</body>\n</html>\n"))
        }
    }

    static let durations: [(Double, String)] = [
        (0, "0s"), (0.004, "4ms"), (0.25, "0.3s"), (12, "12s"), (59.96, "60s"), (60, "1m"),
        (90, "1m30s"),
        (3600, "1h"), (12310, "3h25m"),
    ]

    @Test(arguments: durations)
    func durationsAreShort(seconds: Double, expected: String) {
        #expect(Ticks.label(seconds) == expected)
    }

    static let spans: [(Double, Double)] = [
        (0.5, 0.1), (10, 2), (60.1, 10), (10800, 1800), (1e6, 172_800),
    ]

    @Test(arguments: spans)
    func ticksAreRoundAndFew(span: Double, expected: Double) {
        #expect(Ticks.step(for: span) == expected)
    }
}
