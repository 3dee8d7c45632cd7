import ChkflowCore
import FoundationEssentials
import Glibc

/// The folder where chkflow keeps the journals of runs and their locks.
///
/// `--state-dir`, else `$CHKFLOW_STATE_DIR`, else `$XDG_STATE_HOME/chkflow`, else
/// `~/.local/state/chkflow`. Journals are at `runs/<playbook>/<run-id>.ndjson`.
public struct StateDirectory: Sendable {
    public var path: String

    public init(path: String) { self.path = path }

    /// The folder used when `--state-dir` is not given.
    public static func defaultPath(environment: [String: String]) -> String {
        if let explicit = environment["CHKFLOW_STATE_DIR"], !explicit.isEmpty { return explicit }
        if let state = environment["XDG_STATE_HOME"], !state.isEmpty { return state + "/chkflow" }
        let home = environment["HOME"] ?? FileManager.default.homeDirectoryForCurrentUser.path
        return home + "/.local/state/chkflow"
    }

    /// The folder of one playbook's journals.
    public func runsFolder(playbook name: String) -> String {
        path + "/runs/" + Self.safeName(name)
    }

    public func journalPath(playbook name: String, runID: String) -> String {
        runsFolder(playbook: name) + "/" + runID + ".ndjson"
    }

    /// Creates the folders (mode 0700) and checks that a journal can be written there now,
    /// before the first API call: an unwritable folder or a full disk is found here, not after
    /// the export.
    public func prepare(playbook name: String) throws(JournalError) {
        let folder = runsFolder(playbook: name)
        if let failure = Self.makeFolders(folder) {
            throw JournalError("cannot create the state folder \(folder): \(failure)")
        }
        guard access(folder, W_OK) == 0 else {
            throw JournalError("the state folder \(folder) is not writable")
        }
        var stats = statvfs()
        if statvfs(folder, &stats) == 0 {
            let free = UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
            guard free >= 1 << 20 else {
                throw JournalError(
                    "the disk of the state folder \(folder) is full (\(free) bytes free)"
                )
            }
        }
    }

    /// The latest run of a playbook, by run id (ids start with the UTC time of the run).
    public func latestRunID(playbook name: String) -> String? {
        let names =
            (try? FileManager.default.contentsOfDirectory(atPath: runsFolder(playbook: name))) ?? []
        return names.filter { $0.hasSuffix(".ndjson") }.map { String($0.dropLast(7)) }.max()
    }

    /// Takes the lock of a playbook in this folder, so that two runs of it cannot start at once.
    public func lock(playbook name: String) throws(JournalError) -> RunLock {
        try RunLock(path: path + "/" + Self.safeName(name) + ".lock", playbook: name)
    }

    static func safeName(_ name: String) -> String {
        let mapped = name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }
        return mapped.isEmpty ? "playbook" : String(mapped)
    }

    /// Creates a folder and the folders above it that are missing, each mode 0700; nil when
    /// done, else the system's reason (such as `Not a directory`).
    private static func makeFolders(_ path: String) -> String? {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) == 0 || errno == EEXIST { continue }
            return String(cString: strerror(errno))
        }
        var stats = stat()
        guard stat(path, &stats) == 0 else { return String(cString: strerror(errno)) }
        return stats.st_mode & S_IFMT == S_IFDIR ? nil : String(cString: strerror(ENOTDIR))
    }
}

/// An exclusive lock on a playbook's runs, held as long as the process lives (flock: the kernel
/// drops it when the process ends, even by kill -9).
public final class RunLock: Sendable {
    private let descriptor: Int32

    init(path: String, playbook: String) throws(JournalError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw JournalError(
                "cannot open the lock file \(path): \(String(cString: strerror(errno)))"
            )
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.holder(fd)
            close(fd)
            throw JournalError(
                "another chkflow run of '\(playbook)' is using this state folder\(holder); wait "
                    + "for it to end, or give another --state-dir"
            )
        }
        ftruncate(fd, 0)
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        descriptor = fd
    }

    deinit { close(descriptor) }

    private static func holder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return "" }
        let text = String(decoding: buffer[..<count], as: UTF8.self).trimmingWhitespace
        return Int(text).map { " (process \($0))" } ?? ""
    }
}
