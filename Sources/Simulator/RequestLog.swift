import ChkflowCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One request as the simulator answered it.
public struct RequestRecord: Sendable, Equatable {
    /// Real seconds since the server started, when the reply was ready.
    public var time: Double
    /// The connection number, from 1 in the order connections were accepted.
    public var connection: Int
    /// The request path as sent, without any query string.
    public var path: String
    /// The command named by the path (`show-task`), or empty when the path names none.
    public var command: String
    /// The HTTP status of the reply.
    public var status: Int
    /// The Check Point error code of the reply, nil on success.
    public var code: String?
    /// The first 8 hex digits of the SHA-256 of the session id used (for login: the one
    /// issued), never the sid itself.
    public var session: String?

    public init(
        time: Double,
        connection: Int,
        path: String,
        command: String,
        status: Int,
        code: String? = nil,
        session: String? = nil
    ) {
        self.time = time
        self.connection = connection
        self.path = path
        self.command = command
        self.status = status
        self.code = code
        self.session = session
    }
}

/// Every answered request, in memory and, when asked, appended to a file as one JSON line
/// each, written with a single write() so that the line is on disk when the reply is sent.
final class RequestLog: Sendable {
    private struct Storage {
        var records: [RequestRecord] = []
        var fd: Int32 = -1
    }

    private let storage = Mutex(Storage())

    /// Starts appending to a file (created when missing).
    func open(path: String) throws(SimulatorError) {
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .cannotOpenLog(path: path, reason: String(cString: strerror(errno)))
        }
        storage.withLock { $0.fd = fd }
    }

    func close() {
        storage.withLock { storage in
            if storage.fd >= 0 { _ = Glibc.close(storage.fd) }
            storage.fd = -1
        }
    }

    /// The most records kept in memory.
    ///
    /// A long `chkflow simulate` under load would otherwise grow without bound. The oldest go
    /// first; the file keeps everything.
    static let memoryLimit = 1_000_000

    func append(_ record: RequestRecord, method: String) {
        storage.withLock { storage in
            if storage.records.count >= Self.memoryLimit {
                storage.records.removeFirst(Self.memoryLimit / 10)
            }
            storage.records.append(record)
            guard storage.fd >= 0 else { return }
            let line = Array((Self.line(for: record, method: method) + "\n").utf8)
            _ = line.withUnsafeBytes { write(storage.fd, $0.baseAddress, $0.count) }
        }
    }

    var records: [RequestRecord] { storage.withLock { $0.records } }

    /// The record as one JSON object with sorted keys, as `JSON.serialized()` writes it.
    ///
    /// Written out directly: a line is made for every request, and building a JSON object
    /// first cost more than answering many of them.
    static func line(for record: RequestRecord, method: String) -> String {
        var line = #"{"code":"# + text(record.code)
        line += #","command":"# + text(record.command)
        line += #","connection":\#(record.connection)"#
        line += #","method":"# + text(method)
        line += #","path":"# + text(record.path)
        line += #","session":"# + text(record.session)
        line += #","status":\#(record.status)"#
        line += #","time":"# + JSON.double((record.time * 1000).rounded() / 1000).serialized()
        return line + "}"
    }

    private static func text(_ value: String?) -> String {
        value.map { JSON.string($0).serialized() } ?? "null"
    }
}
