import FoundationEssentials
import Glibc

/// Why a result file could not be written.
public struct FileWriteError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes files whole or not at all: a temporary file beside the target, synced, then renamed,
/// with mode 0600 because reports name servers and tasks.
public enum AtomicFile {
    public static func write(_ text: String, to path: String) throws(FileWriteError) {
        let (directory, name) = split(path)
        let temporary = (directory.isEmpty ? "." : directory) + "/.\(name).\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw FileWriteError(path: path, reason: errnoText()) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes {
                Glibc.write(descriptor, $0.baseAddress, $0.count)
            }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else {
                let reason = errnoText()
                close(descriptor)
                unlink(temporary)
                throw FileWriteError(path: path, reason: reason)
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let reason = errnoText()
            close(descriptor)
            unlink(temporary)
            throw FileWriteError(path: path, reason: reason)
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let reason = errnoText()
            unlink(temporary)
            throw FileWriteError(path: path, reason: reason)
        }
    }

    /// Whether a file can be created at `path`, checked before a run starts so that a bad
    /// `--report` path is found before the export, not after.
    public static func checkWritable(_ path: String) throws(FileWriteError) {
        let directory = split(path).folder
        let folder = directory.isEmpty ? "." : directory
        guard isDirectory(folder) else {
            throw FileWriteError(path: path, reason: "the folder \(folder) does not exist")
        }
        guard access(folder, W_OK) == 0 else {
            throw FileWriteError(path: path, reason: "the folder \(folder) is not writable")
        }
        if isDirectory(path) { throw FileWriteError(path: path, reason: "it is a directory") }
    }

    /// The folder part (empty for a bare name, `/` for the root) and the last name of a path,
    /// trailing slashes set aside.
    static func split(_ path: String) -> (folder: String, name: String) {
        var rest = Substring(path)
        while rest.count > 1, rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let slash = rest.lastIndex(of: "/") else { return ("", String(rest)) }
        let folder = slash == rest.startIndex ? "/" : String(rest[..<slash])
        return (folder, String(rest[rest.index(after: slash)...]))
    }

    private static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}
