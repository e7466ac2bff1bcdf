import FPM
import FPMTesting
import Testing

/// The multipart reader over a source that hands out bytes in pieces of a chosen size, as a
/// socket does: boundaries split across reads, malformed bodies, limits, a randomized round trip.
@Suite struct MultipartReaderTests {
    /// A body served `sizes` bytes per read (cycling), or all of it at once when empty.
    final class Source {
        let bytes: [UInt8]
        var offset = 0
        var sizes: [Int]
        var turn = 0
        init(_ bytes: [UInt8], sizes: [Int] = []) { self.bytes = bytes; self.sizes = sizes }
        func read(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
            var n = min(buffer.count, bytes.count - offset)
            if !sizes.isEmpty { n = min(n, sizes[turn % sizes.count]); turn += 1 }
            guard n > 0 else { return 0 }
            buffer.copyBytes(from: bytes[offset..<offset + n])
            offset += n
            return n
        }
    }

    struct Got: Equatable {
        var name: String
        var filename: String?
        var contentType: String?
        var body: [UInt8]
    }

    static func reader(_ bytes: [UInt8], boundary: String = MultipartBody([]).boundary, sizes: [Int] = [],
                       limits: MultipartLimits = MultipartLimits()) -> MultipartReader {
        let source = Source(bytes, sizes: sizes)
        return MultipartReader(boundary: boundary, limits: limits) { source.read($0) }
    }

    /// Every part, read in chunks of `chunk` bytes.
    static func readAll(_ reader: MultipartReader, chunk: Int = 7) throws -> [Got] {
        var out: [Got] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        while let part = try reader.nextPart() {
            var body: [UInt8] = []
            while case let n = try part.read(into: &buffer), n > 0 { body += buffer[0..<n] }
            out.append(Got(name: part.name, filename: part.filename, contentType: part.contentType, body: body))
        }
        return out
    }

    static func parse(_ text: String, boundary: String = "B", sizes: [Int] = []) throws -> [Got] {
        try readAll(reader(Array(text.utf8), boundary: boundary, sizes: sizes))
    }

    static func status(_ body: () throws -> Any) -> Int? {
        do { _ = try body() } catch let error as HTTPError { return error.status.code } catch { return -1 }
        return nil
    }

    static let sample = MultipartBody([
        .field("title", "a\r\nb--B"),
        .file("upload", filename: "x.bin", [0, 13, 10, 45, 45, 13, 10, 13, 255, 1]),
        .field("empty", ""),
    ])

    @Test func fieldsFilesAndBinaryContent() throws {
        let parts = try Self.readAll(Self.reader(Self.sample.bytes))
        #expect(parts == [
            Got(name: "title", filename: nil, contentType: nil, body: Array("a\r\nb--B".utf8)),
            Got(name: "upload", filename: "x.bin", contentType: "application/octet-stream", body: [0, 13, 10, 45, 45, 13, 10, 13, 255, 1]),
            Got(name: "empty", filename: nil, contentType: nil, body: []),
        ])
    }

    @Test("every read size, so every boundary and header split falls at every offset", arguments: 1...48)
    func splitAtEveryOffset(_ size: Int) throws {
        let expected = try Self.readAll(Self.reader(Self.sample.bytes))
        #expect(try Self.readAll(Self.reader(Self.sample.bytes, sizes: [size]), chunk: 3) == expected)
        #expect(try Self.readAll(Self.reader(Self.sample.bytes, sizes: [size, 1, 2 * size + 1]), chunk: 64) == expected)
    }

    @Test func preambleEpilogueAndPadding() throws {
        let text = "preamble --B not yet\r\n--B \t\r\nContent-Disposition: form-data; name=a\r\n\r\n1\r\n--B--\r\nepilogue\r\n--B\r\n"
        #expect(try Self.parse(text, sizes: [1]) == [Got(name: "a", body: Array("1".utf8))])
    }

    @Test func aBodyStartingWithTheBoundaryAndAPartWithoutHeaders() throws {
        #expect(try Self.parse("--B\r\n\r\nraw\r\n--B--") == [Got(name: "", body: Array("raw".utf8))])
    }

    @Test func contentDispositionParameters() throws {
        let text = """
        --B\r
        Content-Disposition: form-data; name="f;1"; filename="a;b \\"q\\".txt"\r
        \r
        x\r
        --B\r
        content-disposition: form-data; filename*=UTF-8''%E2%82%AC%20rates.txt; name="g"; filename="fallback.txt"\r
        Content-Type: text/csv; charset=utf-8\r
        \r
        y\r
        --B\r
        Content-Disposition: form-data; name="h"; filename="C:\\Users\\me\\photo.jpg"\r
        \r
        \r
        --B--\r\n
        """
        let parts = try Self.parse(text)
        #expect(parts.map(\.name) == ["f;1", "g", "h"])
        #expect(parts.map(\.filename) == ["a;b \"q\".txt", "€ rates.txt", "C:\\Users\\me\\photo.jpg"])
        #expect(parts[1].contentType == "text/csv; charset=utf-8")
    }

    @Test func safeFilenames() throws {
        func safe(_ name: String) throws -> String? {
            let body = MultipartBody([.file("f", filename: name, [])])
            return try Self.reader(body.bytes, boundary: body.boundary).nextPart()?.safeFilename
        }
        #expect(try safe("../../etc/passwd") == "passwd")
        #expect(try safe("C:\\Users\\me\\photo.jpg") == "photo.jpg")
        #expect(try safe("a\u{0}b\u{7}c\u{202E}d.txt") == "abcd.txt")
        #expect(try safe("line\r\nbreak") == "line%0D%0Abreak", "CR LF were encoded by the client")
        #expect(try safe("..") == "file")
        #expect(try safe("/") == "file")
        #expect(try safe(".hidden") == "hidden")
        let long = try #require(try safe(String(repeating: "é", count: 300) + ".tar.gz"))
        #expect(long.utf8.count <= 255 && long.hasSuffix(".gz") && long.hasPrefix("éé"))
        let field = MultipartBody([.field("f", "v")])
        #expect(try Self.reader(field.bytes, boundary: field.boundary).nextPart()?.safeFilename == nil)
    }

    @Test("malformed bodies are a 400", arguments: [
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nno final boundary",
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B",
        "--B\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--B\r\n",
        "--B\r\nContent-Disposition: form-data; name=a\r\n",
        "--Bx\r\n\r\n\r\n--B--",
        "--B\r\nno colon here\r\n\r\nx\r\n--B--",
        "",
        "no boundary at all",
    ])
    func malformed(_ text: String) {
        #expect(Self.status { try Self.parse(text, sizes: [3]) } == 400)
    }

    @Test func limitsAreA413() {
        let big = MultipartBody([.field("a", "12345"), .file("b", filename: "b", Array(repeating: 7, count: 100_000))])
        func run(_ limits: MultipartLimits) -> Int? {
            Self.status { try Self.readAll(Self.reader(big.bytes, boundary: big.boundary, limits: limits), chunk: 4096) }
        }
        #expect(run(MultipartLimits()) == nil)
        #expect(run(MultipartLimits(maxPartSize: 99_999)) == 413)
        #expect(run(MultipartLimits(maxTotalSize: 100_000)) == 413)
        #expect(run(MultipartLimits(maxParts: 1)) == 413)
        #expect(run(MultipartLimits(maxParts: 2)) == nil)
        let hugeHeader = MultipartBody([Part(name: "a", headers: [("X-Pad", String(repeating: "p", count: 9000))], body: [1])])
        #expect(Self.status { try Self.readAll(Self.reader(hugeHeader.bytes, boundary: hugeHeader.boundary, sizes: [1000])) } == 413)
        #expect(Self.status { try Self.readAll(Self.reader(hugeHeader.bytes, boundary: hugeHeader.boundary,
                                                            limits: MultipartLimits(maxHeaderSize: 10_000))) } == nil)
        // A header section that never ends stops at the limit, not at the end of the body.
        let endless = Array("--B\r\nX: ".utf8) + Array(repeating: UInt8(ascii: "x"), count: 1 << 20)
        #expect(Self.status { try Self.readAll(Self.reader(endless, boundary: "B")) } == 413)
    }

    typealias Part = MultipartBody.Part

    @Test func skippedPartsAndReadingAPartTooLate() throws {
        let reader = Self.reader(Self.sample.bytes, sizes: [5])
        let first = try #require(try reader.nextPart())
        let second = try #require(try reader.nextPart())
        #expect(second.name == "upload")
        var buffer = [UInt8](repeating: 0, count: 4)
        #expect(throws: (any Error).self) { try first.read(into: &buffer) }
        #expect(try second.bytes(limit: 100).count == 10)
        #expect(try reader.nextPart()?.name == "empty")
        #expect(try reader.nextPart() == nil)
        #expect(try reader.nextPart() == nil)
    }

    @Test func partBytesLimit() throws {
        let reader = Self.reader(Self.sample.bytes)
        _ = try reader.nextPart()
        let file = try #require(try reader.nextPart())
        #expect(Self.status { try file.bytes(limit: 9) } == 413)
        let tooSmall = Self.reader(Self.sample.bytes, limits: MultipartLimits(maxPartSize: 4))
        let title = try #require(try tooSmall.nextPart())
        #expect(Self.status { try title.text() } == 413)
        #expect(try tooSmall.nextPart() == nil, "nothing more is read after an error")
    }

    /// Random parts (random bytes, often near-boundary text) in random read sizes come back whole.
    @Test func randomizedRoundTrip() throws {
        var rng = SplitMix(seed: 22)
        let tricky: [[UInt8]] = [Array("\r\n--".utf8), Array("\r\n".utf8), [13], Array("--".utf8)]
        for round in 0..<200 {
            let boundary = "b" + String(rng.next() % 1_000_000)
            var parts: [Part] = []
            for i in 0..<Int(rng.next() % 5) {
                var body: [UInt8] = []
                for _ in 0..<Int(rng.next() % 40) {
                    switch rng.next() % 4 {
                    case 0: body += tricky[Int(rng.next() % 4)]
                    case 1: body += Array("\r\n--\(boundary)".utf8).dropLast(Int(rng.next() % 3) + 1)
                    default: body += (0..<Int(rng.next() % 50)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                    }
                }
                parts.append(Part(name: "p\(i)", filename: rng.next() % 2 == 0 ? "f\(i).bin" : nil, body: body))
            }
            let built = MultipartBody(parts, boundary: boundary)
            let sizes = (0..<3).map { _ in Int(rng.next() % 97) + 1 }
            let got = try Self.readAll(Self.reader(built.bytes, boundary: boundary, sizes: sizes), chunk: Int(rng.next() % 300) + 1)
            #expect(got.map(\.body) == parts.map(\.body), "round \(round)")
            #expect(got.map(\.filename) == parts.map(\.filename), "round \(round)")
        }
    }

    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}

extension MultipartReaderTests.Got {
    init(name: String, body: [UInt8]) { self.init(name: name, filename: nil, contentType: nil, body: body) }
}
