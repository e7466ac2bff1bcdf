import FastCGI
import Testing

@Suite("Params storage")
struct FastCGIParamsTests {
    @Test("pairs keep arrival order, count duplicates, and lookups return the last value")
    func orderAndDuplicates() {
        let p = FastCGIParams([("A", "1"), ("B", "2"), ("A", "3")])
        #expect(p.count == 3)
        #expect(p.map(\.name) == ["A", "B", "A"])
        #expect(p["A"] == "3")
        #expect(p.contains("B") && !p.contains("C"))
    }

    @Test("byte-level lookup finds empty names and values and misses on prefixes")
    func byteLookup() {
        let p = FastCGIParams([("", "empty-name"), ("HTTP_HOST", ""), ("HTTP", "short")])
        #expect(p[""] == "empty-name")
        #expect(p.withValue("HTTP_HOST") { $0?.count } == 0)
        #expect(p["HTTP"] == "short")
        #expect(p["HTTP_"] == nil)
    }

    @Test("value ranges point at the last occurrence's bytes in the encoded storage")
    func valueRanges() {
        let p = FastCGIParams([("SCRIPT_NAME", "/a"), ("X_Y", "1"), ("SCRIPT_NAME", "/bc"), ("EMPTY", "")])
        let text = p.withEncodedBytes { raw in
            ["SCRIPT_NAME", "X_Y", "EMPTY"].map { name -> String in
                let range: Range<Int>? = switch name {
                case "SCRIPT_NAME": p.valueRange("SCRIPT_NAME")
                case "X_Y": p.valueRange("X_Y")
                default: p.valueRange("EMPTY")
                }
                return range.map { String(decoding: UnsafeRawBufferPointer(rebasing: raw[$0]), as: UTF8.self) } ?? "nil"
            }
        }
        #expect(text == ["/bc", "1", ""])
        #expect(p.valueRange("QUERY_STRING") == nil && p.valueRange("NOPE") == nil)
    }

    @Test("params equal by pairs, whatever their length encoding")
    func equalityIgnoresEncoding() throws {
        let minimal = FastCGIParams([("K", "v")])
        let wide = try FastCGIParams(encoded: [0x80, 0, 0, 1, 1] + bytes("Kv"), maxCount: 10)
        #expect(minimal == wide)
        #expect(minimal != FastCGIParams([("K", "w")]))
    }

    @Test("non-UTF-8 bytes survive at byte level and are repaired in Strings")
    func invalidUTF8() throws {
        let p = try FastCGIParams(encoded: [1, 2, 65, 0xFF, 0xFE], maxCount: 10)
        #expect(p.withValue("A") { $0.map { Array($0) } } == [0xFF, 0xFE])
        #expect(p["A"] == "\u{FFFD}\u{FFFD}")
    }
}
