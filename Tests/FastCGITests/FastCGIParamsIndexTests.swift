import FastCGI
import Testing

/// The one-pass index of the usual PARAMS stream (`quickIndex`) and the checked loop it falls
/// back to must agree: same pairs, same lookups, same errors.
@Suite struct FastCGIParamsIndexTests {
    /// Pairs with 1-byte and 4-byte lengths, well-known names among them (some repeated).
    static func pairs(count: Int, seed: UInt64) -> [(String, String)] {
        var state = seed
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        let known = ["REQUEST_METHOD", "SCRIPT_NAME", "QUERY_STRING", "CONTENT_LENGTH", "HTTP_HOST", "HTTPS"]
        return (0..<count).map { i in
            let name = i % 3 == 0 ? known[next() % known.count] : "HTTP_X_\(i)" + String(repeating: "N", count: next() % 140)
            return (name, String(repeating: "v", count: next() % 300) + "\(i)")
        }
    }

    @Test(arguments: [0, 1, 17, 48, 49, 120])
    func everyLookupFindsTheLastValueWhateverPathIndexedIt(count: Int) throws {
        let pairs = Self.pairs(count: count, seed: UInt64(count) + 7)
        let params = try FastCGIParams(encoded: NameValuePairs.encode(pairs), maxCount: 1000)
        #expect(params.count == count)
        #expect(params.map { $0.name } == pairs.map { $0.0 })
        for (name, _) in pairs {
            let last = pairs.last { $0.0 == name }!.1
            #expect(params[name] == last)
        }
        let method = pairs.last { $0.0 == "REQUEST_METHOD" }?.1
        let range = params.valueRange(.requestMethod)
        #expect(range.map { r in params.withEncodedBytes { String(decoding: $0[r], as: UTF8.self) } } == method)
        #expect(params.withValue(.httpHost) { $0.map { String(decoding: $0, as: UTF8.self) } } == pairs.last { $0.0 == "HTTP_HOST" }?.1)
        #expect(params.valueRange(.pathInfo) == nil)
    }

    @Test func aPairCutShortThrowsAtItsOffset() throws {
        let whole = NameValuePairs.encode([("A", "1"), ("SCRIPT_NAME", String(repeating: "x", count: 200))])
        // The second pair starts at 4; cut inside its 4-byte value length, then inside its value.
        for cut in [6, whole.count - 1] {
            #expect(throws: FastCGIError.truncatedNameValuePair(offset: 4)) {
                try FastCGIParams(encoded: Array(whole[..<cut]), maxCount: 100)
            }
        }
    }

    @Test func moreThanMaxCountPairsAreRefused() throws {
        let encoded = NameValuePairs.encode([("A", "1"), ("B", "2"), ("C", "3")])
        #expect(throws: FastCGIError.tooManyParams(limit: 2)) { try FastCGIParams(encoded: encoded, maxCount: 2) }
        #expect(throws: FastCGIError.tooManyParams(limit: 0)) { try FastCGIParams(encoded: encoded, maxCount: 0) }
        #expect(try FastCGIParams(encoded: encoded, maxCount: 3).count == 3)
    }
}
