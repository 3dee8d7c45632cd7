import ChkflowCore
import FoundationEssentials
import Glibc
import Synchronization

/// Why the state directory or the journal cannot be used.
public struct JournalError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The journal of one run: NDJSON, one record per event that matters, each written whole with
/// one `write` before the engine goes on, so that it survives chkflow itself being killed.
///
/// The intent to send a once-only command is written and synced to disk before it is sent, and
/// its task-id as soon as the reply is read, so that a run stopped at any moment, power cuts
/// included, can be resumed without sending the command twice. Other records are synced with
/// the next durable one (or by the kernel's own write-back): losing them to a power cut only
/// makes a resume repeat a step that sends nothing once-only. No secret and no session id is
/// ever written.
public final class Journal: Sendable {
    public let path: String
    private let descriptor: Mutex<Int32>

    /// Opens (or creates, mode 0600) the journal at `path` for appending.
    ///
    /// A torn last line (the bytes after the last newline, left by a power cut or a kill in the
    /// middle of a write) is cut off and the cut synced before anything is appended: otherwise
    /// the next record would be written straight after it, and the torn line, now in the
    /// middle, would make the journal unreadable for every later resume.
    public init(path: String) throws(JournalError) {
        let opened = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard opened >= 0 else {
            throw JournalError(
                "cannot open the journal \(path): \(String(cString: strerror(errno)))"
            )
        }
        if let failure = Self.cutTornTail(opened) {
            close(opened)
            throw JournalError(
                "cannot cut the torn last line of the journal \(path): \(failure)"
            )
        }
        self.path = path
        self.descriptor = Mutex(opened)
    }

    /// Truncates the file after its last newline (to nothing when it has none) and syncs the
    /// new length; nil when done or nothing was torn, else why it failed.
    private static func cutTornTail(_ fd: Int32) -> String? {
        var stats = stat()
        guard fstat(fd, &stats) == 0 else { return String(cString: strerror(errno)) }
        var end = Int(stats.st_size)
        let size = end
        var buffer = [UInt8](repeating: 0, count: 4096)
        scan: while end > 0 {
            let start = max(0, end - buffer.count)
            let count = buffer.withUnsafeMutableBytes {
                pread(fd, $0.baseAddress, end - start, off_t(start))
            }
            guard count == end - start else { return String(cString: strerror(errno)) }
            for index in stride(from: count - 1, through: 0, by: -1)
            where buffer[index] == UInt8(ascii: "\n") {
                end = start + index + 1
                break scan
            }
            end = start
        }
        guard end < size else { return nil }
        guard ftruncate(fd, off_t(end)) == 0, fsync(fd) == 0 else {
            return String(cString: strerror(errno))
        }
        return nil
    }

    deinit { descriptor.withLock { _ = close($0) } }

    /// Appends one record; with `durable`, syncs it (and every record before it) to disk first.
    public func append(_ record: JSON, durable: Bool = true) throws(JournalError) {
        let line = record.serializedBytes() + [UInt8(ascii: "\n")]
        let failure: String? = descriptor.withLock { fd in
            var written = 0
            while written < line.count {
                let result = line[written...].withUnsafeBytes {
                    write(fd, $0.baseAddress, $0.count)
                }
                if result < 0, errno == EINTR { continue }
                guard result > 0 else { return String(cString: strerror(errno)) }
                written += result
            }
            guard durable else { return nil }
            return fdatasync(fd) == 0 ? nil : String(cString: strerror(errno))
        }
        if let failure { throw JournalError("cannot write the journal \(path): \(failure)") }
    }

    /// The records of a journal file; a torn last line (power lost mid-write) is left out, a
    /// damaged line anywhere else is an error.
    public static func records(at path: String) throws(JournalError) -> [JSON] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JournalError("cannot read the journal \(path)")
        }
        let bytes = [UInt8](data)
        let complete = bytes.last == UInt8(ascii: "\n")
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        var records: [JSON] = []
        for (number, line) in lines.enumerated() {
            let isLast = number == lines.count - 1
            guard let record = try? JSON.parse(line), record["record"] != nil else {
                if isLast { break }
                throw JournalError("the journal \(path) is damaged at line \(number + 1)")
            }
            // A last line without its newline may be cut short even when it parses.
            if isLast, !complete, record["record"]?.stringValue != "run-ended" { break }
            records.append(record)
        }
        return records
    }
}
