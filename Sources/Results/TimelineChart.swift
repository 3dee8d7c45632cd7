import ChkflowCore

/// The SVG time axis of the run timeline.
struct TimelineChart {
    static let width = 1200.0
    static let labelWidth = 290.0
    static let rightMargin = 200.0
    static let rowHeight = 22.0
    static let top = 60.0

    let rows: [TimelineRow]
    let start: Double
    let end: Double
    /// The window's closing time and the reserve's start, when the report has a window.
    let window: (closes: Double, latestEnd: Double)?

    init(report: JSON, rows: [TimelineRow]) {
        self.rows = rows
        let started = TimelineRow.time(report["started"]) ?? rows.compactMap(\.started).min() ?? 0
        let ends = rows.compactMap(\.ended) + [TimelineRow.time(report["ended"]) ?? started]
        let runEnd = max(ends.max() ?? started, started + 1)
        start = started
        if let closes = TimelineRow.time(report["window"]?["closes"]) {
            let latest = TimelineRow.time(report["window"]?["latest-end"]) ?? closes
            window = (closes, latest)
        } else {
            window = nil
        }
        // The axis reaches the window's closing time when that keeps the bars readable.
        if let window, window.closes > runEnd, window.closes - started <= 3 * (runEnd - started) {
            end = window.closes + (window.closes - started) * 0.02
        } else {
            end = runEnd
        }
    }

    var height: Double { Self.top + Double(rows.count) * Self.rowHeight + 12 }

    func x(_ time: Double) -> Double {
        let span = end - start
        let plotWidth = Self.width - Self.labelWidth - Self.rightMargin
        return Self.labelWidth + (time - start) / span * plotWidth
    }

    func svg() -> String {
        var parts = [
            "<svg class=\"timeline\" viewBox=\"0 0 \(f(Self.width)) \(f(height))\" role=\"img\""
                + " aria-label=\"run timeline\">"
        ]
        parts += axis()
        for (position, row) in rows.enumerated() {
            parts += self.row(row, at: Self.top + Double(position) * Self.rowHeight, position)
        }
        parts += windowLines()
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }

    private func axis() -> [String] {
        let step = Ticks.step(for: end - start)
        var parts: [String] = []
        var offset = 0.0
        while start + offset <= end + step * 0.001 {
            let position = f(x(start + offset))
            parts.append(
                "<line class=\"tick\" x1=\"\(position)\" y1=\"\(f(Self.top - 8))\" x2=\"\(position)\""
                    + " y2=\"\(f(height - 6))\"/>"
            )
            parts.append(
                "<text x=\"\(position)\" y=\"\(f(Self.top - 12))\" text-anchor=\"middle\">"
                    + "\(Ticks.label(offset))</text>"
            )
            offset += step
        }
        return parts
    }

    private func row(_ row: TimelineRow, at y: Double, _ position: Int) -> [String] {
        var parts = ["<g class=\"row\" data-step=\"\(TimelinePage.text(row.label))\">"]
        parts.append("<title>\(TimelinePage.text(details(row)))</title>")
        if position % 2 == 1 {
            parts.append(
                "<rect class=\"zebra\" x=\"0\" y=\"\(f(y))\" width=\"\(f(Self.width))\""
                    + " height=\"\(f(Self.rowHeight))\"/>"
            )
        }
        let indent = 6 + Double(row.depth) * 14
        parts.append(
            "<text x=\"\(f(indent))\" y=\"\(f(y + 15))\">"
                + TimelinePage.text(shortened(row.label, to: 40 - row.depth * 2)) + "</text>"
        )
        if let started = row.started, let ended = row.ended {
            parts += bar(row, from: started, to: ended, y: y)
        } else {
            let note = row.status + (row.reason.map { ": \($0)" } ?? "")
            parts.append(
                "<text class=\"note\" x=\"\(f(Self.labelWidth + 4))\" y=\"\(f(y + 15))\">"
                    + TimelinePage.text(shortened(note, to: 110)) + "</text>"
            )
        }
        parts.append("</g>")
        return parts
    }

    private func bar(
        _ row: TimelineRow,
        from started: Double,
        to ended: Double,
        y: Double
    )
        -> [String]
    {
        let left = x(started)
        let width = max(2, x(ended) - left)
        let status = "s-" + TimelinePage.text(row.status)
        var parts = [
            "<rect class=\"bar \(row.isItem ? "item " : "")\(status)\" x=\"\(f(left))\""
                + " y=\"\(f(y + 3))\" width=\"\(f(width))\" height=\"16\" rx=\"2\"/>"
        ]
        for attempt in row.tries {
            parts += tryMarks(attempt, status: status, y: y)
        }
        if let progress = row.progress {
            let filled = width * Double(min(100, max(0, progress))) / 100
            parts.append(
                "<rect class=\"progress\" x=\"\(f(left))\" y=\"\(f(y + 17))\""
                    + " width=\"\(f(filled))\" height=\"3\"/>"
            )
        }
        parts.append(
            "<text x=\"\(f(left + width + 6))\" y=\"\(f(y + 15))\">"
                + TimelinePage.text(barLabel(row, duration: ended - started)) + "</text>"
        )
        return parts
    }

    /// An attempt as a solid block; after a failed one that was retried, the wait as a dashed
    /// line ending in a red triangle where the next attempt starts.
    private func tryMarks(_ attempt: TimelineRow.Try, status: String, y: Double) -> [String] {
        let left = x(attempt.started)
        let width = max(1.5, x(attempt.ended) - left)
        let kind = attempt.failed ? "try failed" : "try \(status)"
        var parts = [
            "<rect class=\"\(kind)\" x=\"\(f(left))\" y=\"\(f(y + 6))\" width=\"\(f(width))\""
                + " height=\"10\"/>"
        ]
        guard let wait = attempt.waitAfter else { return parts }
        let from = x(attempt.ended)
        let to = x(attempt.ended + wait)
        let middle = y + 11
        let what = "retry after \(Ticks.label(wait))" + (attempt.code.map { ": \($0)" } ?? "")
        parts.append(
            "<line class=\"wait\" x1=\"\(f(from))\" y1=\"\(f(middle))\" x2=\"\(f(to))\""
                + " y2=\"\(f(middle))\"/>"
        )
        parts.append(
            "<polygon class=\"retry\" points=\"\(f(to - 4)),\(f(y + 2)) \(f(to + 4)),\(f(y + 2))"
                + " \(f(to)),\(f(y + 8))\"><title>\(TimelinePage.text(what))</title></polygon>"
        )
        return parts
    }

    private func barLabel(_ row: TimelineRow, duration: Double) -> String {
        var text = Ticks.label(duration)
        if row.tries.count > 1 { text += " · \(row.tries.count) attempts" }
        if let progress = row.progress {
            text += " · task \(row.taskStatus ?? "?") \(progress)%"
        } else if row.status != "succeeded" {
            text += " · " + (row.errorCode ?? row.status)
        }
        return text
    }

    private func details(_ row: TimelineRow) -> String {
        var lines = ["\(row.label) (\(row.kind)): \(row.status)"]
        if let started = row.started, let ended = row.ended {
            lines.append(
                "\(RFC3339Text.format(started)) to \(RFC3339Text.format(ended))"
                    + " (\(Ticks.label(ended - started)))"
            )
        }
        if !row.tries.isEmpty { lines.append("attempts: \(row.tries.count)") }
        if let taskID = row.taskID {
            let state = row.taskStatus.map { ", \($0) \(row.progress ?? 0)%" } ?? ""
            lines.append("task \(taskID)\(state)")
        }
        if let code = row.errorCode { lines.append("code: \(code)") }
        if let reason = row.reason { lines.append(reason) }
        return lines.joined(separator: "\n")
    }

    private func windowLines() -> [String] {
        guard let window else { return [] }
        guard window.closes <= end else {
            let after = Ticks.label(window.closes - end)
            return [
                "<text class=\"note\" x=\"\(f(Self.width - 6))\" y=\"14\" text-anchor=\"end\">"
                    + "window closes \(RFC3339Text.format(window.closes)), \(after) after the"
                    + " last step</text>"
            ]
        }
        var parts: [String] = []
        for (time, kind, label, labelY) in [
            (window.latestEnd, "reserve", "reserve starts", 14.0),
            (window.closes, "closes", "window closes", 29.0),
        ] where time >= start && (kind == "closes" || window.latestEnd < window.closes) {
            let position = f(x(time))
            parts.append(
                "<line class=\"\(kind)\" x1=\"\(position)\" y1=\"\(f(Self.top - 4))\""
                    + " x2=\"\(position)\" y2=\"\(f(height - 6))\"><title>\(label)"
                    + " \(RFC3339Text.format(time))</title></line>"
            )
            parts.append(
                "<text x=\"\(position)\" y=\"\(f(labelY))\" text-anchor=\"end\">\(label)</text>"
            )
        }
        return parts
    }

    private func shortened(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(max(1, limit - 1))) + "…"
    }

    /// A coordinate with at most one decimal.
    private func f(_ value: Double) -> String {
        let tenths = (value * 10).rounded() / 10
        return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
    }
}

/// Times as the page prints them: RFC 3339 without the milliseconds.
enum RFC3339Text {
    static func format(_ time: Double) -> String {
        let text = Report.time(time).stringValue ?? ""
        return String(text.prefix(19)) + "Z"
    }
}
