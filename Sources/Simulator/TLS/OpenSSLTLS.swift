#if canImport(COpenSSL)
import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// A certificate and private key parsed by OpenSSL, freed when released.
final class TLSMaterial {
    let certificate: OpaquePointer
    let key: OpaquePointer

    init(certificatePEM: String, privateKeyPEM: String) throws(SimulatorError) {
        guard let certificate = Self.read(certificatePEM, { PEM_read_bio_X509($0, nil, nil, nil) })
        else {
            throw .invalidTLSIdentity("the certificate is not PEM")
        }
        guard let key = Self.read(privateKeyPEM, { PEM_read_bio_PrivateKey($0, nil, nil, nil) })
        else {
            X509_free(certificate)
            throw .invalidTLSIdentity("the private key is not PEM")
        }
        guard X509_check_private_key(certificate, key) == 1 else {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw .invalidTLSIdentity("the private key does not belong to the certificate")
        }
        self.certificate = certificate
        self.key = key
    }

    deinit {
        X509_free(certificate)
        EVP_PKEY_free(key)
    }

    /// The digest of the DER certificate as upper-case hex pairs joined by colons.
    func fingerprint(_ digest: OpaquePointer?) -> String {
        var bytes = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        X509_digest(certificate, digest, &bytes, &length)
        return bytes.prefix(Int(length)).map { byte in
            let text = String(byte, radix: 16, uppercase: true)
            return byte < 16 ? "0" + text : text
        }.joined(separator: ":")
    }

    /// What `reader` parses from PEM text held in a memory BIO.
    private static func read(
        _ pem: String,
        _ reader: (OpaquePointer) -> OpaquePointer?
    ) -> OpaquePointer? {
        var bytes = Array(pem.utf8)
        return bytes.withUnsafeMutableBytes { raw -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return reader(bio)
        }
    }
}

/// Makes self-signed certificates for `chkflow simulate --tls`.
enum SelfSignedCertificate {
    static func make(
        hosts: [String]
    ) throws(SimulatorError) -> (certificate: String, privateKey: String) {
        guard let key = generateKey() else { throw .invalidTLSIdentity("key generation failed") }
        defer { EVP_PKEY_free(key) }
        guard let certificate = X509_new() else { throw .invalidTLSIdentity("X509_new failed") }
        defer { X509_free(certificate) }

        X509_set_version(certificate, 2)
        var generator = SystemRandomNumberGenerator()
        ASN1_INTEGER_set(
            X509_get_serialNumber(certificate),
            Int.random(in: 1...Int(Int32.max), using: &generator)
        )
        X509_gmtime_adj(X509_getm_notBefore(certificate), -3600)
        X509_gmtime_adj(X509_getm_notAfter(certificate), 365 * 86400)
        X509_set_pubkey(certificate, key)
        let name = X509_get_subject_name(certificate)
        let commonName = Array((hosts.first ?? "chkflow simulator").utf8)
        X509_NAME_add_entry_by_txt(
            name,
            "CN",
            MBSTRING_ASC,
            commonName,
            Int32(commonName.count),
            -1,
            0
        )
        X509_set_issuer_name(certificate, name)
        try addExtension(NID_subject_alt_name, alternativeNames(hosts), to: certificate)
        try addExtension(NID_basic_constraints, "critical,CA:TRUE", to: certificate)
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else {
            throw .invalidTLSIdentity("signing failed")
        }
        let certificatePEM = pem { PEM_write_bio_X509($0, certificate) }
        let keyPEM = pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        guard let certificatePEM, let keyPEM else {
            throw .invalidTLSIdentity("PEM encoding failed")
        }
        return (certificatePEM, keyPEM)
    }

    /// An ECDSA P-256 key.
    private static func generateKey() -> OpaquePointer? {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(context) }
        guard EVP_PKEY_keygen_init(context) == 1,
            EVP_PKEY_CTX_set_group_name(context, "P-256") == 1
        else { return nil }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen(context, &key) == 1 else { return nil }
        return key
    }

    private static func alternativeNames(_ hosts: [String]) -> String {
        hosts.map { host in
            var v4 = in_addr()
            var v6 = in6_addr()
            let isAddress =
                inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
            return (isAddress ? "IP:" : "DNS:") + host
        }.joined(separator: ",")
    }

    private static func addExtension(
        _ nid: Int32,
        _ value: String,
        to certificate: OpaquePointer
    ) throws(SimulatorError) {
        var context = X509V3_CTX()
        X509V3_set_ctx(&context, certificate, certificate, nil, nil, 0)
        guard let fields = X509V3_EXT_conf_nid(nil, &context, nid, value) else {
            throw .invalidTLSIdentity("bad certificate extension \(value)")
        }
        X509_add_ext(certificate, fields, -1)
        X509_EXTENSION_free(fields)
    }

    /// What `write` puts into a memory BIO, as text.
    private static func pem(_ write: (OpaquePointer) -> Int32) -> String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { return nil }
        var data: UnsafeMutablePointer<CChar>?
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data)
        guard let data, length > 0 else { return nil }
        return String(
            decoding: UnsafeRawBufferPointer(start: data, count: Int(length)),
            as: UTF8.self
        )
    }
}

/// The OpenSSL server context: certificate, key and protocol versions, shared by every
/// connection.
///
/// `@unchecked Sendable` is safe because the SSL_CTX is fully configured in `init`, before any
/// serving thread sees it, and afterwards only used to create SSL objects, which OpenSSL allows
/// from several threads at once.
final class OpenSSLServerContext: SecureChannelFactory, @unchecked Sendable {
    private let context: OpaquePointer

    init(_ identity: TLSIdentity) throws(SimulatorError) {
        // OpenSSL writes to the socket with write(), which raises SIGPIPE when a client has
        // gone; unhandled, that ends the whole process. The plain path sends with MSG_NOSIGNAL.
        signal(SIGPIPE, SIG_IGN)
        let material = try TLSMaterial(
            certificatePEM: identity.certificatePEM,
            privateKeyPEM: identity.privateKeyPEM
        )
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw .invalidTLSIdentity("SSL_CTX_new failed")
        }
        SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        SSL_CTX_ctrl(
            context,
            SSL_CTRL_MODE,
            Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER),
            nil
        )
        guard SSL_CTX_use_certificate(context, material.certificate) == 1,
            SSL_CTX_use_PrivateKey(context, material.key) == 1
        else {
            SSL_CTX_free(context)
            throw .invalidTLSIdentity("OpenSSL refused the certificate or key")
        }
        self.context = context
    }

    deinit { SSL_CTX_free(context) }

    func makeChannel(fd: Int32) -> (any SecureChannel)? {
        guard let ssl = SSL_new(context) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        return OpenSSLChannel(ssl)
    }
}

/// One connection's TLS session over its non-blocking socket.
///
/// The handshake happens inside the first reads.
final class OpenSSLChannel: SecureChannel {
    private let ssl: OpaquePointer

    init(_ ssl: OpaquePointer) { self.ssl = ssl }

    deinit { SSL_free(ssl) }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> Socket.Transfer {
        ERR_clear_error()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max))))
        if count > 0 { return .bytes(Int(count)) }
        return outcome(of: count)
    }

    func send(_ bytes: [UInt8], from offset: Int) -> Socket.Transfer {
        guard offset < bytes.count else { return .bytes(0) }
        ERR_clear_error()
        let count = bytes.withUnsafeBytes { raw in
            // In bounds: offset < count was checked above, so baseAddress is not nil.
            SSL_write(
                ssl,
                raw.baseAddress! + offset,
                Int32(min(raw.count - offset, Int(Int32.max)))
            )
        }
        if count > 0 { return .bytes(Int(count)) }
        return outcome(of: count)
    }

    var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }

    func closeNotify() {
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
    }

    private func outcome(of result: Int32) -> Socket.Transfer {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: .wouldBlock
        case SSL_ERROR_SYSCALL where errno == EAGAIN || errno == EINTR: .wouldBlock
        default: .closed
        }
    }
}
#endif
