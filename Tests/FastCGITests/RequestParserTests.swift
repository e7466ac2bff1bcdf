import FastCGI
import Testing

@Suite("Request parser: valid streams")
struct RequestParserValidTests {
    /// BEGIN, PARAMS over three records (one padded), empty PARAMS, two STDIN chunks, empty STDIN.
    static let stream: [UInt8] = {
        let encoded = NameValuePairs.encode(nginxParams + [("LONG", String(repeating: "L", count: 300))])
        let third = encoded.count / 3
        return Wire.begin(1, keep: true)
            + Wire.record(.params, 1, Array(encoded[..<third]), padding: 5)
            + Wire.record(.params, 1, Array(encoded[third..<(2 * third)]))
            + Wire.record(.params, 1, Array(encoded[(2 * third)...]), padding: 3)
            + Wire.record(.params, 1)
            + Wire.record(.stdin, 1, bytes("hello, "), padding: 1)
            + Wire.record(.stdin, 1, bytes("world"))
            + Wire.record(.stdin, 1)
    }()

    static let expected: [Event] = [
        .begin(1, .responder, true),
        .params((nginxParams + [("LONG", String(repeating: "L", count: 300))]).map { (bytes($0.0), bytes($0.1)) }),
        .stdin(bytes("hello, ")), .stdin(bytes("world")), .stdinEnd,
    ]

    @Test("a whole request fed at once yields begin, params, stdin chunks, stdinEnd")
    func wholeStream() {
        #expect(parse(Self.stream) == Self.expected)
    }

    @Test("the same events whatever single byte boundary the stream is split at")
    func splitAtEveryBoundary() {
        for cut in 0...Self.stream.count {
            let events = parse(Self.stream, cuts: [cut])
            #expect(events == Self.expected, "split at \(cut)")
            if events != Self.expected { break }
        }
    }

    @Test("the same events fed byte by byte")
    func byteByByte() {
        #expect(parse(Self.stream, cuts: Array(1..<Self.stream.count)) == Self.expected)
    }

    @Test("the same events for every pair of split points in a short request")
    func everyPairOfSplits() {
        let short = Wire.request(1, [("A", "1"), ("BB", "22")], body: bytes("xyz"))
        let expected = parse(short)
        #expect(expected.count == 4)
        for i in 0...short.count {
            for j in i...short.count where parse(short, cuts: [i, j]) != expected {
                Issue.record("split at \(i), \(j)")
                return
            }
        }
    }

    @Test("a kept connection accepts a second request after requestFinished()")
    func keepConnectionSecondRequest() {
        let stream = Wire.request(1, [("A", "1")], keep: true) + Wire.request(1, [("B", "2")], body: [7], keep: true)
        #expect(parse(stream) == [
            .begin(1, .responder, true), .params([(bytes("A"), bytes("1"))]), .stdinEnd,
            .begin(1, .responder, true), .params([(bytes("B"), bytes("2"))]), .stdin([7]), .stdinEnd,
        ])
    }

    @Test("a second BEGIN before requestFinished() on the same id is a duplicate")
    func secondBeginWithoutFinish() {
        let stream = Wire.request(1, [("A", "1")], keep: true) + Wire.begin(1, keep: true)
        #expect(parse(stream, finishRequests: false).last == .error(.duplicateBeginRequest(requestID: 1)))
    }

    @Test("GET_VALUES is answered with the requested known names only, in order")
    func getValuesReply() {
        let query = NameValuePairs.encode([("FCGI_MPXS_CONNS", ""), ("FCGI_UNKNOWN", ""), ("FCGI_MAX_CONNS", ""), ("FCGI_MAX_REQS", "")])
        let events = parse(Wire.record(.getValues, 0, query))
        var expected: [UInt8] = []
        Records.append(type: .getValuesResult, requestID: 0,
                       content: NameValuePairs.encode([("FCGI_MPXS_CONNS", "0"), ("FCGI_MAX_CONNS", "5"), ("FCGI_MAX_REQS", "5")]),
                       to: &expected)
        #expect(events == [.reply(expected)])
    }

    @Test("GET_VALUES asking a name many times answers it once")
    func getValuesRepeatedName() {
        let query = NameValuePairs.encode(Array(repeating: ("FCGI_MAX_REQS", ""), count: 100))
        guard case .reply(let r)? = parse(Wire.record(.getValues, 0, query)).first else {
            Issue.record("no reply")
            return
        }
        #expect(Array(r[8...]) == NameValuePairs.encode([("FCGI_MAX_REQS", "5")]))
    }

    @Test("GET_VALUES between requests and during one is answered")
    func getValuesDuringRequest() {
        let gv = Wire.record(.getValues, 0, NameValuePairs.encode([("FCGI_MAX_REQS", "")]))
        let stream = Wire.begin(1) + gv + Wire.params(1, []) + Wire.stdin(1, [])
        let events = parse(stream)
        #expect(events.count == 4)
        guard case .reply = events[1] else { Issue.record("expected reply, got \(events)"); return }
    }

    @Test("a management record of another type is answered with UNKNOWN_TYPE")
    func unknownManagementType() {
        #expect(parse(Wire.record(77, 0, [1, 2, 3])) == [.reply(Records.unknownType(77))])
        #expect(parse(Wire.record(RecordType.stdout.rawValue, 0)) == [.reply(Records.unknownType(6))])
    }

    @Test("an undefined type on a request id is rejected (UNKNOWN_TYPE is for management records)")
    func unknownTypeOnRequest() {
        #expect(parseError(Wire.begin(1) + Wire.record(12, 1, [0])) == .unexpectedRecordType(type: 12, requestID: 1))
        #expect(parseError(Wire.record(200, 3)) == .unexpectedRecordType(type: 200, requestID: 3))
    }

    @Test("a second request id on a busy connection gets CANT_MPX_CONN and its records are skipped")
    func cantMultiplex() {
        let stream = Wire.begin(1) + Wire.begin(2) + Wire.params(2, [("X", "y")]) + Wire.params(1, [("A", "b")])
            + Wire.stdin(2, [1, 2]) + Wire.stdin(1, [3])
        #expect(parse(stream) == [
            .begin(1, .responder, false),
            .reply(Records.endRequest(requestID: 2, protocolStatus: .cantMultiplexConnection)),
            .params([(bytes("A"), bytes("b"))]), .stdin([3]), .stdinEnd,
        ])
    }

    @Test("a role not accepted gets UNKNOWN_ROLE and its records are skipped", arguments: [UInt16(2), 3, 0, 4, 0xFFFF])
    func unknownRole(role: UInt16) {
        let stream = Wire.begin(1, role: role) + Wire.params(1, [("A", "b")]) + Wire.stdin(1, [1])
            + Wire.request(2, [("C", "d")])
        #expect(parse(stream) == [
            .reply(Records.endRequest(requestID: 1, protocolStatus: .unknownRole)),
            .begin(2, .responder, false), .params([(bytes("C"), bytes("d"))]), .stdinEnd,
        ])
    }

    @Test("authorizer and filter are accepted when configured; filter gets DATA")
    func acceptedRoles() {
        let stream = Wire.begin(1, role: 3) + Wire.params(1, []) + Wire.stdin(1, [1])
            + Wire.record(.data, 1, [2, 3]) + Wire.record(.data, 1)
        #expect(parse(stream, roles: [.filter], finishRequests: false) == [
            .begin(1, .filter, false), .params([]), .stdin([1]), .stdinEnd, .data([2, 3]), .dataEnd,
        ])
        #expect(parse(Wire.begin(4, role: 2), roles: [.authorizer, .responder]) == [.begin(4, .authorizer, false)])
    }

    @Test("ABORT_REQUEST for the active request is reported; for another id it is ignored")
    func abort() {
        let stream = Wire.begin(1) + Wire.params(1, []) + Wire.record(.abortRequest, 9) + Wire.record(.abortRequest, 1)
        #expect(parse(stream) == [.begin(1, .responder, false), .params([]), .abort(1)])
    }

    @Test("empty STDIN records before BEGIN_REQUEST are skipped")
    func emptyStdinBeforeBegin() {
        let stream = Wire.record(.stdin, 1) + Wire.record(.stdin, 3) + Wire.request(1, [("A", "1")])
        #expect(parse(stream) == [.begin(1, .responder, false), .params([(bytes("A"), bytes("1"))]), .stdinEnd])
    }

    @Test("a request finished before its body ended has the rest of its body skipped")
    func finishedEarlyBodySkipped() throws {
        var parser = RequestParser(management: testManagement)
        parser.append(Wire.begin(1, keep: true) + Wire.params(1, []) + Wire.record(.stdin, 1, [1]))
        #expect(try parser.nextEvent() == .begin(requestID: 1, role: .responder, keepConnection: true))
        #expect(try parser.nextEvent() == .params(FastCGIParams()))
        #expect(try parser.nextEvent() == .stdin([1]))
        parser.requestFinished()
        parser.append(Wire.record(.stdin, 1, [2]) + Wire.record(.stdin, 1) + Wire.begin(1))
        #expect(try parser.nextEvent() == .begin(requestID: 1, role: .responder, keepConnection: false))
    }

    @Test("reset() forgets the connection: buffered bytes and the active request")
    func resetForgets() throws {
        var parser = RequestParser(management: testManagement)
        parser.append(Wire.begin(1) + [1, 5, 0])
        _ = try parser.nextEvent()
        #expect(parser.activeRequestID == 1)
        #expect(throws: FastCGIError.truncatedRecord(buffered: 3)) { try parser.finish() }
        parser.reset()
        #expect(parser.activeRequestID == nil && parser.bufferedCount == 0)
        try parser.finish()
        parser.append(Wire.begin(2))
        #expect(try parser.nextEvent() == .begin(requestID: 2, role: .responder, keepConnection: false))
    }

    @Test("STDIN chunks reach the worker as soon as each record is complete")
    func stdinStreams() throws {
        var parser = RequestParser(management: testManagement)
        parser.append(Wire.begin(1) + Wire.params(1, []))
        _ = try parser.nextEvent(); _ = try parser.nextEvent()
        #expect(try parser.nextEvent() == nil)
        let big = [UInt8](repeating: 0x5A, count: 65535)
        let rec = Wire.record(.stdin, 1, big)
        parser.append(Array(rec[..<30000]))
        #expect(try parser.nextEvent() == nil)
        parser.append(Array(rec[30000...]))
        #expect(try parser.nextEvent() == .stdin(big[...]))
    }

    @Test("params lookups: subscript, withValue without String, last duplicate wins")
    func paramsFromParser() throws {
        var parser = RequestParser(management: testManagement)
        parser.append(Wire.begin(1) + Wire.params(1, nginxParams + [("REQUEST_METHOD", "POST")]))
        _ = try parser.nextEvent()
        guard case .params(let p)? = try parser.nextEvent() else { Issue.record("no params"); return }
        #expect(p.count == nginxParams.count + 1)
        #expect(p["REQUEST_METHOD"] == "POST")
        #expect(p["SCRIPT_FILENAME"] == "/var/www/html/index.php")
        #expect(p["CONTENT_TYPE"] == "")
        #expect(p["MISSING"] == nil)
        #expect(p.withValue("REQUEST_URI" as StaticString) { $0.map { Array($0) } } == bytes("/index.php?page=2&sort=desc"))
        #expect(Array(p).first! == ("SCRIPT_FILENAME", "/var/www/html/index.php"))
        #expect(Array(p).last! == ("REQUEST_METHOD", "POST"))
    }
}

@Suite("Request parser: malformed streams")
struct RequestParserMalformedTests {
    @Test("a version other than 1 is rejected", arguments: [UInt8(0), 2, 255])
    func unsupportedVersion(version: UInt8) {
        #expect(parseError(Wire.record(1, 1, [0, 1, 0, 0, 0, 0, 0, 0], version: version)) == .unsupportedVersion(version))
    }

    @Test("a BEGIN_REQUEST body of the wrong length is rejected", arguments: [0, 7, 9])
    func beginBodyLength(length: Int) {
        let body = [UInt8](repeating: 0, count: length)
        #expect(parseError(Wire.record(.beginRequest, 1, body)) == .invalidBeginRequestBody(length: length))
    }

    @Test("a truncated name-value pair in PARAMS is rejected when the stream ends")
    func truncatedParams() {
        let stream = Wire.begin(1) + Wire.record(.params, 1, [4, 1] + bytes("NAM")) + Wire.record(.params, 1)
        #expect(parseError(stream) == .truncatedNameValuePair(offset: 0))
    }

    @Test("a pair whose 4-byte length claims more than the stream holds is rejected")
    func overlongPair() {
        let stream = Wire.begin(1) + Wire.record(.params, 1, [1, 0, 65, 0x80, 0, 1, 0, 0] + bytes("abc")) + Wire.record(.params, 1)
        #expect(parseError(stream) == .truncatedNameValuePair(offset: 3))
    }

    @Test("a pair split across PARAMS records is fine")
    func pairAcrossRecords() {
        let enc = NameValuePairs.encode([("NAME", "value")])
        let stream = Wire.begin(1) + Wire.record(.params, 1, Array(enc[..<1])) + Wire.record(.params, 1, Array(enc[1...]))
            + Wire.record(.params, 1) + Wire.stdin(1, [])
        #expect(parse(stream) == [.begin(1, .responder, false), .params([(bytes("NAME"), bytes("value"))]), .stdinEnd])
    }

    @Test("params beyond the byte limit are rejected as soon as they pass it")
    func paramsTooLarge() {
        let limits = ParserLimits(maxParamsBytes: 100)
        let ok = Wire.request(1, [("A", String(repeating: "v", count: 97))])  // 2 + 1 + 97 = 100 bytes
        #expect(parse(ok, limits: limits).count == 3)
        let stream = Wire.begin(1) + Wire.record(.params, 1, [UInt8](repeating: 0, count: 60))
            + Wire.record(.params, 1, [UInt8](repeating: 0, count: 41))
        #expect(parseError(stream, limits: limits) == .paramsTooLarge(limit: 100))
    }

    @Test("params beyond the count limit are rejected")
    func tooManyParams() {
        let limits = ParserLimits(maxParamsCount: 3)
        #expect(parse(Wire.request(1, [("A", ""), ("B", ""), ("C", "")]), limits: limits).count == 3)
        #expect(parseError(Wire.request(1, [("A", ""), ("B", ""), ("C", ""), ("D", "")]), limits: limits) == .tooManyParams(limit: 3))
    }

    @Test("the default limits are 256 KiB, 1000 params, 256 records before BEGIN")
    func defaultLimits() {
        let l = ParserLimits()
        #expect(l.maxParamsBytes == 256 * 1024 && l.maxParamsCount == 1000 && l.maxRecordsBeforeBegin == 256)
    }

    @Test("a PARAMS record after the empty PARAMS record is rejected")
    func paramsAfterEnd() {
        let stream = Wire.begin(1) + Wire.params(1, [("A", "b")]) + Wire.record(.params, 1, NameValuePairs.encode([("C", "d")]))
        #expect(parseError(stream) == .paramsAfterEnd(requestID: 1))
        #expect(parseError(Wire.begin(1) + Wire.params(1, []) + Wire.record(.params, 1)) == .paramsAfterEnd(requestID: 1))
    }

    @Test("STDIN before the PARAMS stream ended is rejected")
    func stdinBeforeParamsEnd() {
        let stream = Wire.begin(1) + Wire.record(.params, 1, NameValuePairs.encode([("A", "b")])) + Wire.record(.stdin, 1, [1])
        #expect(parseError(stream) == .streamBeforeParamsEnd(type: .stdin, requestID: 1))
        #expect(parseError(Wire.begin(1) + Wire.record(.stdin, 1)) == .streamBeforeParamsEnd(type: .stdin, requestID: 1))
        #expect(parseError(Wire.begin(1) + Wire.record(.data, 1, [1])) == .streamBeforeParamsEnd(type: .data, requestID: 1))
    }

    @Test("STDIN or DATA after its empty record is rejected")
    func streamAfterEnd() {
        let base = Wire.begin(1) + Wire.params(1, [])
        #expect(parse(base + Wire.stdin(1, []) + Wire.record(.stdin, 1, [1]), finishRequests: false).last
                == .error(.streamAfterEnd(type: .stdin, requestID: 1)))
        #expect(parseError(base + Wire.record(.data, 1) + Wire.record(.data, 1)) == .streamAfterEnd(type: .data, requestID: 1))
    }

    @Test("records for an id that is neither active nor refused are rejected")
    func unexpectedRequestID() {
        #expect(parseError(Wire.begin(1) + Wire.record(.params, 2, [0, 0]))
                == .unexpectedRequestID(type: 4, requestID: 2, active: 1))
        #expect(parseError(Wire.record(.params, 1, [0, 0])) == .unexpectedRequestID(type: 4, requestID: 1, active: nil))
        #expect(parseError(Wire.record(.stdin, 1, [1])) == .unexpectedRequestID(type: 5, requestID: 1, active: nil))
        #expect(parseError(Wire.begin(1) + Wire.record(.stdin, 2)) == .unexpectedRequestID(type: 5, requestID: 2, active: 1))
        #expect(parseError(Wire.record(.data, 3)) == .unexpectedRequestID(type: 8, requestID: 3, active: nil))
    }

    @Test("a duplicate BEGIN_REQUEST for the active id is rejected")
    func duplicateBegin() {
        #expect(parseError(Wire.begin(1) + Wire.begin(1)) == .duplicateBeginRequest(requestID: 1))
    }

    @Test("types only an application sends are rejected", arguments: [RecordType.endRequest, .stdout, .stderr, .getValuesResult, .unknownType])
    func applicationOnlyTypes(type: RecordType) {
        #expect(parseError(Wire.begin(1) + Wire.record(type, 1)) == .unexpectedRecordType(type: type.rawValue, requestID: 1))
    }

    @Test("GET_VALUES on a request id is rejected")
    func getValuesWithRequestID() {
        #expect(parseError(Wire.record(.getValues, 1)) == .managementRecordWithRequestID(type: 9, requestID: 1))
    }

    @Test("too many records with no request active are rejected")
    func recordsBeforeBegin() {
        let limits = ParserLimits(maxRecordsBeforeBegin: 3)
        let gv = Wire.record(.getValues, 0)
        #expect(parse(gv + gv + Wire.record(.stdin, 1) + Wire.request(1, []), limits: limits).count == 5)
        #expect(parseError(gv + gv + Wire.record(.stdin, 1) + gv, limits: limits) == .tooManyRecordsBeforeBegin(limit: 3))
    }

    @Test("EOF inside a record is reported by finish()")
    func truncatedRecordAtEOF() throws {
        var parser = RequestParser(management: testManagement)
        let rec = Wire.begin(1)
        parser.append(Array(rec[..<10]))
        #expect(try parser.nextEvent() == nil)
        #expect(throws: FastCGIError.truncatedRecord(buffered: 10)) { try parser.finish() }
    }
}
