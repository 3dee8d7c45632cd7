import ChkflowCLI
import Foundation

// A closed pipe (`--events - | head`) must not kill chkflow before it logs out.
signal(SIGPIPE, SIG_IGN)
let status = await ChkflowMain.main(Array(CommandLine.arguments.dropFirst()))
exit(status)
