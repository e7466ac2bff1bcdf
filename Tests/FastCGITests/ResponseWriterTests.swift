import FastCGI
import Testing

/// Splits framed bytes into (header, content) records, checking the framing on the way.
func records(_ bytes: [UInt8]) -> [(RecordHeader, [UInt8])] {
    var out: [(RecordHeader, [UInt8])] = []
    var i = 0
    while i < bytes.count {
        let h = RecordHeader.decode(bytes[i...])!
        out.append((h, Array(bytes[(i + 8)..<(i + 8 + Int(h.contentLength))])))
        i += 8 + h.bodyLength
    }
    #expect(i == bytes.count)
    return out
}

@Suite("Response writer")
struct ResponseWriterTests {
    @Test("small output is one STDOUT record, then empty STDOUT and END_REQUEST")
    func smallResponse() {
        var w = ResponseWriter(requestID: 5)
        w.stdout("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhi")
        w.end()
        let r = records(w.bytes)
        #expect(r.map(\.0.type) == [6, 6, 3])
        #expect(r.allSatisfy { $0.0.requestID == 5 && $0.0.paddingLength == 0 })
        #expect(r[0].1 == bytes("Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhi"))
        #expect(r[1].1.isEmpty)
        #expect(EndRequestBody.decode(r[2].1) == EndRequestBody(appStatus: 0, protocolStatus: .requestComplete))
    }

    @Test("output composed in place frames as the same bytes written at once", arguments: [0, 1, 200, 65535, 65536, 140000])
    func composedInPlace(size: Int) {
        let content = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 13) }
        var composed = ResponseWriter(requestID: 9)
        composed.stdout("before")
        composed.stdout(composing: { $0.append(contentsOf: content) })
        composed.stdout("after")
        var written = ResponseWriter(requestID: 9)
        written.stdout("before")
        written.stdout(content)
        written.stdout("after")
        #expect(composed.bytes == written.bytes)
        #expect(records(composed.bytes).count == 2 + (size + 65534) / 65535, "no empty record for nothing composed")
    }

    @Test("a compose that throws leaves the output as it was")
    func composeThatThrows() {
        struct Refused: Error {}
        var w = ResponseWriter(requestID: 2)
        w.stdout("kept")
        #expect(throws: Refused.self) { try w.stdout(composing: { $0.append(1); throw Refused() }) }
        var plain = ResponseWriter(requestID: 2)
        plain.stdout("kept")
        #expect(w.bytes == plain.bytes)
    }

    @Test("output is split into records of at most 65535 bytes", arguments: [65535, 65536, 131070, 131071, 200000])
    func splitsAt65535(size: Int) {
        let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for variant in 0..<3 {
            var w = ResponseWriter(requestID: 1)
            switch variant {
            case 0: w.stdout(body)
            case 1: body.withUnsafeBytes { w.stdout($0) }
            default: w.stdout(body.lazy.map { $0 })  // a non-contiguous collection
            }
            let r = records(w.bytes)
            #expect(r.count == (size + 65534) / 65535)
            #expect(r.dropLast().allSatisfy { $0.1.count == 65535 })
            #expect(r.flatMap(\.1) == body)
        }
    }

    @Test("STDERR output closes STDERR too, after STDOUT, and END_REQUEST carries the statuses")
    func stderrEndSequence() {
        var w = ResponseWriter(requestID: 2)
        w.stderr("warning")
        w.stdout([1, 2])
        w.end(appStatus: 3, protocolStatus: .overloaded)
        let r = records(w.bytes)
        #expect(r.map(\.0.type) == [7, 6, 6, 7, 3])
        #expect(r[2].1.isEmpty && r[3].1.isEmpty)
        #expect(EndRequestBody.decode(r[4].1) == EndRequestBody(appStatus: 3, protocolStatus: .overloaded))
    }

    @Test("empty writes frame nothing (an empty record would end the stream)")
    func emptyWrites() {
        var w = ResponseWriter(requestID: 1)
        w.stdout("")
        w.stdout([UInt8]())
        w.stderr([UInt8]())
        #expect(w.count == 0)
        w.end()
        #expect(records(w.bytes).map(\.0.type) == [6, 3])
    }

    @Test("removeAll() lets the worker flush and continue; reset() starts another request")
    func flushAndReset() {
        var w = ResponseWriter(requestID: 1, capacity: 64)
        w.stdout([1, 2, 3])
        var written: [UInt8] = w.withBytes { Array($0) }
        w.removeAll()
        #expect(w.count == 0)
        w.stdout([4])
        w.end()
        written += w.bytes
        #expect(records(written).flatMap(\.1).prefix(4) == [1, 2, 3, 4])
        w.reset(requestID: 9)
        #expect(w.count == 0 && !w.isEnded && !w.sentStderr && w.requestID == 9)
        w.end()
        #expect(records(w.bytes).allSatisfy { $0.0.requestID == 9 })
    }

    @Test("a response framed by the writer reads back through FastCGIResponse")
    func cgiReading() {
        let r = FastCGIResponse(stdout: bytes("Status: 404 Not Found\r\nX-A: 1\r\ncontent-type: text/html\r\n\r\n<p>gone</p>"))
        #expect(r.status == 404)
        #expect(r.header("Content-Type") == "text/html")
        #expect(r.headers.count == 3)
        #expect(r.bodyText == "<p>gone</p>")
        let plain = FastCGIResponse(stdout: bytes("X: y\n\nbody\n\nmore"))
        #expect(plain.status == 200 && plain.header("x") == "y" && plain.bodyText == "body\n\nmore")
        let noHeaders = FastCGIResponse(stdout: bytes("just text"))
        #expect(noHeaders.headers.isEmpty && noHeaders.bodyText == "just text")
    }
}
