import PlaybookYAML
import Testing

@Suite struct KeyTests {
    private func keys(_ count: Int, then extra: String = "") -> String {
        (1...count).map { "key\($0): \($0)\n" }.joined() + extra
    }

    @Test func largeMappingsLoadInOrder() throws {
        let root = try load(keys(40))
        #expect(root.pairs?.count == 40)
        #expect(root.pairs?.first?.key.text == "key1" && root.pairs?.last?.key.text == "key40")
        #expect(root["key27"]?.text == "27")
    }

    @Test(arguments: [3, 7, 8, 9, 30])
    func duplicatesAreFoundInMappingsOfAnySize(size: Int) {
        let text = keys(size, then: "key2: again\n")
        #expect(
            loadError(text)?.description
                == "test.yaml:\(size + 1):1: error: duplicate key 'key2' (first at 2:1)"
        )
    }

    @Test func duplicateAfterManyKeysNamesTheFirstOfThem() {
        let text = keys(12, then: "key12: again\n")
        #expect(
            loadError(text)?.description
                == "test.yaml:13:1: error: duplicate key 'key12' (first at 12:1)"
        )
    }

    @Test func sameKeyInDifferentMappingsIsFine() throws {
        let root = try load("a: {id: 1}\nb: {id: 2}\nsteps:\n  - id: x\n  - id: y\n")
        #expect(root["b"]?["id"]?.text == "2")
        #expect(root["steps"]?.items?.map { $0["id"]?.text } == ["x", "y"])
    }

    @Test func aliasedKeysCountAsTheirText() {
        #expect(
            loadError("&k name: 1\n*k : 2\n")?.description
                == "test.yaml:2:1: error: duplicate key 'name' (first at 1:1)"
        )
    }

    @Test func taggedMergeKeyIsRefusedToo() {
        #expect(
            loadError("!!merge x: {a: 1}\n")?.description
                == "test.yaml:1:1: error: merge keys ('<<') are not supported; write the keys out in full"
        )
    }

    @Test func quotedLessThanLessThanIsAnOrdinaryKey() throws {
        #expect(try load("'<<': x\n")["<<"]?.text == "x")
    }

    @Test(arguments: ["key:\tvalue\n", "a: [1,\t2]\n", "a:\n  b:\t1\n  c: 'x\ty'\n"])
    func tabsOutsideIndentationAreAccepted(text: String) {
        #expect(loadError(text) == nil)
    }

    @Test func documentWithOnlyAMarkerIsANullRoot() throws {
        let root = try load("---\n")
        #expect(root.isNull && root.mark == Mark(line: 2, column: 1))
    }

    @Test func crlfLineBreaksCountOnce() throws {
        let root = try load("a: 1\r\nb:\r\n  - x\r\n")
        #expect(marks(root) == ["1:1 {", "1:1 a", "1:4 1", "2:1 b", "3:3 [", "3:5 x"])
    }

    @Test func scalarsCompareTextStyleAndTag() {
        var scalar = Node.Scalar(text: "1", style: .plain, tag: "tag:yaml.org,2002:str")
        #expect(scalar == Node.Scalar(text: "1", style: .plain, tag: "tag:yaml.org,2002:str"))
        #expect(scalar != Node.Scalar(text: "1", style: .plain))
        #expect(
            scalar != Node.Scalar(text: "1", style: .doubleQuoted, tag: "tag:yaml.org,2002:str")
        )
        #expect(Set([scalar, scalar]).count == 1)
        scalar.tag = nil
        #expect(scalar == Node.Scalar(text: "1") && scalar.tag == nil)
    }
}
