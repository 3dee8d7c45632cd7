import Testing

@testable import PlaybookYAML

/// Error states that valid libyaml input cannot produce on demand, built by hand.
@Suite struct LibYAMLErrorTests {
    private func message(for kind: LibYAMLError.Kind, problem: String? = nil) -> String {
        let error = LibYAMLError(
            kind: kind,
            problem: problem,
            problemMark: Mark(line: 2, column: 3),
            problemOffset: 0,
            problemValue: -1,
            context: nil,
            contextMark: Mark(line: 1, column: 1)
        )
        return error.yamlError(file: "p.yaml", source: Array("a: 1\nb: 2\n".utf8)).description
    }

    @Test func unknownErrorCodesGetAGenericMessage() {
        #expect(
            message(for: .unexpected(code: 99))
                == "p.yaml:2:3: error: the YAML parser failed with an unexpected error (libyaml code 99)"
        )
    }

    @Test func memoryErrors() {
        #expect(message(for: .memory) == "p.yaml:2:3: error: not enough memory to read the file")
    }

    @Test func syntaxErrorWithoutAProblemText() {
        #expect(message(for: .parser) == "p.yaml:2:3: error: the YAML is not valid")
    }

    @Test func inputTooLongForLibYAML() {
        #expect(
            message(for: .reader, problem: "input is too long")
                == "p.yaml:1:1: error: the file is too long for the YAML parser"
        )
    }
}
