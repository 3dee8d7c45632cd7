internal import CCurl
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
    /// A libcurl `PINNEDPUBLICKEY` value (`sha256//<base64>`) every connection must match.
    var pinnedPublicKey: String?
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
    let thread: TransferThread
    let settings: TransportSettings

    init?(settings: TransportSettings, thread: TransferThread = TransferThread()) {
        guard curlGlobalReady, let easy = curl_easy_init() else { return nil }
        self.easy = easy
        self.settings = settings
        self.thread = thread
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        configure()
    }

    deinit {
        let handles = EasyHandle(easy: easy, errorBuffer: errorBuffer)
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
        if let pin = settings.pinnedPublicKey {
            chk_setopt_ptr(easy, CURLOPT_PINNEDPUBLICKEY, pin)
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

    // MARK: - Certificate pin

    /// Checks the server's certificate against a pin on a handshake-only connection, then pins
    /// its public key for every later connection; nothing is sent before the check.
    func verify(_ pin: CertificatePin, url: String) async throws {
        let control = TransferControl()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation {
                (continuation: CheckedContinuation<Void, any Error>) in
                thread.run {
                    continuation.resume(with: Result { try self.checkPin(pin, url: url, control) })
                }
            }
        } onCancel: {
            control.cancel()
        }
    }

    /// Runs on `thread` only.
    private func checkPin(_ pin: CertificatePin, url: String, _ control: TransferControl) throws {
        if control.isCancelled { throw CancellationError() }
        let der = try fetchCertificate(url: url, control)
        let presented = CertificatePin(certificate: der)
        guard presented == pin else {
            throw TransportFailure(
                kind: .tls,
                message: "the server's certificate does not match the pinned fingerprint"
                    + " (SHA-256 \(pin.text)); it presented SHA-256 \(presented.text);"
                    + " nothing was sent to it",
                requestMayHaveReachedServer: false
            )
        }
        guard let key = Certificate.subjectPublicKeyInfo(der) else {
            throw TransportFailure(
                kind: .tls,
                message: "the server's certificate has no readable public key",
                requestMayHaveReachedServer: false
            )
        }
        let keyPin = "sha256//" + Base64.encode(SHA256.digest(key))
        chk_setopt_ptr(easy, CURLOPT_PINNEDPUBLICKEY, keyPin)
    }

    /// The server's certificate (DER), from a connection that only performs the handshake.
    ///
    /// Runs on `thread` only.
    private func fetchCertificate(url: String, _ control: TransferControl) throws -> [UInt8] {
        guard let probe = curl_easy_init() else {
            throw TransportFailure(
                kind: .transport,
                message: "libcurl could not make a handle",
                requestMayHaveReachedServer: false
            )
        }
        defer { curl_easy_cleanup(probe) }
        var detail = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE))
        let code = detail.withUnsafeMutableBufferPointer { buffer in
            chk_setopt_ptr(probe, CURLOPT_URL, url)
            chk_setopt_long(probe, CURLOPT_CONNECT_ONLY, 1)
            chk_setopt_long(probe, CURLOPT_CERTINFO, 1)
            chk_setopt_long(probe, CURLOPT_SSL_VERIFYPEER, 0)
            chk_setopt_long(probe, CURLOPT_SSL_VERIFYHOST, 0)
            Self.skipCertificateAuthorities(probe)
            chk_setopt_long(probe, CURLOPT_NOSIGNAL, 1)
            chk_setopt_long(probe, CURLOPT_NOPROGRESS, 0)
            chk_setopt_xferinfo(probe, curlProgressCallback)
            chk_setopt_long(probe, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(settings.connectTimeout))
            chk_setopt_long(probe, CURLOPT_TIMEOUT_MS, milliseconds(settings.connectTimeout))
            if settings.noProxy { chk_setopt_ptr(probe, CURLOPT_PROXY, "") }
            // The error buffer and the unretained `control` stay valid for the whole perform,
            // and both pointers are cleared before the closure returns.
            chk_setopt_ptr(probe, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            chk_setopt_ptr(
                probe,
                CURLOPT_XFERINFODATA,
                Unmanaged.passUnretained(control).toOpaque()
            )
            defer {
                chk_setopt_ptr(probe, CURLOPT_ERRORBUFFER, nil)
                chk_setopt_ptr(probe, CURLOPT_XFERINFODATA, nil)
            }
            return withExtendedLifetime(control) { curl_easy_perform(probe) }
        }
        if code == CURLE_ABORTED_BY_CALLBACK, control.isCancelled { throw CancellationError() }
        guard code == CURLE_OK else {
            throw Self.failure(
                for: code,
                detail: String(
                    decoding: detail.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) },
                    as: UTF8.self
                ),
                requestSent: false,
                overflowed: false
            )
        }
        guard let der = leafCertificate(probe) else {
            throw TransportFailure(
                kind: .tls,
                message: "the server presented no certificate that could be read",
                requestMayHaveReachedServer: false
            )
        }
        return der
    }

    private func leafCertificate(_ probe: UnsafeMutableRawPointer) -> [UInt8]? {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard chk_getinfo_certinfo(probe, &info) == CURLE_OK, let info,
            info.pointee.num_of_certs > 0, let lists = info.pointee.certinfo
        else { return nil }
        // `lists` holds num_of_certs lists owned by the probe handle, alive until its cleanup.
        var entry = lists[0]
        while let current = entry {
            if let data = current.pointee.data {
                let text = String(cString: data)
                if text.hasPrefix("Cert:") { return Certificate.der(fromPEM: text) }
            }
            entry = current.pointee.next
        }
        return nil
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

    func cleanUp() {
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
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

/// libcurl's progress callback: a non-zero answer aborts the transfer once it is cancelled.
private let curlProgressCallback:
    @convention(c) (UnsafeMutableRawPointer?, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
        -> Int32 = { context, _, _, _, _ in
            guard let context else { return 0 }
            // `context` is the unretained TransferControl that the transfer keeps alive.
            let control = Unmanaged<TransferControl>.fromOpaque(context).takeUnretainedValue()
            return control.isCancelled ? 1 : 0
        }
