import Playbook
import PlaybookYAML

/// libFuzzer's entry point: each input goes through the YAML loader and the playbook checks,
/// and through the expression parser both bare and inside a template.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? PlaybookLoader.plan(bytes: bytes, file: "fuzz.yaml")
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    if let expression = try? Expression.parse(text) {
        // A parsed expression must print as text that parses back to the same expression.
        let reparsed = try? Expression.parse(expression.description)
        precondition(reparsed == expression, "description does not round-trip: \(text)")
    }
    _ = try? Template.parse(text)
    return 0
}
