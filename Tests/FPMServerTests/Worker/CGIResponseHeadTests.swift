@testable import FPMServer
import FPMSystem
import Testing

@Suite struct CGIResponseHeadTests {
    func parse(_ pieces: [String]) throws -> (CGIResponseHead, [UInt8])? {
        // Once the head is complete, later pieces are body bytes (the runner passes them on).
        var parser = CGIResponseHeadParser()
        var result: (CGIResponseHead, [UInt8])?
        for piece in pieces {
            if result != nil { result!.1 += Array(piece.utf8); continue }
            result = try parser.feed(Array(piece.utf8))
        }
        return result
    }

    @Test func headEndsAtTheFirstEmptyLineWithLFOrCRLF() throws {
        let lf = try #require(try parse(["Content-Type: text/plain\n\nbody"]))
        #expect(lf.0.fields == [.init(name: "Content-Type", value: "text/plain")])
        #expect(lf.1 == Array("body".utf8))
        let crlf = try #require(try parse(["Content-Type: a\r\nX-Y:  b \r\n\r\n\r\nrest"]))
        #expect(crlf.0.fields.map(\.value) == ["a", "b"])
        #expect(crlf.1 == Array("\r\nrest".utf8))
    }

    @Test func headSplitAnywhereAcrossReadsIsTheSame() throws {
        let text = "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nx"
        for cut in 1..<text.utf8.count {
            let bytes = Array(text.utf8)
            let a = String(decoding: bytes[..<cut], as: UTF8.self), b = String(decoding: bytes[cut...], as: UTF8.self)
            let done = try #require(try parse([a, b]))
            #expect(done.0.status == 404)
            #expect(done.1 == Array("x".utf8))
        }
    }

    @Test func statusLocationAndTheEffectiveStatus() throws {
        let redirect = try #require(try parse(["Location: /next\n\n"]))
        #expect(redirect.0.location == "/next")
        #expect(redirect.0.isLocalRedirect)
        #expect(redirect.0.effectiveStatus == 302)
        let explicit = try #require(try parse(["Status: 201\nLocation: https://x.invalid/\n\n"]))
        #expect(explicit.0.effectiveStatus == 201)
        #expect(!explicit.0.isLocalRedirect)
        let plain = try #require(try parse(["\nbody only"]))
        #expect(plain.0.effectiveStatus == 200)
        #expect(plain.1 == Array("body only".utf8))
    }

    @Test func malformedHeadsAreErrors() {
        #expect(throws: CGIResponseHead.ParseError.self) { _ = try parse(["no colon here\n\n"]) }
        #expect(throws: CGIResponseHead.ParseError.self) { _ = try parse(["Status: abc\n\n"]) }
        #expect(throws: CGIResponseHead.ParseError.self) { _ = try parse(["Bad Name: x\n\n"]) }
        var parser = CGIResponseHeadParser(limit: 100)
        #expect(throws: CGIResponseHead.ParseError.tooLarge(limit: 100)) {
            _ = try parser.feed(Array(repeating: UInt8(ascii: "a"), count: 200))
        }
    }
}
