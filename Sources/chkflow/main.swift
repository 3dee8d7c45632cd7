import ChkflowCLI
import Foundation

let status = await ChkflowMain.main(Array(CommandLine.arguments.dropFirst()))
exit(status)
