import ChkflowCore
import PlaybookYAML

/// Why a playbook could not be loaded: its YAML is broken, or its content is.
public enum PlaybookLoadError: Error, Sendable, CustomStringConvertible {
    case yaml(YAMLError)
    case invalid(PlaybookError)

    public var description: String {
        switch self {
        case .yaml(let error): error.description
        case .invalid(let error): error.description
        }
    }

    /// Every problem as a diagnostic, for uniform rendering.
    public var diagnostics: [Diagnostic] {
        switch self {
        case .yaml(let error):
            [Diagnostic(file: error.file, mark: error.mark, message: error.message)]
        case .invalid(let error): error.diagnostics
        }
    }
}

/// Reads, decodes and plans playbooks.
public enum PlaybookLoader {
    /// Loads a playbook from bytes and checks it as a whole.
    public static func plan(bytes: [UInt8], file: String) throws(PlaybookLoadError) -> Plan {
        try plan(decode(bytes: bytes, file: file))
    }

    private static func plan(_ decoded: Decoded) throws(PlaybookLoadError) -> Plan {
        guard let playbook = decoded.playbook else {
            throw .invalid(PlaybookError(decoded.diagnostics))
        }
        // The graph is checked even when decoding found problems, so that one run of
        // `chkflow validate` reports them all.
        var planner = Planner(playbook: playbook, gaps: decoded.gaps)
        let plan = planner.plan()
        let diagnostics = decoded.diagnostics + planner.diagnostics
        guard diagnostics.isEmpty else { throw .invalid(PlaybookError(diagnostics)) }
        return plan
    }

    private typealias Decoded = (
        playbook: Playbook?, diagnostics: [Diagnostic], gaps: DecodingGaps
    )

    /// Reads the YAML and decodes it.
    ///
    /// Each top-level step is decoded as soon as the loader has read it, and its nodes are given
    /// back then, so the node tree of the whole list never exists; the rest of the tree lives
    /// only in here, and its memory is given back before the graph is planned.
    private static func decode(bytes: [UInt8], file: String) throws(PlaybookLoadError) -> Decoded {
        let sha256 = SHA256.hex(bytes)
        var decoder = PlaybookDecoder(file: file)
        let root: PlaybookYAML.Node
        do {
            root = try YAMLLoader.load(bytes, file: file, streamingEntriesOf: "steps") { entry in
                decoder.decodeStreamedStep(entry)
            }
        } catch {
            throw .yaml(error)
        }
        return finish(&decoder, root: root, sha256: sha256)
    }

    private static func finish(
        _ decoder: inout PlaybookDecoder,
        root: consuming PlaybookYAML.Node,
        sha256: String
    ) -> Decoded {
        let playbook = decoder.decodePlaybook(root, sha256: sha256)
        return (playbook, decoder.diagnostics, decoder.gaps)
    }

    /// Loads a playbook from a file.
    ///
    /// The file is read as the YAML loader asks for it and never held whole, and each step is
    /// decoded as soon as it is read, so the peak memory is about the typed playbook and its
    /// plan.
    public static func plan(contentsOf path: String) throws(PlaybookLoadError) -> Plan {
        try plan(decode(contentsOf: path))
    }

    /// Reads and decodes the file; the decoder and its tables are gone once this returns.
    private static func decode(contentsOf path: String) throws(PlaybookLoadError) -> Decoded {
        var decoder = PlaybookDecoder(file: path)
        let loaded: (root: PlaybookYAML.Node, sha256: String)
        do {
            loaded = try YAMLLoader.load(contentsOf: path, streamingEntriesOf: "steps") { entry in
                decoder.decodeStreamedStep(entry)
            }
        } catch {
            throw .yaml(error)
        }
        return finish(&decoder, root: loaded.root, sha256: loaded.sha256)
    }
}
