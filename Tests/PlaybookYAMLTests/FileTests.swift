import Foundation
import PlaybookYAML
import Testing

@Suite struct FileTests {
    /// A fresh directory for one test, removed when the test ends.
    private final class Folder {
        let path: String

        init() throws {
            path =
                FileManager.default.temporaryDirectory
                .appendingPathComponent("chkflow-yaml-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(atPath: path) }

        func write(_ name: String, _ text: String) throws -> String {
            let file = path + "/" + name
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            return file
        }
    }

    private func loadError(contentsOf path: String, limits: YAMLLimits = .init()) -> YAMLError? {
        do {
            _ = try YAMLLoader.load(contentsOf: path, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func loadsAFileAndNamesItInErrors() throws {
        let folder = try Folder()
        let good = try folder.write("good.yaml", "name: export\n")
        #expect(try YAMLLoader.load(contentsOf: good)["name"]?.text == "export")
        let bad = try folder.write("bad.yaml", "a: 1\na: 2\n")
        #expect(
            loadError(contentsOf: bad)?.description
                == "\(bad):2:1: error: duplicate key 'a' (first at 1:1)"
        )
    }

    @Test func readFileReturnsTheBytes() throws {
        let folder = try Folder()
        let path = try folder.write("x.yaml", "é: 1\n")
        #expect(try YAMLLoader.readFile(atPath: path) == Array("é: 1\n".utf8))
    }

    @Test func missingFile() throws {
        let folder = try Folder()
        let path = folder.path + "/missing.yaml"
        #expect(
            loadError(contentsOf: path)?.description
                == "\(path):1:1: error: cannot read the file: it does not exist"
        )
    }

    @Test func directory() throws {
        let folder = try Folder()
        #expect(
            loadError(contentsOf: folder.path)?.description
                == "\(folder.path):1:1: error: cannot read the file: it is a directory"
        )
    }

    @Test func pathThroughAFile() throws {
        let folder = try Folder()
        let path = try folder.write("plain", "x") + "/inner.yaml"
        #expect(
            loadError(contentsOf: path)?.description
                == "\(path):1:1: error: cannot read the file: a part of the path is not a directory"
        )
    }

    @Test(.enabled(if: getuid() != 0, "root reads files whatever their permissions"))
    func unreadableFile() throws {
        let folder = try Folder()
        let path = try folder.write("secret.yaml", "a: 1\n")
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: path)
        #expect(
            loadError(contentsOf: path)?.description
                == "\(path):1:1: error: cannot read the file: permission denied"
        )
    }

    @Test func readErrorsUseTheSystemReason() {
        // Offset 0 of a process's own memory is never mapped, so reading it fails with EIO.
        let path = "/proc/self/mem"
        #expect(
            loadError(contentsOf: path)?.description
                == "\(path):1:1: error: cannot read the file: input/output error"
        )
    }

    @Test func fileOverTheLimit() throws {
        let folder = try Folder()
        let path = try folder.write("big.yaml", "a: " + String(repeating: "x", count: 100))
        var limits = YAMLLimits()
        limits.maximumBytes = 64
        #expect(
            loadError(contentsOf: path, limits: limits)?.description
                == "\(path):1:1: error: the file is larger than the limit of 64 bytes"
        )
    }

    @Test func streamsAreReadUpToTheLimit() {
        var limits = YAMLLimits()
        limits.maximumBytes = 100_000
        #expect(
            loadError(contentsOf: "/dev/zero", limits: limits)?.description
                == "/dev/zero:1:1: error: the file is larger than the limit of 100000 bytes"
        )
        #expect(
            loadError(contentsOf: "/dev/null")?.description
                == "/dev/null:1:1: error: the file is empty"
        )
    }
}
