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
// Everything chkflow writes has gone out by now: its files through write(2), synced where they
// must be, and the standard streams flushed here. The libraries' own clean-up at exit (OpenSSL
// frees every algorithm it loaded) would only delay the end of the process, by most of a
// millisecond, so it is skipped.
fflush(nil)
_exit(status)
