import ChkflowCLI
import Glibc

// A closed pipe (`--events - | head`) must not kill chkflow before it logs out.
signal(SIGPIPE, SIG_IGN)
// A parent may start chkflow with SIGINT or SIGTERM blocked (test runners do); chkflow handles
// both itself, so it must receive them.
var handled = sigset_t()
sigemptyset(&handled)
sigaddset(&handled, SIGINT)
sigaddset(&handled, SIGTERM)
pthread_sigmask(SIG_UNBLOCK, &handled, nil)
let status = await ChkflowMain.main(Array(CommandLine.arguments.dropFirst()))
exit(status)
