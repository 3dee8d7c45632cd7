#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// Reads a whole file with POSIX calls, refusing directories and files over a size limit.
enum FileReader {
    enum Failure: Error {
        case tooLarge
        /// Why the file cannot be read, as the end of "cannot read the file: …".
        case unreadable(String)
    }

    static func bytes(atPath path: String, maximumBytes: Int) throws(Failure) -> [UInt8] {
        let file = try openChecked(atPath: path, maximumBytes: maximumBytes)
        defer { close(file.descriptor) }
        // A regular file's size is known; a pipe or device is read until the limit is passed.
        let expected = file.isRegular ? file.size : 0
        return try readAll(file.descriptor, expected: expected, maximumBytes: maximumBytes)
    }

    /// Opens a file for reading after the same checks as `bytes`; the caller closes it.
    static func openChecked(
        atPath path: String,
        maximumBytes: Int
    ) throws(Failure) -> (descriptor: Int32, isRegular: Bool, size: Int) {
        // Opening a FIFO nobody writes to would block for ever: look before opening.
        var before = stat()
        if stat(path, &before) == 0 {
            let type = before.st_mode & S_IFMT
            if type == S_IFIFO || type == S_IFSOCK { throw .unreadable("it is not a regular file") }
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable(reason(errno)) }
        var status = stat()
        var failure: Failure?
        if fstat(descriptor, &status) != 0 {
            failure = .unreadable(reason(errno))
        } else if (status.st_mode & S_IFMT) == S_IFDIR {
            failure = .unreadable("it is a directory")
        } else if (status.st_mode & S_IFMT) == S_IFREG, status.st_size > maximumBytes {
            failure = .tooLarge
        }
        if let failure {
            close(descriptor)
            throw failure
        }
        return (descriptor, (status.st_mode & S_IFMT) == S_IFREG, Int(status.st_size))
    }

    static func closeFile(_ descriptor: Int32) {
        close(descriptor)
    }

    /// Reads up to `capacity` bytes into `buffer`, retrying when a signal interrupts; the count
    /// read (0 at the end), or the reason it failed.
    static func readChunk(
        _ descriptor: Int32,
        into buffer: UnsafeMutablePointer<UInt8>,
        capacity: Int
    ) -> Result<Int, Failure> {
        while true {
            let count = read(descriptor, buffer, capacity)
            if count >= 0 { return .success(count) }
            if errno != EINTR { return .failure(.unreadable(reason(errno))) }
        }
    }

    private static func readAll(
        _ descriptor: Int32,
        expected: Int,
        maximumBytes: Int
    ) throws(Failure) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(expected + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw .unreadable(reason(errno)) }
            if count == 0 { return bytes }
            guard bytes.count + count <= maximumBytes else { throw .tooLarge }
            bytes.append(contentsOf: chunk[..<count])
        }
    }

    private static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "it does not exist"
        case EACCES, EPERM: return "permission denied"
        case EISDIR: return "it is a directory"
        case ENOTDIR: return "a part of the path is not a directory"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}
