import ChkflowCore
import FoundationEssentials
import Glibc
import Results

/// `chkflow report RUN.json --format html`: a saved report as a self-contained page.
enum ReportCommand {
    static func execute(_ words: [String]) throws(UsageError) -> ExitCode {
        let arguments = try Arguments(words, valued: ["--format", "--output"], switches: [])
        guard arguments.operands.count == 1 else {
            throw UsageError("report needs exactly one report file")
        }
        let format = arguments.value("--format") ?? "html"
        guard format == "html" else { throw UsageError("--format must be html, not '\(format)'") }
        let console = Console()
        let path = arguments.operands[0]
        guard let data = FileManager.default.contents(atPath: path) else {
            console.error("chkflow: error: cannot read \(path)")
            return .invalidInput
        }
        let report: JSON
        do {
            report = try JSON.parse([UInt8](data))
        } catch {
            console.error("chkflow: error: \(path) is not a chkflow report: \(error)")
            return .invalidInput
        }
        guard report["chkflow-report"] != nil, report["steps"]?.arrayValue != nil else {
            console.error(
                "chkflow: error: \(path) is not a chkflow report (no chkflow-report field)"
            )
            return .invalidInput
        }
        let page = TimelinePage.html(report: report)
        guard let output = arguments.value("--output") else {
            console.output(page)
            return .success
        }
        do {
            try AtomicFile.write(page, to: output)
        } catch {
            console.error("chkflow: error: \(error)")
            return .cannotCreate
        }
        return .success
    }
}
