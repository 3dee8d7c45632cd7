import Foundation
import Testing

@testable import Results

@Suite("Atomic files")
struct AtomicFileTests {
    @Test(arguments: [
        ("out/report.json", "out", "report.json"),
        ("report.json", "", "report.json"),
        ("/report.json", "/", "report.json"),
        ("/var/tmp/chkflow/report.json", "/var/tmp/chkflow", "report.json"),
        ("out/reports/", "out", "reports"),
        ("/", "/", ""),
    ])
    func pathsSplitIntoFolderAndName(path: String, folder: String, name: String) {
        #expect(AtomicFile.split(path) == (folder, name))
    }

    @Test func aFileIsWrittenWholeWithItsModeAndNoTemporaryLeft() throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("chkflow-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/report.json"
        try AtomicFile.write("{\"a\": 1}\n", to: path)
        try AtomicFile.write("{\"b\": 2}\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"b\": 2}\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["report.json"])
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions]
        #expect(mode as? Int == 0o600)
    }

    @Test func checkingAPathNamesWhatIsWrongWithIt() throws {
        let missing = "/nonexistent-chkflow-folder/report.json"
        #expect(throws: FileWriteError.self) { try AtomicFile.checkWritable(missing) }
        do {
            try AtomicFile.checkWritable(missing)
        } catch {
            #expect(
                error.description
                    == "cannot write \(missing): the folder /nonexistent-chkflow-folder does not exist"
            )
        }
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("chkflow-atomic-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(
            atPath: folder + "/reports",
            withIntermediateDirectories: true
        )
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            try AtomicFile.checkWritable(folder + "/reports")
            Issue.record("a folder was accepted as a report path")
        } catch {
            #expect(error.description == "cannot write \(folder)/reports: it is a directory")
        }
        try AtomicFile.checkWritable(folder + "/reports/report.json")
    }
}
