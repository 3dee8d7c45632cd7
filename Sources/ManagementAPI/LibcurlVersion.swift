internal import CCurl

extension Session {
    /// The libcurl chkflow runs with and its TLS library, such as `libcurl/7.88.1 OpenSSL/3.0.17`.
    ///
    /// Read from `curl_version_info`, not `curl_version`: the latter asks every library libcurl
    /// is built with for its version, and Debian's libldap answers by loading all of its SASL
    /// plugins, a few milliseconds that `--version` does not need.
    public static var libcurlVersion: String {
        guard let info = chk_version_info(), let version = info.pointee.version
        else { return "libcurl (unknown version)" }
        let tls = info.pointee.ssl_version.map { " " + String(cString: $0) } ?? ""
        return "libcurl/" + String(cString: version) + tls
    }
}
