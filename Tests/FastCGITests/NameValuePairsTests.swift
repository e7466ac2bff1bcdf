import FastCGI
import Testing

@Suite("Name-value pairs")
struct NameValuePairsTests {
    @Test("lengths below 128 take one byte, 128 and above four with the top bit set",
          arguments: [0, 1, 127, 128, 129, 255, 256, 65535, 65536, 0x7FFF_FFFF])
    func lengthEncoding(length: Int) {
        var out: [UInt8] = []
        NameValuePairs.appendLength(length, to: &out)
        if length < 128 {
            #expect(out == [UInt8(length)])
        } else {
            #expect(out.count == 4)
            #expect(out[0] & 0x80 != 0)
            #expect(Int(out[0] & 0x7F) << 24 | Int(out[1]) << 16 | Int(out[2]) << 8 | Int(out[3]) == length)
        }
    }

    @Test("pairs round-trip across the 1-byte/4-byte boundary for names and values",
          arguments: [0, 1, 127, 128, 300])
    func roundTripAtBoundaries(n: Int) {
        let pairs = [(String(repeating: "N", count: max(n, 1)), String(repeating: "v", count: n)),
                     ("SHORT", String(repeating: "x", count: 127 - n % 128)), ("EMPTY", "")]
        let encoded = NameValuePairs.encode(pairs)
        let decoded = try! NameValuePairs.decode(encoded)
        #expect(decoded.map(\.0) == pairs.map(\.0))
        #expect(decoded.map(\.1) == pairs.map(\.1))
    }

    @Test("exact bytes of a 127-byte and a 128-byte value")
    func exactBytesAt127And128() {
        let a = NameValuePairs.encode([("A", String(repeating: "z", count: 127))])
        #expect(Array(a.prefix(3)) == [1, 127, UInt8(ascii: "A")])
        #expect(a.count == 2 + 1 + 127)
        let b = NameValuePairs.encode([("A", String(repeating: "z", count: 128))])
        #expect(Array(b.prefix(6)) == [1, 0x80, 0, 0, 128, UInt8(ascii: "A")])
        #expect(b.count == 5 + 1 + 128)
    }

    @Test("a 4-byte length may encode a short length (non-minimal form is accepted)")
    func nonMinimalLengthAccepted() {
        let bytes: [UInt8] = [0x80, 0, 0, 1, 0x80, 0, 0, 2] + bytes("Kvv")
        let decoded = try! NameValuePairs.decode(bytes)
        #expect(decoded.count == 1 && decoded[0] == ("K", "vv"))
    }

    @Test("truncated pairs are rejected with the pair's offset", arguments: [
        ([UInt8](arrayLiteral: 5), 0),                     // no value length
        ([1, 1, 65], 0),                                   // value byte missing
        ([1, 0, 65, 0x80, 0, 0], 3),                       // 4-byte length cut short
        ([1, 0, 65, 0x80, 0, 0, 200, 0], 3),               // name longer than what is left
        ([1, 0, 65, 3, 0x80, 0xFF, 0xFF, 0xFF, 65], 3),    // value length of 2^31-1
    ])
    func truncatedPairs(bytes: [UInt8], offset: Int) {
        #expect(throws: FastCGIError.truncatedNameValuePair(offset: offset)) { try NameValuePairs.decode(bytes) }
    }
}
