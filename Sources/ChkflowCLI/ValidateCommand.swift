/// `chkflow validate PLAYBOOK...`: checks without contacting any server.
enum ValidateCommand {
    static func execute(_ words: [String]) throws(UsageError) -> ExitCode {
        let arguments = try Arguments(words, valued: [], switches: ["-q"])
        guard !arguments.operands.isEmpty else {
            throw UsageError("validate needs at least one playbook")
        }
        let console = Console(quiet: arguments.has("-q"))
        var valid = true
        for path in arguments.operands {
            if let plan = DiagnosticPrinter.loadPlan(path, console: console) {
                console.info("\(path): ok (\(plan.nodes.count) steps)")
            } else {
                valid = false
            }
        }
        return valid ? .success : .invalidInput
    }
}
