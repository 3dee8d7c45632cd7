#if canImport(COpenSSL)
import COpenSSL
#endif

/// What the simulator asks of OpenSSL.
///
/// Without the COpenSSL module (when the package is built without `libssl-dev`), every
/// function throws `SimulatorError.tlsUnavailable` and the simulator serves plain HTTP only.
enum OpenSSLSupport {
    #if canImport(COpenSSL)
    static let isAvailable = true
    #else
    static let isAvailable = false
    #endif

    static func fingerprints(
        certificatePEM: String,
        privateKeyPEM: String
    ) throws(SimulatorError) -> (sha256: String, sha1: String) {
        #if canImport(COpenSSL)
        let material = try TLSMaterial(certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM)
        return (material.fingerprint(EVP_sha256()), material.fingerprint(EVP_sha1()))
        #else
        throw .tlsUnavailable
        #endif
    }

    static func selfSigned(
        hosts: [String]
    ) throws(SimulatorError) -> (certificate: String, privateKey: String) {
        #if canImport(COpenSSL)
        return try SelfSignedCertificate.make(hosts: hosts)
        #else
        throw .tlsUnavailable
        #endif
    }

    static func serverContext(
        _ identity: TLSIdentity
    ) throws(SimulatorError) -> any SecureChannelFactory {
        #if canImport(COpenSSL)
        return try OpenSSLServerContext(identity)
        #else
        throw .tlsUnavailable
        #endif
    }
}
