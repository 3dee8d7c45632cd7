internal import CCurl

extension Session {
    /// The libcurl chkflow runs with and its TLS library, such as `libcurl/7.88.1 OpenSSL/3.0.17`.
    public static var libcurlVersion: String {
        guard let text = curl_version() else { return "libcurl (unknown version)" }
        let words = String(cString: text).split(separator: " ")
        return words.prefix(2).joined(separator: " ")
    }
}
