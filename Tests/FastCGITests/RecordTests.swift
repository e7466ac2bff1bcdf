import FastCGI
import Testing

@Suite("Record framing")
struct RecordTests {
    @Test("every record type encodes its header and decodes back", arguments: RecordType.allCases)
    func headerRoundTripsForEveryType(type: RecordType) {
        let header = RecordHeader(type: type, requestID: 0x1234, contentLength: 0xBEEF, paddingLength: 7)
        let bytes = header.encode()
        #expect(bytes == [1, type.rawValue, 0x12, 0x34, 0xBE, 0xEF, 7, 0])
        #expect(RecordHeader.decode(bytes) == header)
        #expect(bytes.withUnsafeBytes { RecordHeader.decode($0) } == header)
        #expect(RecordHeader.decode(bytes)?.recordType == type)
        #expect(RecordHeader.decode(bytes)?.bodyLength == 0xBEEF + 7)
    }

    @Test("type values match the specification")
    func typeValues() {
        #expect(RecordType.beginRequest.rawValue == 1)
        #expect(RecordType.unknownType.rawValue == 11)
        #expect(RecordType.allCases.map(\.rawValue) == Array(1...11))
        #expect(Role.responder.rawValue == 1 && Role.authorizer.rawValue == 2 && Role.filter.rawValue == 3)
        #expect(ProtocolStatus.allCases.map(\.rawValue) == [0, 1, 2, 3])
        #expect(fcgiKeepConn == 1)
        #expect(RecordHeader.size == 8)
    }

    @Test("a header decodes only from 8 or more bytes and keeps an unknown type raw")
    func shortAndUnknownHeaders() {
        #expect(RecordHeader.decode([1, 2, 3, 4, 5, 6, 7]) == nil)
        let h = RecordHeader.decode([1, 99, 0, 1, 0, 0, 0, 0, 0xFF])
        #expect(h?.type == 99 && h?.recordType == nil)
        #expect(RecordType.name(of: 99) == "type 99")
    }

    @Test("BEGIN_REQUEST body carries role and keep-conn flag")
    func beginRequestBody() {
        let framed = Records.beginRequest(requestID: 7, role: .filter, keepConnection: true)
        #expect(framed == [1, 1, 0, 7, 0, 8, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0])
        let body = BeginRequestBody.decode(framed[8...])
        #expect(body == BeginRequestBody(role: .filter, keepConnection: true))
        #expect(body?.keepConnection == true)
        #expect(BeginRequestBody.decode(framed[8..<15]) == nil)
    }

    @Test("END_REQUEST body carries app status and protocol status")
    func endRequestBody() {
        let framed = Records.endRequest(requestID: 0x0102, appStatus: 0xDEADBEEF, protocolStatus: .overloaded)
        #expect(framed == [1, 3, 1, 2, 0, 8, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF, 2, 0, 0, 0])
        let body = EndRequestBody.decode(framed[8...])
        #expect(body == EndRequestBody(appStatus: 0xDEADBEEF, protocolStatus: .overloaded))
        #expect(ResponseWriter.endRequest(requestID: 0x0102, appStatus: 0xDEADBEEF, protocolStatus: .overloaded) == framed)
    }

    @Test("UNKNOWN_TYPE names the type on request id 0")
    func unknownTypeRecord() {
        #expect(Records.unknownType(42) == [1, 11, 0, 0, 0, 8, 0, 0, 42, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test("a stream is split into records of at most 65535 bytes and ends with an empty record")
    func streamFraming() {
        var out: [UInt8] = []
        Records.appendStream(type: .stdin, requestID: 1, content: [UInt8](repeating: 9, count: 70000), to: &out)
        #expect(out.count == 8 + 65535 + 8 + (70000 - 65535) + 8)
        #expect(RecordHeader.decode(out)?.contentLength == 65535)
        #expect(RecordHeader.decode(out[(8 + 65535)...])?.contentLength == UInt16(70000 - 65535))
        #expect(RecordHeader.decode(out[(out.count - 8)...])?.contentLength == 0)
    }

    @Test("every error has a log line naming what was wrong")
    func errorDescriptions() {
        let errors: [FastCGIError] = [
            .unsupportedVersion(2), .truncatedNameValuePair(offset: 3), .paramsTooLarge(limit: 10), .tooManyParams(limit: 2),
            .paramsAfterEnd(requestID: 1), .streamBeforeParamsEnd(type: .stdin, requestID: 1),
            .streamAfterEnd(type: .data, requestID: 1), .unexpectedRequestID(type: 5, requestID: 2, active: 1),
            .unexpectedRequestID(type: 4, requestID: 2, active: nil), .invalidBeginRequestBody(length: 7),
            .duplicateBeginRequest(requestID: 1), .unexpectedRecordType(type: 6, requestID: 1),
            .managementRecordWithRequestID(type: 9, requestID: 1), .tooManyRecordsBeforeBegin(limit: 3),
            .truncatedRecord(buffered: 5), .invalidEndRequestBody(length: 1),
        ]
        for e in errors { #expect(e.description.hasPrefix("FastCGI: ")) }
        #expect(FastCGIError.streamBeforeParamsEnd(type: .stdin, requestID: 1).description.contains("STDIN"))
        #expect(FastCGIError.unexpectedRequestID(type: 5, requestID: 2, active: 1).description
                == "FastCGI: STDIN record for request 2 while request 1 is active")
    }
}
