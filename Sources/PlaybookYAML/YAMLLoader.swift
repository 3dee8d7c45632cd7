import ChkflowCore

/// Loads one YAML document into a tree of `Node`s, or explains with a position why it cannot.
public enum YAMLLoader {
    /// Loads the single document in `bytes`.
    ///
    /// - Parameters:
    ///   - bytes: The file's contents, in UTF-8 (a leading byte order mark is allowed).
    ///   - file: The name to print in errors, usually the path the bytes came from.
    ///   - limits: Bounds on size, nesting and node count.
    /// - Returns: The root node of the document.
    /// - Throws: `YAMLError` for an empty file, several documents, invalid UTF-8 or YAML,
    ///   duplicate keys, unknown aliases and anything beyond `limits`.
    public static func load(
        _ bytes: [UInt8],
        file: String,
        limits: YAMLLimits = .init()
    ) throws(YAMLError) -> Node {
        try checkSize(bytes, file: file, limits: limits)
        let parser = try EventParser(bytes: bytes, file: file)
        var composer = Composer(limits: limits, file: file)
        while try parser.parseEvent(into: &composer) {}
        return try composer.finish()
    }

    /// Loads the single document in `bytes`, handing each entry of one top-level list to
    /// `handle` as soon as the entry is complete, so that a long list is never held whole.
    ///
    /// When the document is a mapping whose `key` (compared by text, as duplicate keys are) has
    /// a list as its value, every entry of that list goes to `handle`, in order, and the list is
    /// empty in the returned tree. A list with an anchor is returned whole, without calls to
    /// `handle`. Entries may reach `handle` before a later part of the file turns out to be
    /// invalid; the error is thrown all the same.
    public static func load(
        _ bytes: [UInt8],
        file: String,
        limits: YAMLLimits = .init(),
        streamingEntriesOf key: String,
        to handle: (consuming Node) -> Void
    ) throws(YAMLError) -> Node {
        try checkSize(bytes, file: file, limits: limits)
        let parser = try EventParser(bytes: bytes, file: file)
        var composer = Composer(limits: limits, file: file, streamedKey: key)
        while try parser.parseEvent(into: &composer) {
            if let entry = composer.takeStreamedItem() { handle(entry) }
        }
        return try composer.finish()
    }

    /// Reads the file at `path` and loads its single document, streaming the entries of
    /// `key`'s list to `handle` as `load(_:file:limits:streamingEntriesOf:to:)` does.
    ///
    /// A regular file is read as libyaml asks for it, a chunk at a time, and never held whole.
    /// Returns the root and the SHA-256 of the file's bytes in lower-case hex. Problems with the
    /// file are reported at 1:1, with the messages of `load(contentsOf:limits:)`.
    public static func load(
        contentsOf path: String,
        limits: YAMLLimits = .init(),
        streamingEntriesOf key: String,
        to handle: (consuming Node) -> Void
    ) throws(YAMLError) -> (root: Node, sha256: String) {
        let opened: (descriptor: Int32, isRegular: Bool, size: Int)
        do {
            opened = try FileReader.openChecked(atPath: path, maximumBytes: limits.maximumBytes)
        } catch {
            throw fileError(error, path: path, limits: limits)
        }
        guard opened.isRegular else {
            // A pipe or device cannot be read again for an error message: read it whole.
            FileReader.closeFile(opened.descriptor)
            let bytes = try readFile(atPath: path, limits: limits)
            let root = try load(
                bytes,
                file: path,
                limits: limits,
                streamingEntriesOf: key,
                to: handle
            )
            return (root, SHA256.hex(bytes))
        }
        let parser = try EventParser(
            descriptor: opened.descriptor,
            path: path,
            maximumBytes: limits.maximumBytes
        )
        var composer = Composer(limits: limits, file: path, streamedKey: key)
        do {
            while try parser.parseEvent(into: &composer) {
                if let entry = composer.takeStreamedItem() { handle(entry) }
            }
            return (try composer.finish(), parser.fileDigest())
        } catch {
            switch parser.inputFailure {
            case .file(let failure)?: throw fileError(failure, path: path, limits: limits)
            case .utf16?:
                let message = "the file is UTF-16 encoded; save it as UTF-8"
                throw YAMLError(file: path, mark: Mark(line: 1, column: 1), message: message)
            case nil: throw error
            }
        }
    }

    private static func checkSize(
        _ bytes: [UInt8],
        file: String,
        limits: YAMLLimits
    ) throws(YAMLError) {
        let start = Mark(line: 1, column: 1)
        guard bytes.count <= limits.maximumBytes else {
            throw YAMLError(file: file, mark: start, message: tooLarge(limits))
        }
        if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            let message = "the file is UTF-16 encoded; save it as UTF-8"
            throw YAMLError(file: file, mark: start, message: message)
        }
    }

    /// Reads the file at `path` and loads its single document.
    ///
    /// A file that is missing, is a directory, cannot be read or is larger than
    /// `limits.maximumBytes` is reported at 1:1 with its own message.
    public static func load(
        contentsOf path: String,
        limits: YAMLLimits = .init()
    ) throws(YAMLError) -> Node {
        let bytes = try readFile(atPath: path, limits: limits)
        return try load(bytes, file: path, limits: limits)
    }

    /// Reads the bytes of the file at `path` with the same checks and messages as
    /// `load(contentsOf:limits:)`, for callers that also want the text to print a caret.
    public static func readFile(
        atPath path: String,
        limits: YAMLLimits = .init()
    ) throws(YAMLError) -> [UInt8] {
        do {
            return try FileReader.bytes(atPath: path, maximumBytes: limits.maximumBytes)
        } catch {
            throw fileError(error, path: path, limits: limits)
        }
    }

    private static func fileError(
        _ failure: FileReader.Failure,
        path: String,
        limits: YAMLLimits
    ) -> YAMLError {
        let message: String
        switch failure {
        case .tooLarge: message = tooLarge(limits)
        case .unreadable(let reason): message = "cannot read the file: \(reason)"
        }
        return YAMLError(file: path, mark: Mark(line: 1, column: 1), message: message)
    }

    private static func tooLarge(_ limits: YAMLLimits) -> String {
        "the file is larger than the limit of \(limits.maximumBytes) bytes"
    }
}
