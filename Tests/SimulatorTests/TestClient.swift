import ChkflowCore
import Foundation

@testable import Simulator

#if canImport(Glibc)
import Glibc
#endif

/// Why the test client could not do what a test asked.
struct TestClientError: Error, CustomStringConvertible {
    var description: String
}

/// A reply as read off the wire.
struct RawResponse {
    var statusLine: String
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    var status: Int { Int(statusLine.split(separator: " ")[1]) ?? 0 }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    var json: JSON? { try? JSON.parse(body) }
    var code: String? { json?["code"]?.stringValue }
    var message: String? { json?["message"]?.stringValue }
}

/// A blocking HTTP/1.1 client on a raw socket, so that tests control every byte sent.
final class TestClient {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: UInt16, timeout: Double = 5) throws {
        // The descriptor is kept in a local until connected: a throwing init after every
        // property is set would run deinit and close it a second time, possibly closing a
        // descriptor that another test's server has been given in between.
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let error = errno
            close(socketFD)
            throw TestClientError(description: "connect failed: errno \(error)")
        }
        var limit = timeval(
            tv_sec: Int(timeout),
            tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000)
        )
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        fd = socketFD
    }

    deinit { close(fd) }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else {
                throw TestClientError(description: "send failed: errno \(errno)")
            }
            offset += sent
        }
    }

    /// A POST request with a JSON body and Content-Length, as the Check Point SDK sends it.
    static func request(
        _ path: String,
        body: String = "{}",
        sid: String? = nil,
        extraHeaders: [String] = []
    ) -> String {
        var lines = [
            "POST \(path) HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
            "Content-Length: \(body.utf8.count)",
        ]
        if let sid { lines.append("X-chkp-sid: \(sid)") }
        lines += extraHeaders
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    func post(
        _ path: String,
        body: String = "{}",
        sid: String? = nil,
        extraHeaders: [String] = []
    ) throws -> RawResponse {
        try send(Self.request(path, body: body, sid: sid, extraHeaders: extraHeaders))
        return try readResponse()
    }

    /// Reads one reply framed by Content-Length.
    func readResponse() throws -> RawResponse {
        let headEnd = try fill { Self.find([13, 10, 13, 10], in: $0) }
        let head = String(decoding: buffer[..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let headers = lines.filter { !$0.isEmpty }.map { line in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            return (
                String(line[..<colon]),
                String(line[colon...].dropFirst()).trimmingCharacters(in: .whitespaces)
            )
        }
        let length = Int(headers.first { $0.0.lowercased() == "content-length" }?.1 ?? "0") ?? 0
        let total = headEnd + 4 + length
        _ = try fill { $0.count >= total ? total : nil }
        let body = Array(buffer[(headEnd + 4)..<total])
        buffer.removeFirst(total)
        return RawResponse(statusLine: statusLine, headers: headers, body: body)
    }

    /// Whether the server has closed the connection (reads end of stream, or a reset).
    func isClosedByServer() -> Bool {
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, 0)
        if count > 0 { buffer.append(byte) }
        return count == 0 || (count < 0 && errno == ECONNRESET)
    }

    /// Raw bytes received until the server closes or the timeout passes.
    func readAll() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else { break }
            buffer += chunk[..<count]
        }
        defer { buffer = [] }
        return buffer
    }

    private func fill(until ready: ([UInt8]) -> Int?) throws -> Int {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            if let found = ready(buffer) { return found }
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else {
                throw TestClientError(description: "connection ended (\(count), errno \(errno))")
            }
            buffer += chunk[..<count]
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count)
        where haystack[start..<start + needle.count].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

/// A started simulator and helpers to log in to it.
struct Harness {
    let server: SimulatorServer

    init(_ scenario: Scenario = .default, logPath: String? = nil) throws {
        server = SimulatorServer(scenario: scenario, logPath: logPath)
        try server.start()
    }

    init(settings: TransportSettings) throws {
        server = SimulatorServer(scenario: .default, settings: settings)
        try server.start()
    }

    func client(timeout: Double = 5) throws -> TestClient {
        try TestClient(port: server.port, timeout: timeout)
    }

    /// Logs in and returns the sid.
    func login(
        _ body: String = #"{"user": "admin", "password": "chkflow"}"#,
        on client: TestClient? = nil
    ) throws -> String {
        let reply = try (client ?? self.client()).post("/web_api/login", body: body)
        guard reply.status == 200, let sid = reply.json?["sid"]?.stringValue else {
            throw TestClientError(description: "login failed: \(reply.statusLine)")
        }
        return sid
    }

    /// Logs in to System Data (the default on either server type with this body).
    func systemDataLogin(on client: TestClient? = nil) throws -> String {
        try login(
            #"{"user": "admin", "password": "chkflow", "domain": "System Data"}"#,
            on: client
        )
    }
}

/// Pauses the calling thread.
func pause(seconds: Double) {
    usleep(UInt32(seconds * 1_000_000))
}
