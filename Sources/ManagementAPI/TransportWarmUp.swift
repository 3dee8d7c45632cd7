internal import CCurl
internal import COpenSSL
import Dispatch
import Synchronization

/// libcurl's and OpenSSL's one-time set-up, started early on a thread of its own.
///
/// The first TLS connection of a process pays for `curl_global_init` (OpenSSL reads its
/// configuration) and for OpenSSL's first context (its providers and random generator), about
/// 2 ms together. `chkflow run` starts this while it reads the playbook, on the other core, so
/// that the login finds it done. A first use of libcurl meanwhile waits for `curl_global_init`
/// to end (it runs once, under a lock). chkflow ends with `_exit`, so OpenSSL's clean-up at exit
/// never runs beside an unfinished set-up.
public enum TransportWarmUp {
    private static let started = Atomic<Bool>(false)

    /// Starts the set-up, once per process; later calls do nothing.
    public static func begin() {
        guard started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return }
        DispatchQueue.global(qos: .userInitiated).async {
            if curlGlobalReady, let context = SSL_CTX_new(TLS_client_method()) {
                SSL_CTX_free(context)
            }
        }
    }
}
