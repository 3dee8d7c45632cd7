import ChkflowCore

/// The run timeline: one self-contained HTML page drawn from a JSON report.
///
/// Each step and loop item is a bar on a time axis; inside it, each attempt, with failed ones
/// in red and the wait before a retry dashed; a wait step shows how far its server task got; the
/// change window's reserve and closing time are vertical lines. Styles and the SVG are inline and
/// a Content-Security-Policy forbids every fetch, so the page opens offline, attached to a
/// change ticket. Hovering a bar shows its details; a table below repeats them as text.
public enum TimelinePage {
    /// The page for a report as `Report.json` writes it (or as read back from a file).
    public static func html(report: JSON) -> String {
        let rows = TimelineRow.rows(report)
        let title = "chkflow run: " + (report["playbook"]?["name"]?.stringValue ?? "?")
        return [
            "<!DOCTYPE html>",
            #"<html lang="en">"#,
            "<head>",
            #"<meta charset="utf-8">"#,
            #"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">"#,
            #"<meta name="viewport" content="width=device-width, initial-scale=1">"#,
            "<title>\(text(title))</title>",
            "<style>\n\(style)</style>",
            "</head>",
            "<body>",
            "<h1>\(text(title))</h1>",
            TimelineSummary.html(report),
            legend,
            TimelineChart(report: report, rows: rows).svg(),
            table(rows),
            "</body>",
            "</html>",
        ].joined(separator: "\n") + "\n"
    }

    static func text(_ value: String) -> String { Markup.escaped(value, quotes: true) }

    /// Every status and the colour it is drawn in.
    static let colours: [(status: String, colour: String)] = [
        ("succeeded", "#2e7d32"), ("failed", "#c62828"), ("timed-out", "#ef6c00"),
        ("refused", "#6a1b9a"), ("cancelled", "#616161"), ("skipped", "#9e9e9e"),
        ("ignored", "#f9a825"),
    ]

    private static var style: String {
        var css = """
            body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #212121; }
            h1 { font-size: 20px; margin: 0 0 8px; }
            dl.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; }
            dl.summary dt { color: #616161; } dl.summary dd { margin: 0; }
            .legend span { display: inline-block; margin-right: 14px; }
            .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px;
              vertical-align: -1px; }
            svg.timeline { width: 100%; height: auto; margin: 12px 0; font-size: 12px; }
            svg text { fill: #212121; } svg .tick { stroke: #e0e0e0; }
            svg .note { fill: #616161; font-style: italic; } svg .zebra { fill: #f5f5f5; }
            svg .wait { stroke: #c62828; stroke-dasharray: 3 3; }
            svg .progress { fill: #1565c0; } svg .retry { fill: #c62828; font-weight: bold; }
            svg .reserve { stroke: #ef6c00; stroke-dasharray: 6 4; }
            svg .closes { stroke: #b71c1c; stroke-width: 2; }
            svg .bar { fill-opacity: 0.2; } svg .item { fill-opacity: 0.08; stroke-dasharray: 4 2; }
            svg .try.failed { fill: #c62828; stroke: #c62828; }
            table { border-collapse: collapse; } td, th { border-bottom: 1px solid #e0e0e0;
              padding: 3px 8px; text-align: left; vertical-align: top; }

            """
        for (status, colour) in colours {
            css += ".s-\(status) { fill: \(colour); stroke: \(colour); }\n"
            css += ".legend .s-\(status), td.s-\(status) { background: \(colour); color: #fff; }\n"
        }
        return css
    }

    private static var legend: String {
        let swatches = colours.map { #"<span><i class="s-\#($0.status)"></i>\#($0.status)</span>"# }
        return #"<p class="legend">"# + swatches.joined() + "</p>"
    }

    private static func table(_ rows: [TimelineRow]) -> String {
        var lines = [
            "<table>",
            "<tr><th>step</th><th>kind</th><th>status</th><th>duration</th><th>attempts</th>"
                + "<th>task</th><th>reason</th></tr>",
        ]
        for row in rows {
            let duration = row.duration.map(Ticks.label) ?? ""
            let task = [row.taskID, row.taskStatus, row.progress.map { "\($0)%" }]
                .compactMap { $0 }.joined(separator: " ")
            let cells = [
                text(row.label), text(row.kind), text(row.status), duration,
                row.tries.isEmpty ? "" : "\(row.tries.count)", text(task),
                text([row.errorCode, row.reason].compactMap { $0 }.joined(separator: ": ")),
            ]
            let status = "<td class=\"s-\(text(row.status))\">"
            lines.append(
                "<tr><td>" + cells[0] + "</td><td>" + cells[1] + "</td>" + status + cells[2]
                    + "</td><td>" + cells[3...].joined(separator: "</td><td>") + "</td></tr>"
            )
        }
        lines.append("</table>")
        return lines.joined(separator: "\n")
    }
}

/// The lines above the chart: which run, how it ended, what it cost.
enum TimelineSummary {
    static func html(_ report: JSON) -> String {
        var entries: [(String, String)] = [
            ("run id", report["run-id"]?.stringValue ?? "?"),
            ("playbook", report["playbook"]?["file"]?.stringValue ?? "?"),
            ("sha256", report["playbook"]?["sha256"]?.stringValue ?? "?"),
            ("outcome", outcome(report)),
            ("started", report["started"]?.stringValue ?? "?"),
            ("ended", report["ended"]?.stringValue ?? "?"),
            ("duration", (report["duration-seconds"]?.doubleValue).map(Ticks.label) ?? "?"),
        ]
        for server in report["servers"]?.arrayValue ?? [] {
            let name = server["name"]?.stringValue ?? "?"
            let version = server["api-server-version"]?.stringValue ?? "unknown"
            let url = server["url"]?.stringValue ?? ""
            entries.append(("server \(name)", "\(url), API \(version)"))
        }
        if let window = report["window"] {
            let closes = window["closes"]?.stringValue ?? "?"
            let latest = window["latest-end"]?.stringValue ?? "?"
            entries.append(("window", "closes \(closes); steps must end by \(latest)"))
        }
        entries.append(("totals", totals(report["totals"])))
        if let version = report["chkflow-version"]?.stringValue {
            entries.append(("chkflow", version))
        }
        let items = entries.map {
            "<dt>\(TimelinePage.text($0.0))</dt><dd>\(TimelinePage.text($0.1))</dd>"
        }
        return "<dl class=\"summary\">\n" + items.joined(separator: "\n") + "\n</dl>"
    }

    private static func outcome(_ report: JSON) -> String {
        let outcome = report["outcome"]?.stringValue ?? "?"
        return report["exit-code"]?.intValue.map { "\(outcome) (exit \($0))" } ?? outcome
    }

    private static func totals(_ totals: JSON?) -> String {
        guard let totals else { return "?" }
        var statuses: [String] = []
        let counts = totals["steps"]?.objectValue ?? [:]
        for (status, _) in TimelinePage.colours {
            if let count = counts[status]?.intValue, count > 0 {
                statuses.append("\(count) \(status)")
            }
        }
        var costs: [String] = []
        if let calls = totals["api-calls"]?.intValue { costs.append(counted(calls, "API call")) }
        if let logins = totals["logins"]?.intValue { costs.append(counted(logins, "login")) }
        if let waiting = totals["waiting-seconds"]?.doubleValue {
            costs.append("\(Ticks.label(waiting)) waiting for tasks")
        }
        return "steps: " + statuses.joined(separator: ", ") + "; " + costs.joined(separator: ", ")
    }

    private static func counted(_ count: Int64, _ noun: String) -> String {
        "\(count) \(noun)" + (count == 1 ? "" : "s")
    }
}

/// Tick spacing and the labels of durations.
enum Ticks {
    static let steps: [Double] = [
        0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800,
        21600, 43200, 86400,
    ]

    /// The smallest spacing that puts at most `count` ticks on the span.
    static func step(for span: Double, count: Double = 8) -> Double {
        steps.first { span / $0 <= count } ?? (span / count / 86400).rounded(.up) * 86400
    }

    /// `0s`, `4ms`, `0.5s`, `45s`, `1m30s`, `2h5m`.
    static func label(_ seconds: Double) -> String {
        let value = max(0, seconds)
        if value > 0, value < 0.095 { return "\(Int((value * 1000).rounded()))ms" }
        if value < 60 {
            let tenths = (value * 10).rounded() / 10
            return tenths == tenths.rounded() ? "\(Int(tenths))s" : "\(tenths)s"
        }
        let whole = Int(value.rounded())
        if whole < 3600 {
            return "\(whole / 60)m" + (whole % 60 == 0 ? "" : "\(whole % 60)s")
        }
        let minutes = whole % 3600 / 60
        return "\(whole / 3600)h" + (minutes == 0 ? "" : "\(minutes)m")
    }
}
