import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tiny HTTP/1.1 server on 127.0.0.1 for transport tests: it answers every request with what
/// the handler says and records what it received.
final class LoopbackResponder: Sendable {
    struct Request: Sendable {
        var path: String
        var headers: [String: String]
        var body: String
        /// 1 for the first connection accepted, 2 for the next, and so on.
        var connection: Int

        func header(_ name: String) -> String? { headers[name.lowercased()] }
    }

    struct Reply: Sendable {
        var status: Int
        var body: String
        var contentType = "application/json"
        /// Seconds to wait before answering.
        var delay: Double = 0
        /// Close the connection without answering.
        var drop = false

        static func json(_ status: Int, _ body: String) -> Reply {
            Reply(status: status, body: body)
        }
    }

    private let handler: @Sendable (Request) -> Reply
    private let state = Mutex(State())
    private let listener: Int32
    /// The port chosen by the system at start.
    let port: Int

    private struct State {
        var requests: [Request] = []
        var connections = 0
        var stopped = false
        var clients: [Int32] = []
    }

    /// Starts listening on a free loopback port.
    init(handler: @escaping @Sendable (Request) -> Reply) throws {
        self.handler = handler
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        // sockaddr_in is laid out as the sockaddr that bind() reads; the pointer lives only for
        // the call.
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            close(listener)
            throw POSIXError(.EADDRINUSE)
        }
        port = Self.boundPort(listener)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    private static func boundPort(_ socket: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        // getsockname() fills at most `length` bytes of the sockaddr_in, valid for the call.
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getsockname(socket, $0, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var requests: [Request] { state.withLock { $0.requests } }
    var connections: Int { state.withLock { $0.connections } }

    /// Stops accepting and cuts open connections.
    ///
    /// File descriptors are closed only by the
    /// threads that use them, so a number reused elsewhere in the process is never touched.
    func stop() {
        state.withLock { state in
            state.stopped = true
            for client in state.clients { shutdown(client, Int32(SHUT_RDWR)) }
        }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { break }
            let number: Int? = state.withLock { state in
                guard !state.stopped else { return nil }
                state.connections += 1
                state.clients.append(client)
                return state.connections
            }
            guard let number else {
                close(client)
                break
            }
            Thread.detachNewThread { [self] in serve(client, connection: number) }
        }
        close(listener)
    }

    private func serve(_ client: Int32, connection: Int) {
        defer {
            state.withLock { state in
                state.clients.removeAll { $0 == client }
                close(client)
            }
        }
        var buffer: [UInt8] = []
        while let request = readRequest(client, &buffer, connection: connection) {
            state.withLock { $0.requests.append(request) }
            let reply = handler(request)
            if reply.delay > 0 { Thread.sleep(forTimeInterval: reply.delay) }
            if reply.drop { return }
            let body = Array(reply.body.utf8)
            let head =
                "HTTP/1.1 \(reply.status) X\r\nContent-Type: \(reply.contentType)\r\n"
                + "Content-Length: \(body.count)\r\n\r\n"
            let bytes = Array(head.utf8) + body
            guard
                // send() reads the array's bytes only during the call.
                bytes.withUnsafeBytes({
                    send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }) == bytes.count
            else { return }
        }
    }

    private func readRequest(_ client: Int32, _ buffer: inout [UInt8], connection: Int) -> Request?
    {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while true {
            if let end = buffer.firstRange(of: separator)?.upperBound { headerEnd = end }
            if let headerEnd {
                let head = String(decoding: buffer[..<headerEnd], as: UTF8.self)
                let (path, headers) = Self.parseHead(head)
                let length = Int(headers["content-length"] ?? "0") ?? 0
                if buffer.count >= headerEnd + length {
                    let body = String(
                        decoding: buffer[headerEnd..<headerEnd + length],
                        as: UTF8.self
                    )
                    buffer.removeFirst(headerEnd + length)
                    return Request(path: path, headers: headers, body: body, connection: connection)
                }
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            // recv() writes at most the chunk's size into it, during the call only.
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    private static func parseHead(_ head: String) -> (String, [String: String]) {
        let lines = head.split(separator: "\r\n")
        let path =
            lines.first.map { $0.split(separator: " ").dropFirst().first.map(String.init) ?? "" }
            ?? ""
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (path, headers)
    }
}
