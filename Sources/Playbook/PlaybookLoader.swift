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
        let decoder = try decode(bytes: bytes, file: file)
        guard let playbook = decoder.playbook else {
            throw .invalid(PlaybookError(decoder.diagnostics))
        }
        // The graph is checked even when decoding found problems, so that one run of
        // `chkflow validate` reports them all.
        var planner = Planner(playbook: playbook, gaps: decoder.gaps)
        let plan = planner.plan()
        let diagnostics = decoder.diagnostics + planner.diagnostics
        guard diagnostics.isEmpty else { throw .invalid(PlaybookError(diagnostics)) }
        return plan
    }

    /// Reads the YAML and decodes it.
    ///
    /// The node tree lives only in here, so its memory is given back before the graph is planned.
    private static func decode(
        bytes: [UInt8],
        file: String
    ) throws(PlaybookLoadError) -> (
        playbook: Playbook?, diagnostics: [Diagnostic], gaps: DecodingGaps
    ) {
        let root: PlaybookYAML.Node
        do {
            root = try YAMLLoader.load(bytes, file: file)
        } catch {
            throw .yaml(error)
        }
        var decoder = PlaybookDecoder(file: file)
        let playbook = decoder.decodePlaybook(consume root, sha256: SHA256.hex(bytes))
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
        return try plan(bytes: bytes, file: path)
    }
}
