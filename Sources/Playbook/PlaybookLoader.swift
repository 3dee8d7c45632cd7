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

    private static func plan(
        _ decoded: (playbook: Playbook?, diagnostics: [Diagnostic], gaps: DecodingGaps)
    ) throws(PlaybookLoadError) -> Plan {
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

    /// Reads the YAML and decodes it.
    ///
    /// Each top-level step is decoded as soon as the loader has read it, and its nodes are given
    /// back then, so the node tree of the whole list never exists; the rest of the tree lives
    /// only in here, and its memory is given back before the graph is planned.
    private static func decode(
        bytes: consuming [UInt8],
        file: String
    ) throws(PlaybookLoadError) -> (
        playbook: Playbook?, diagnostics: [Diagnostic], gaps: DecodingGaps
    ) {
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
        let playbook = decoder.decodePlaybook(consume root, sha256: sha256)
        return (playbook, decoder.diagnostics, decoder.gaps)
    }

    /// Loads a playbook from a file.
    public static func plan(contentsOf path: String) throws(PlaybookLoadError) -> Plan {
        let bytes: [UInt8]
        do {
            bytes = try YAMLLoader.readFile(atPath: path)
        } catch {
            throw .yaml(error)
        }
        // The bytes are given back once decoded, before the graph is planned.
        return try plan(decode(bytes: consume bytes, file: path))
    }
}
