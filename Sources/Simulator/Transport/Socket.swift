#if canImport(Glibc)
import Glibc
#endif

/// Why the simulator could not start.
public enum SimulatorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The host is not an IPv4 or IPv6 address literal (or `localhost`).
    case invalidHost(String)
    /// A system call needed to listen failed.
    case cannotListen(host: String, port: UInt16, reason: String)
    /// `start` was called on a server that is running or has been stopped.
    case alreadyStarted
    /// The request log file could not be opened for appending.
    case cannotOpenLog(path: String, reason: String)
    /// HTTPS was asked for, but this build has no OpenSSL.
    case tlsUnavailable
    /// A certificate or key could not be made, read or used.
    case invalidTLSIdentity(String)

    public var description: String {
        switch self {
        case .invalidHost(let host): "not an IP address: \(host)"
        case .cannotListen(let host, let port, let reason):
            "cannot listen on \(host):\(port): \(reason)"
        case .alreadyStarted: "the simulator has already been started"
        case .cannotOpenLog(let path, let reason): "cannot open the request log \(path): \(reason)"
        case .tlsUnavailable:
            "this chkflow was built without OpenSSL, so the simulator has no HTTPS"
        case .invalidTLSIdentity(let reason): "unusable certificate or key: \(reason)"
        }
    }
}

/// Thin wrappers over the POSIX socket calls the transport makes.
enum Socket {
    /// A non-blocking listening TCP socket bound to `host:port`, and the port it got.
    static func listen(
        host: String,
        port: UInt16
    ) throws(SimulatorError) -> (fd: Int32, port: UInt16) {
        let address = try SocketAddress(host: host, port: port)
        let fd = socket(
            address.family,
            Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
                | Int32(SOCK_CLOEXEC.rawValue),
            0
        )
        guard fd >= 0 else { throw failure(host, port, "socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard address.bind(fd) == 0 else {
            let error = failure(host, port, "bind")
            close(fd)
            throw error
        }
        guard Glibc.listen(fd, SOMAXCONN) == 0, let bound = boundPort(of: fd) else {
            let error = failure(host, port, "listen")
            close(fd)
            throw error
        }
        return (fd, bound)
    }

    /// What accepting a connection gave.
    enum Accepted {
        case connection(Int32)
        /// Nothing pending (or the client gave up before it was accepted).
        case none
        /// The process or system is out of file descriptors.
        case outOfDescriptors
    }

    /// Accepts one pending connection as a non-blocking socket with TCP_NODELAY.
    static func accept(on listener: Int32) -> Accepted {
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { return errno == EMFILE || errno == ENFILE ? .outOfDescriptors : .none }
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return .connection(fd)
    }

    /// What a non-blocking read or write did.
    enum Transfer {
        case bytes(Int)
        case wouldBlock
        case closed
    }

    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> Transfer {
        let count = recv(fd, buffer.baseAddress, buffer.count, 0)
        if count > 0 { return .bytes(count) }
        if count < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
            return .wouldBlock
        }
        return .closed
    }

    /// Sends without raising SIGPIPE when the peer has gone.
    static func send(_ fd: Int32, _ bytes: [UInt8], from offset: Int) -> Transfer {
        guard offset < bytes.count else { return .bytes(0) }
        let count = bytes.withUnsafeBytes { raw in
            // In bounds: offset < count was checked above, so baseAddress is not nil.
            Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
        }
        if count >= 0 { return .bytes(count) }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return .wouldBlock }
        return .closed
    }

    private static func boundPort(of fd: Int32) -> UInt16? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return nil }
        let family = Int32(storage.ss_family)
        return withUnsafePointer(to: &storage) { pointer in
            if family == AF_INET6 {
                return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    UInt16(bigEndian: $0.pointee.sin6_port)
                }
            }
            return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                UInt16(bigEndian: $0.pointee.sin_port)
            }
        }
    }

    private static func failure(_ host: String, _ port: UInt16, _ call: String) -> SimulatorError {
        .cannotListen(
            host: host,
            port: port,
            reason: "\(call): \(String(cString: strerror(errno)))"
        )
    }
}

/// An IPv4 or IPv6 socket address built from an address literal.
private enum SocketAddress {
    case v4(sockaddr_in)
    case v6(sockaddr_in6)

    init(host: String, port: UInt16) throws(SimulatorError) {
        let literal = host == "localhost" ? "127.0.0.1" : host
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, literal, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            self = .v4(v4)
            return
        }
        var v6 = sockaddr_in6()
        let bare =
            literal.hasPrefix("[") && literal.hasSuffix("]")
            ? String(literal.dropFirst().dropLast()) : literal
        guard inet_pton(AF_INET6, bare, &v6.sin6_addr) == 1 else { throw .invalidHost(host) }
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = port.bigEndian
        self = .v6(v6)
    }

    var family: Int32 {
        switch self {
        case .v4: AF_INET
        case .v6: AF_INET6
        }
    }

    func bind(_ fd: Int32) -> Int32 {
        switch self {
        case .v4(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        case .v6(var address):
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
    }
}

/// Seconds on the monotonic clock, for deadlines and the request log.
enum MonotonicClock {
    static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
