internal import CCurl
internal import COpenSSL
import Dispatch
import Synchronization

/// libcurl's and OpenSSL's one-time set-up, started early on a thread of its own.
///
/// The first TLS connection of a process pays for `curl_global_init` (OpenSSL reads its
/// configuration) and for OpenSSL's first context (its providers and random generator), about
/// 2 ms together. `chkflow run` starts this while it reads the playbook, on the other core, so
/// that the login finds it done. A process must not exit while the set-up is under way (OpenSSL's
/// clean-up at exit would run beside it): `waitUntilDone()` comes before `exit`.
public enum TransportWarmUp {
    private static let started = Atomic<Bool>(false)
    private static let done = DispatchGroup()

    /// Starts the set-up, once per process; later calls do nothing.
    public static func begin() {
        guard started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged
        else { return }
        done.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            if curlGlobalReady, let context = SSL_CTX_new(TLS_client_method()) {
                SSL_CTX_free(context)
            }
            done.leave()
        }
    }

    /// Returns once a set-up that was started has ended; at once when none was.
    public static func waitUntilDone() { done.wait() }
}
