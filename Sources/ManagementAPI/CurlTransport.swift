internal import CCurl
internal import COpenSSL
import ChkflowCore
import Synchronization

/// libcurl's process-wide set-up, done once before the first handle is made.
///
/// A Swift global is initialised exactly once, under a lock, so two sessions starting at the
/// same time cannot both run `curl_global_init` (which is not thread-safe by itself).
let curlGlobalReady: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK

/// One POST as the transport sends it.
struct HTTPRequest: Sendable {
    var url: String
    var body: [UInt8]
    var headers: [String]
    /// Open a new connection rather than reuse one, so that libcurl never re-sends the request
    /// by itself on a reused connection that turns out to be dead.
    var freshConnection = false
}

/// What came back for one POST.
struct HTTPReply: Sendable {
    var status: Int
    var body: [UInt8]
    /// Connections libcurl opened for this request: 0 when it reused the session's connection.
    var newConnections: Int
}

/// Why a POST produced no HTTP reply.
struct TransportFailure: Error, Sendable {
    var kind: APIError.Kind
    var message: String
    var requestMayHaveReachedServer: Bool
}

/// How a transport verifies the server and how long it waits.
struct TransportSettings: Sendable {
    var tls: TLSPolicy
    var connectTimeout: Double
    var requestTimeout: Double
    var userAgent: String
    /// Skip proxies from the environment, for a server on this machine.
    var noProxy: Bool
    /// With a `fingerprint` policy, the certificate every connection's handshake must present.
    var pin: CertificatePin?
}

/// The largest reply body accepted; a management server's replies are far smaller, and a
/// limit keeps a misbehaving peer from filling memory.
let maximumReplyBytes = 64 << 20

/// A libcurl easy handle kept for the whole session, so that every call goes over the same
/// kept-alive connection, driven through the multi handle of the session's `TransferThread`.
///
/// `curl_multi_perform` and `curl_multi_poll` block, so they run on that thread, never on
/// Swift's cooperative threads. Cancelling the calling task sets the transfer's flag and wakes
/// the poll with `curl_multi_wakeup`, the one libcurl call that is safe from any thread; the
/// thread then removes the handle, which aborts the transfer at once.
final class CurlTransport: @unchecked Sendable {
    // @unchecked Sendable: `easy` and `errorBuffer` are touched only on `thread` (in the
    // transfers it drives and the blocks it runs, and in the clean-up that deinit hands it);
    // `settings` is immutable after init.
    private let easy: UnsafeMutableRawPointer
    /// libcurl writes a failure's detail here; CURL_ERROR_SIZE bytes owned by this object and
    /// freed with the handle that points at it.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Checks the certificate of each new connection against `settings.pin`; libcurl's TLS
    /// set-up holds an unretained pointer to it, valid for the life of the handle.
    private let pinCheck: PinCheck?
    let thread: TransferThread
    let settings: TransportSettings

    init?(settings: TransportSettings, thread: TransferThread = TransferThread()) {
        guard curlGlobalReady, let easy = curl_easy_init() else { return nil }
        self.easy = easy
        self.settings = settings
        self.thread = thread
        pinCheck = settings.pin.map(PinCheck.init)
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        configure()
    }

    deinit {
        let handles = EasyHandle(easy: easy, errorBuffer: errorBuffer, pinCheck: pinCheck)
        thread.run { handles.cleanUp() }
        thread.stop()
    }

    /// Sets the options that hold for every request of the session.
    ///
    /// Swift strings passed to `chk_setopt_ptr` become C strings valid only for that call;
    /// that is safe because libcurl copies every string option it is given.
    private func configure() {
        chk_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        chk_setopt_long(easy, CURLOPT_POST, 1)
        chk_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        chk_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        // HTTP/1.1 as Check Point's own clients speak it, whatever ALPN would offer.
        chk_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1))
        chk_setopt_long(easy, CURLOPT_NOPROGRESS, 0)
        chk_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(settings.connectTimeout))
        chk_setopt_long(easy, CURLOPT_TIMEOUT_MS, milliseconds(settings.requestTimeout))
        chk_setopt_ptr(easy, CURLOPT_USERAGENT, settings.userAgent)
        chk_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        chk_setopt_write(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback)
        chk_setopt_xferinfo(easy, curlProgressCallback)
        if settings.noProxy { chk_setopt_ptr(easy, CURLOPT_PROXY, "") }
        configureTLS()
    }

    private func configureTLS() {
        switch settings.tls {
        case .system:
            break
        case .caFile(let path):
            chk_setopt_ptr(easy, CURLOPT_CAINFO, path)
            chk_setopt_ptr(easy, CURLOPT_CAPATH, nil)
        case .fingerprint, .insecure:
            // A pinned certificate replaces chain and name checks; see docs/client.md.
            chk_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            chk_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
            Self.skipCertificateAuthorities(easy)
        }
        if let pinCheck {
            chk_setopt_sslctx(easy, curlSSLContextCallback)
            chk_setopt_ptr(
                easy,
                CURLOPT_SSL_CTX_DATA,
                Unmanaged.passUnretained(pinCheck).toOpaque()
            )
        }
    }

    /// Leaves out the system's certificate authorities, which nothing checks against without
    /// chain verification: libcurl would read and parse the whole bundle for every connection
    /// (a few milliseconds each, more than a hundred calls on a fast server).
    private static func skipCertificateAuthorities(_ handle: UnsafeMutableRawPointer) {
        chk_setopt_ptr(handle, CURLOPT_CAINFO, nil)
        chk_setopt_ptr(handle, CURLOPT_CAPATH, nil)
    }

    /// Sends one POST and waits for the whole reply without blocking the caller's thread.
    func post(_ request: HTTPRequest) async throws -> HTTPReply {
        let control = TransferControl()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                thread.submit(
                    Exchange(
                        transport: self,
                        request: request,
                        control: control,
                        continuation: continuation
                    )
                )
            }
        } onCancel: {
            control.cancel()
            thread.wake()
        }
    }

    /// Sets the handle up for an exchange; runs on `thread` only.
    fileprivate func begin(_ exchange: Exchange) -> UnsafeMutableRawPointer? {
        if exchange.control.isCancelled {
            exchange.continuation.resume(throwing: CancellationError())
            return nil
        }
        let request = exchange.request
        // curl_slist_append copies each string; the list is freed in end(), once the handle
        // no longer points at it.
        for header in request.headers {
            exchange.headers = curl_slist_append(exchange.headers, header)
        }
        // libcurl copies the URL string, so the temporary C string may go after the call.
        chk_setopt_ptr(easy, CURLOPT_URL, request.url)
        chk_setopt_ptr(easy, CURLOPT_HTTPHEADER, exchange.headers)
        chk_setopt_long(easy, CURLOPT_POSTFIELDSIZE, request.body.count)
        request.body.withUnsafeBytes { bytes in
            // COPYPOSTFIELDS copies the bytes, so the pointer need not outlive this call.
            _ = chk_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress)
        }
        chk_setopt_long(easy, CURLOPT_FRESH_CONNECT, request.freshConnection ? 1 : 0)
        errorBuffer[0] = 0
        pinCheck?.forgetMismatch()
        // The callbacks get unretained pointers to the exchange's sink and control; the thread
        // holds the exchange until end(), which clears both pointers.
        chk_setopt_ptr(easy, CURLOPT_WRITEDATA, Unmanaged.passUnretained(exchange.sink).toOpaque())
        chk_setopt_ptr(
            easy,
            CURLOPT_XFERINFODATA,
            Unmanaged.passUnretained(exchange.control).toOpaque()
        )
        return easy
    }

    /// Ends an exchange with libcurl's result (nil when it was cancelled); runs on `thread`.
    fileprivate func end(_ exchange: Exchange, _ code: CURLcode?) {
        chk_setopt_ptr(easy, CURLOPT_WRITEDATA, nil)
        chk_setopt_ptr(easy, CURLOPT_XFERINFODATA, nil)
        chk_setopt_ptr(easy, CURLOPT_HTTPHEADER, nil)
        curl_slist_free_all(exchange.headers)
        exchange.headers = nil
        exchange.continuation.resume(
            with: Result { try reply(for: code, sink: exchange.sink, control: exchange.control) }
        )
    }

    private func reply(
        for code: CURLcode?,
        sink: ReplySink,
        control: TransferControl
    ) throws
        -> HTTPReply
    {
        guard let code else { throw CancellationError() }
        if code == CURLE_ABORTED_BY_CALLBACK, control.isCancelled { throw CancellationError() }
        if code != CURLE_OK, let pinCheck, let presented = pinCheck.mismatch {
            throw pinCheck.failure(presented: presented)
        }
        guard code == CURLE_OK else {
            throw Self.failure(
                for: code,
                detail: String(cString: errorBuffer),
                requestSent: longInfo(easy, CURLINFO_REQUEST_SIZE) > 0,
                overflowed: sink.overflowed
            )
        }
        return HTTPReply(
            status: longInfo(easy, CURLINFO_RESPONSE_CODE),
            body: sink.bytes,
            newConnections: longInfo(easy, CURLINFO_NUM_CONNECTS)
        )
    }

    private func longInfo(_ handle: UnsafeMutableRawPointer, _ info: CURLINFO) -> Int {
        var value = 0
        chk_getinfo_long(handle, info, &value)
        return value
    }

    private static func failure(
        for code: CURLcode,
        detail: String,
        requestSent: Bool,
        overflowed: Bool
    ) -> TransportFailure {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return TransportFailure(
                kind: .transport,
                message: "could not connect: " + text,
                requestMayHaveReachedServer: false
            )
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CONNECT_ERROR,
            CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_CERTPROBLEM, CURLE_SSL_ISSUER_ERROR,
            CURLE_SSL_CRL_BADFILE:
            return TransportFailure(
                kind: .tls,
                message: "the server's certificate was not accepted: " + text,
                requestMayHaveReachedServer: false
            )
        case CURLE_OPERATION_TIMEDOUT:
            return TransportFailure(
                kind: .transport,
                message: "timed out: " + text,
                requestMayHaveReachedServer: requestSent
            )
        case CURLE_WRITE_ERROR where overflowed:
            return TransportFailure(
                kind: .invalidReply,
                message: "the reply is larger than \(maximumReplyBytes >> 20) MiB",
                requestMayHaveReachedServer: true
            )
        default:
            return TransportFailure(
                kind: .transport,
                message: text,
                requestMayHaveReachedServer: requestSent
            )
        }
    }

    private func milliseconds(_ seconds: Double) -> Int {
        seconds <= 0 ? 0 : max(1, Int((seconds * 1000).rounded()))
    }
}

/// The cancel flag of one transfer, shared between the task that waits and the curl thread.
final class TransferControl: Sendable {
    private let cancelled = Atomic<Bool>(false)
    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
    func cancel() { cancelled.store(true, ordering: .releasing) }
}

/// One POST from its submission to its end.
private final class Exchange: ThreadTransfer, @unchecked Sendable {
    // @unchecked Sendable: made by `post` and handed to the transfer thread, which alone uses
    // it from then on (begin, libcurl's callbacks, end); `control` is Sendable itself.
    let transport: CurlTransport
    let request: HTTPRequest
    let control: TransferControl
    let continuation: CheckedContinuation<HTTPReply, any Error>
    let sink = ReplySink()
    var headers: UnsafeMutablePointer<curl_slist>?

    init(
        transport: CurlTransport,
        request: HTTPRequest,
        control: TransferControl,
        continuation: CheckedContinuation<HTTPReply, any Error>
    ) {
        self.transport = transport
        self.request = request
        self.control = control
        self.continuation = continuation
    }

    var isCancelled: Bool { control.isCancelled }
    func begin() -> UnsafeMutableRawPointer? { transport.begin(self) }
    func end(_ code: CURLcode?) { transport.end(self, code) }
}

/// The easy handle and its error buffer, on their way to being freed on the transfer thread.
private struct EasyHandle: @unchecked Sendable {
    // @unchecked Sendable: made in deinit, when nothing else uses either pointer any more, and
    // used once, by the block that frees them.
    let easy: UnsafeMutableRawPointer
    let errorBuffer: UnsafeMutablePointer<CChar>
    /// Kept alive until the handle that points at it is gone.
    let pinCheck: PinCheck?

    func cleanUp() {
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
        withExtendedLifetime(pinCheck) {}
    }
}

/// Collects the reply body; used only on the transfer thread during one transfer.
private final class ReplySink {
    var bytes: [UInt8] = []
    var overflowed = false
}

/// libcurl's write callback: appends a chunk of the body to the `ReplySink` behind `context`.
private let curlWriteCallback:
    @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
        data,
        size,
        count,
        context in
        guard let context else { return 0 }
        // `context` is the unretained ReplySink of the exchange the thread holds until its end.
        let sink = Unmanaged<ReplySink>.fromOpaque(context).takeUnretainedValue()
        let length = size * count
        guard sink.bytes.count + length <= maximumReplyBytes else {
            sink.overflowed = true
            return 0
        }
        if let data, length > 0 {
            // `data` points at `length` bytes that libcurl owns for the duration of this call.
            data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                sink.bytes.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
            }
        }
        return length
    }

/// The certificate pin of a transport, checked inside the TLS handshake of every new connection.
///
/// libcurl can pin a public key but not a certificate, and chkflow's pin is the SHA-256 of the
/// certificate. So libcurl hands each connection's OpenSSL context to `curlSSLContextCallback`,
/// which makes OpenSSL call `pinVerifyCallback` instead of its chain check: the handshake fails
/// unless the server presents exactly the pinned certificate, before any request is written.
final class PinCheck: Sendable {
    let pin: CertificatePin
    /// The certificate a refused handshake presented, kept for the message of its transfer.
    private let refused = Mutex<CertificatePin?>(nil)

    init(_ pin: CertificatePin) { self.pin = pin }

    var mismatch: CertificatePin? { refused.withLock { $0 } }
    func forgetMismatch() { refused.withLock { $0 = nil } }

    /// Whether the handshake may go on with this leaf certificate (DER).
    fileprivate func accepts(_ der: [UInt8]) -> Bool {
        let presented = CertificatePin(certificate: der)
        if presented == pin { return true }
        refused.withLock { $0 = presented }
        return false
    }

    func failure(presented: CertificatePin) -> TransportFailure {
        TransportFailure(
            kind: .tls,
            message: "the server's certificate does not match the pinned fingerprint"
                + " (SHA-256 \(pin.text)); it presented SHA-256 \(presented.text);"
                + " nothing was sent to it",
            requestMayHaveReachedServer: false
        )
    }
}

/// libcurl's TLS set-up callback for a pinned transport, called with each new connection's
/// `SSL_CTX` after libcurl's own settings: it asks OpenSSL to verify the peer, through
/// `pinVerifyCallback` alone.
private let curlSSLContextCallback:
    @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
        -> CURLcode = { _, context, pinCheck in
            guard let context, let pinCheck else { return CURLE_SSL_CERTPROBLEM }
            let sslContext = OpaquePointer(context)
            SSL_CTX_set_verify(sslContext, SSL_VERIFY_PEER, nil)
            SSL_CTX_set_cert_verify_callback(sslContext, pinVerifyCallback, pinCheck)
            return CURLE_OK
        }

/// OpenSSL's certificate check for a pinned transport: accepts the chain when its leaf is the
/// pinned certificate, whoever issued it; refuses it otherwise, which ends the handshake.
private let pinVerifyCallback: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Int32 =
    { store, pinCheck in
        guard let store, let pinCheck, let leaf = X509_STORE_CTX_get0_cert(store) else {
            return 0
        }
        // `pinCheck` is the unretained PinCheck that the transport keeps for the handle's life.
        let check = Unmanaged<PinCheck>.fromOpaque(pinCheck).takeUnretainedValue()
        let length = i2d_X509(leaf, nil)
        guard length > 0 else { return 0 }
        var der = [UInt8](repeating: 0, count: Int(length))
        der.withUnsafeMutableBufferPointer { buffer in
            var cursor = buffer.baseAddress
            _ = i2d_X509(leaf, &cursor)
        }
        guard check.accepts(der) else {
            X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION)
            return 0
        }
        X509_STORE_CTX_set_error(store, X509_V_OK)
        return 1
    }

/// libcurl's progress callback: a non-zero answer aborts the transfer once it is cancelled.
private let curlProgressCallback:
    @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
        -> Int32 = { context, _, _, _, _ in
            guard let context else { return 0 }
            // `context` is the unretained TransferControl that the transfer keeps alive.
            let control = Unmanaged<TransferControl>.fromOpaque(context).takeUnretainedValue()
            return control.isCancelled ? 1 : 0
        }
