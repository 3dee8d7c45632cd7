import PlaybookYAML
import Testing

@Suite struct LimitTests {
    private func limits(
        depth: Int = 200,
        nodes: Int = 1_000_000,
        bytes: Int = 64 << 20
    ) -> YAMLLimits {
        var limits = YAMLLimits()
        limits.maximumDepth = depth
        limits.maximumNodes = nodes
        limits.maximumBytes = bytes
        return limits
    }

    @Test func defaultsAreDocumented() {
        let limits = YAMLLimits()
        #expect(limits.maximumDepth == 200)
        #expect(limits.maximumNodes == 1_000_000)
        #expect(limits.maximumBytes == 64 * 1024 * 1024)
    }

    @Test func hundredThousandOpenBracketsFailAtTheLimit() {
        let text = String(repeating: "[", count: 100_000)
        #expect(
            loadError(text)?.description
                == "test.yaml:1:201: error: the document nests deeper than 200 levels"
        )
    }

    @Test func hundredThousandNestedFlowMappingsFailAtTheLimit() {
        let text = String(repeating: "{a: ", count: 100_000)
        #expect(
            loadError(text)?.description
                == "test.yaml:1:801: error: the document nests deeper than 200 levels"
        )
    }

    @Test func hundredThousandNestedBlockSequencesFailAtTheLimit() {
        let text = String(repeating: "- ", count: 100_000) + "x\n"
        #expect(
            loadError(text)?.description
                == "test.yaml:1:401: error: the document nests deeper than 200 levels"
        )
    }

    @Test func depthNeverExceedsTheSafeCeiling() {
        let text = String(repeating: "[", count: 100_000)
        #expect(YAMLLimits.largestSafeDepth == 1_000)
        #expect(
            loadError(text, limits: limits(depth: 1_000_000))?.description
                == "test.yaml:1:1001: error: the document nests deeper than 1000 levels"
        )
    }

    @Test func deepBlockMappingsFailAtTheLimit() {
        let text = (0..<300).map { String(repeating: "  ", count: $0) + "k:\n" }.joined()
        #expect(
            loadError(text)?.description
                == "test.yaml:201:401: error: the document nests deeper than 200 levels"
        )
    }

    @Test func nestingExactlyAtTheLimitLoads() throws {
        let text = String(repeating: "[", count: 200) + "x" + String(repeating: "]", count: 200)
        var node = try load(text)
        var depth = 0
        while let inner = node.items?.first {
            node = inner
            depth += 1
        }
        #expect(depth == 200 && node.text == "x")
    }

    @Test func aliasesCountTowardsDepth() {
        let text = "a: &a [[1]]\nb: [*a]\nc: [[*a]]\n"
        #expect(
            loadError(text, limits: limits(depth: 4))?.description
                == "test.yaml:3:6: error: alias '*a' nests the document deeper than 4 levels"
        )
    }

    @Test func billionLaughsFailsFast() {
        var text = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        let names = ["b", "c", "d", "e", "f", "g", "h", "i"]
        var previous = "a"
        for name in names {
            let aliases = Array(repeating: "*\(previous)", count: 9).joined(separator: ", ")
            text += "\(name): &\(name) [\(aliases)]\n"
            previous = name
        }
        let clock = ContinuousClock()
        var error: YAMLError?
        let elapsed = clock.measure { error = loadError(text) }
        #expect(
            error?.description
                == "test.yaml:7:8: error: alias '*f' expands the document beyond 1000000 nodes"
        )
        #expect(elapsed < .milliseconds(500))
    }

    @Test(arguments: [
        (9, nil),
        (8, "test.yaml:2:4: error: alias '*a' expands the document beyond 8 nodes"),
    ])
    func aliasesCountTheNodesTheyRepeat(limit: Int, expected: String?) {
        // The mapping, `a`, the sequence, `1`, `2`, `b`, and the three nodes `*a` repeats.
        let text = "a: &a [1, 2]\nb: *a\n"
        #expect(loadError(text, limits: limits(nodes: limit))?.description == expected)
    }

    @Test func nodesWithoutAliasesAreCountedToo() {
        #expect(
            loadError("[1, 2, 3]", limits: limits(nodes: 3))?.description
                == "test.yaml:1:8: error: the document has more than 3 nodes"
        )
        #expect(loadError("[1, 2, 3]", limits: limits(nodes: 4)) == nil)
    }

    @Test func negativeLimitsRefuseEverythingWithoutTrapping() {
        #expect(
            loadError("a: *b", limits: limits(nodes: Int.min))?.description
                == "test.yaml:1:1: error: the document has more than 0 nodes"
        )
        #expect(
            loadError("[x]", limits: limits(depth: -1))?.description
                == "test.yaml:1:1: error: the document nests deeper than -1 levels"
        )
    }

    @Test(arguments: [
        (
            "é: [[[x]]]\n", 2, 100,
            "test.yaml:1:5: error: the document nests deeper than 2 levels\né: [[[x]]]\n    ^"
        ),
        (
            "ü: &a [1, 2]\nö: [*a, *a]\n", 200, 10,
            "test.yaml:2:9: error: alias '*a' expands the document beyond 10 nodes\n"
                + "ö: [*a, *a]\n        ^"
        ),
    ])
    func limitErrorsRenderWithACaret(text: String, depth: Int, nodes: Int, expected: String) {
        let error = loadError(text, limits: limits(depth: depth, nodes: nodes))
        #expect(error?.rendered(source: text) == expected)
    }

    @Test func bytesOverTheLimitFailBeforeParsing() {
        #expect(
            loadError("a: 12345678", limits: limits(bytes: 10))?.description
                == "test.yaml:1:1: error: the file is larger than the limit of 10 bytes"
        )
        #expect(loadError("a: 1234567", limits: limits(bytes: 10)) == nil)
    }
}
