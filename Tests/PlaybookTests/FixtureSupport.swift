import Foundation
import Playbook

/// The folder of this test target's fixtures.
let fixturesFolder: String = {
    let file = #filePath
    return String(file[..<file.range(of: "/PlaybookTests/")!.upperBound]) + "Fixtures"
}()

/// A playbook of the repository's `playbooks/` folder.
func examplePath(_ name: String) -> String {
    let file = #filePath
    return String(file[..<file.range(of: "/Tests/")!.lowerBound]) + "/playbooks/" + name
}

/// The problems chkflow finds in a fixture, each as `line:column: message`; empty when valid.
func problems(inFixture name: String) throws -> [String] {
    do {
        _ = try PlaybookLoader.plan(contentsOf: fixturesFolder + "/" + name)
        return []
    } catch {
        return error.diagnostics.map { "\($0.mark.line):\($0.mark.column): \($0.message)" }
    }
}

/// The problems in playbook text, each as `line:column: message`.
func problems(in text: String) -> [String] {
    do {
        _ = try PlaybookLoader.plan(bytes: Array(text.utf8), file: "p.yaml")
        return []
    } catch {
        return error.diagnostics.map { "\($0.mark.line):\($0.mark.column): \($0.message)" }
    }
}

/// The names of the YAML fixtures in a folder, without `.yaml`, sorted.
func fixtureNames(in folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: fixturesFolder + "/" + folder)
        .filter { $0.hasSuffix(".yaml") }
        .map { String($0.dropLast(5)) }
        .sorted()
}
