import FoundationEssentials
import Glibc
import Playbook
import PlaybookYAML

/// Prints playbook problems compiler-style; on a terminal each is followed by its source line
/// and a caret.
enum DiagnosticPrinter {
    static func print(_ diagnostics: [Diagnostic], console: Console) {
        var sources: [String: String] = [:]
        for diagnostic in diagnostics {
            let error = YAMLError(
                file: diagnostic.file,
                mark: diagnostic.mark,
                message: diagnostic.message
            )
            guard Console.standardErrorIsTerminal else {
                console.error(error.description)
                continue
            }
            if sources[diagnostic.file] == nil {
                let bytes = (try? YAMLLoader.readFile(atPath: diagnostic.file)) ?? []
                sources[diagnostic.file] = String(decoding: bytes, as: UTF8.self)
            }
            console.error(error.rendered(source: sources[diagnostic.file] ?? ""))
        }
    }

    /// Loads and plans a playbook, printing its problems; nil when it is invalid.
    static func loadPlan(_ path: String, console: Console) -> Plan? {
        do {
            return try PlaybookLoader.plan(contentsOf: path)
        } catch {
            print(error.diagnostics, console: console)
            return nil
        }
    }
}
