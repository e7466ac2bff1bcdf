import FastCGI
import Testing

/// A record header is judged on its 8 bytes: the worker must not wait for the content a
/// garbage header promises (up to 64 KiB that never come).
@Suite("Request parser: rejection from the header alone")
struct RequestParserEarlyRejectionTests {
    /// The error thrown once only the first `count` bytes of `stream` are in, if any.
    func errorFromPrefix(_ stream: [UInt8], _ count: Int) -> FastCGIError? {
        var parser = RequestParser(management: ManagementValues(maxConns: 1, maxReqs: 1))
        parser.append(Array(stream.prefix(count)))
        do {
            while try parser.nextEvent() != nil {}
            return nil
        } catch {
            return error
        }
    }

    @Test("an HTTP request sent to the FastCGI port is rejected after 8 bytes")
    func httpRequest() {
        let http = bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(errorFromPrefix(http, 7) == nil)
        #expect(errorFromPrefix(http, 8) == .unsupportedVersion(UInt8(ascii: "G")))
    }

    @Test("a wrong version promising a long record is rejected before its content")
    func wrongVersionLongRecord() {
        let header = Wire.record(1, 1, [UInt8](repeating: 0, count: 60000), version: 2)
        #expect(errorFromPrefix(header, 8) == .unsupportedVersion(2))
    }

    @Test("a BEGIN_REQUEST header of the wrong length is rejected before its content")
    func beginLength() {
        let record = Wire.record(.beginRequest, 1, [UInt8](repeating: 0, count: 4000))
        #expect(errorFromPrefix(record, 8) == .invalidBeginRequestBody(length: 4000))
    }

    @Test("types only an application sends are rejected from the header", arguments: [RecordType.endRequest, .stdout, .stderr, .getValuesResult, .unknownType])
    func applicationTypes(type: RecordType) {
        let record = Wire.record(type, 1, [UInt8](repeating: 0, count: 1000))
        #expect(errorFromPrefix(record, 8) == .unexpectedRecordType(type: type.rawValue, requestID: 1))
    }

    @Test("an undefined type on a request, and GET_VALUES on one, are rejected from the header")
    func undefinedAndManagement() {
        #expect(errorFromPrefix(Wire.record(42, 1, [1, 2, 3]), 8) == .unexpectedRecordType(type: 42, requestID: 1))
        #expect(errorFromPrefix(Wire.record(.getValues, 3, [1, 2, 3]), 8)
                == .managementRecordWithRequestID(type: RecordType.getValues.rawValue, requestID: 3))
    }

    @Test("a PARAMS record longer than the params limit is rejected from the header")
    func paramsPastLimit() {
        var parser = RequestParser(limits: ParserLimits(maxParamsBytes: 100),
                                   management: ManagementValues(maxConns: 1, maxReqs: 1))
        parser.append(Wire.begin(1) + Array(Wire.record(.params, 1, [UInt8](repeating: 0, count: 200)).prefix(8)))
        #expect(throws: FastCGIError.paramsTooLarge(limit: 100)) { while try parser.nextEvent() != nil {} }
    }

    @Test("a valid header whose content is still missing waits for it, checked once")
    func validHeaderWaits() throws {
        let request = Wire.request(1, [("A", "1")])
        var parser = RequestParser(management: ManagementValues(maxConns: 1, maxReqs: 1))
        var events = 0
        for b in request {
            parser.append([b])
            while try parser.nextEvent() != nil { events += 1 }
        }
        #expect(events == 3)
    }

    @Test("an unknown role without KEEP_CONN asks for the connection to be closed; with it, not")
    func refusedRoleCloses() throws {
        for keep in [false, true] {
            var parser = RequestParser(management: ManagementValues(maxConns: 1, maxReqs: 1))
            parser.append(Wire.begin(1, role: 9, keep: keep))
            #expect(try parser.nextEvent() == .reply(Records.endRequest(requestID: 1, protocolStatus: .unknownRole)))
            #expect(parser.closeAfterReply == !keep)
            parser.reset()
            #expect(!parser.closeAfterReply)
        }
    }

    @Test("a request's record with request id 0 is rejected from its header",
          arguments: [RecordType.beginRequest, .abortRequest, .params, .stdin, .data])
    func requestRecordOnTheManagementID(_ type: RecordType) {
        let record = Wire.record(type, 0, [UInt8](repeating: 0, count: 8))
        #expect(errorFromPrefix(record, 8) == .requestRecordWithNullID(type: type.rawValue))
    }
}
