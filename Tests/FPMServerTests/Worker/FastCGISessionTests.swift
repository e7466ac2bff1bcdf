@testable import FPMServer
import FPMSystem
import FastCGI
import Glibc
import Testing

/// The session against a socketpair: the test plays the web server, writing records and
/// reading what the session answers.
@Suite struct FastCGISessionTests {
    /// A session attached to one end of a socketpair; the other end is the web server's.
    final class Harness {
        let session: FastCGISession
        let server: Int32
        /// What the session sent that `records` has not returned yet.
        var unread: [UInt8] = []

        init() throws {
            let (a, b) = try FileIO.socketPair()
            session = FastCGISession(management: ManagementValues(maxConns: 4, maxReqs: 4), limits: ParserLimits(),
                                     receiveBuffer: ReceiveBuffer(capacity: 4096))
            session.attach(socket: a, peer: .unix)
            server = b
        }

        deinit {
            session.close()
            FileIO.close(server)
        }

        func send(_ bytes: [UInt8]) throws { try FileIO.writeAll(server, bytes) }

        /// The params of the next request, after its `.arrived`.
        func nextParams(waitForFirstBytes: Bool = true) throws -> FastCGIParams? {
            var arrived = false
            while true {
                switch try session.readHead(waitForFirstBytes: waitForFirstBytes) {
                case .arrived: arrived = true
                case .ready(let params):
                    #expect(arrived, "a request is ready only after its first bytes arrived")
                    return params
                case .closed: return nil
                }
            }
        }

        /// Records the session wrote, read until an END_REQUEST (or a GET_VALUES_RESULT).
        func records(until last: RecordType = .endRequest) throws -> [(type: RecordType?, id: UInt16, content: [UInt8])] {
            var out: [(type: RecordType?, id: UInt16, content: [UInt8])] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                while let header = RecordHeader.decode(unread), unread.count >= RecordHeader.size + header.bodyLength {
                    let content = Array(unread[RecordHeader.size..<RecordHeader.size + Int(header.contentLength)])
                    unread.removeFirst(RecordHeader.size + header.bodyLength)
                    out.append((header.recordType, header.requestID, content))
                    if header.recordType == last { return out }
                }
                let n = try chunk.withUnsafeMutableBytes { try FileIO.read(server, into: $0) }
                if n == 0 { return out }
                unread += chunk[0..<n]
            }
        }
    }

    static func request(_ id: UInt16, keep: Bool, body: [UInt8] = [], _ pairs: [(String, String)]) -> [UInt8] {
        var out = Records.beginRequest(requestID: id, keepConnection: keep)
        Records.appendStream(type: .params, requestID: id, content: NameValuePairs.encode(pairs), to: &out)
        Records.appendStream(type: .stdin, requestID: id, content: body, to: &out)
        return out
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func streamsTheBodyToTheHandlerAndEndsTheRequestOnce() throws {
        let h = try Harness()
        try h.send(Self.request(1, keep: true, body: Array("hello".utf8), [("REQUEST_METHOD", "POST"), ("CONTENT_LENGTH", "5")]))
        let params = try #require(try h.nextParams())
        #expect(params["REQUEST_METHOD"] == "POST")
        let request = ServerRequest(params: params, role: h.session.role, body: h.session)
        #expect(try request.readBody() == Array("hello".utf8))
        let response = ServerResponse(sink: h.session)
        try response.write("hi")
        try response.finish()
        #expect(try h.session.endRequest(failed: false), "a kept connection serves another request")

        let records = try h.records()
        let stdout = records.filter { $0.type == .stdout }.flatMap(\.content)
        #expect(Self.text(stdout).hasPrefix("Content-Type: text/html; charset=UTF-8\r\n"), "a 200 has no Status line")
        #expect(Self.text(stdout).hasSuffix("\r\n\r\nhi"))
        #expect(records.filter { $0.type == .endRequest }.count == 1)
        #expect(records.last?.type == .endRequest && records.last?.id == 1)
        #expect(records.last?.content.prefix(4) == [0, 0, 0, 0], "app status 0")
    }

    @Test func aFailedRequestEndsWithAppStatusOne() throws {
        let h = try Harness()
        try h.send(Self.request(3, keep: false, [("REQUEST_METHOD", "GET")]))
        _ = try #require(try h.nextParams())
        #expect(try h.session.endRequest(failed: true) == false, "not kept: the connection closes")
        let end = try #require(try h.records().last)
        #expect(end.type == .endRequest && end.id == 3)
        #expect(end.content.prefix(4) == [0, 0, 0, 1])
    }

    @Test func anUnreadBodyIsDrainedSoTheNextRequestOnAKeptConnectionParses() throws {
        let h = try Harness()
        try h.send(Self.request(1, keep: true, body: [UInt8](repeating: 7, count: 10_000), [("N", "1")])
                   + Self.request(2, keep: true, [("N", "2")]))
        #expect(try h.nextParams()?["N"] == "1")
        #expect(try h.session.endRequest(failed: false))
        #expect(h.session.hasBufferedInput, "the second request is already read")
        #expect(try h.nextParams(waitForFirstBytes: false)?["N"] == "2")
        #expect(try h.session.endRequest(failed: false))
        #expect(try h.records().last?.id == 1)
        #expect(try h.records().last?.id == 2)
    }

    @Test func anAbortBeforeTheParamsIsEndedAndTheNextKeptRequestServed() throws {
        let h = try Harness()
        var bytes = Records.beginRequest(requestID: 1, keepConnection: true)
        Records.append(type: .abortRequest, requestID: 1, content: [], to: &bytes)
        try h.send(bytes + Self.request(2, keep: true, [("N", "2")]))
        #expect(try h.nextParams()?["N"] == "2")
        let first = try h.records()
        #expect(first.last?.type == .endRequest && first.last?.id == 1)
        #expect(first.allSatisfy { $0.content.isEmpty || $0.type == .endRequest }, "no output for the aborted request")
    }

    @Test func anAbortDuringTheBodyEndsItAndTheConnectionIsNotReused() throws {
        let h = try Harness()
        var bytes = Records.beginRequest(requestID: 1, keepConnection: true)
        Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode([("A", "b")]), to: &bytes)
        Records.append(type: .abortRequest, requestID: 1, content: [], to: &bytes)
        try h.send(bytes)
        let params = try #require(try h.nextParams())
        let request = ServerRequest(params: params, body: h.session)
        #expect(throws: RequestBodyError.aborted(received: 0)) { try request.readBody() }
        #expect(try h.session.endRequest(failed: false) == false)
        #expect(try h.records().last?.type == .endRequest)
    }

    @Test func managementRecordsAreAnsweredWhileWaitingForARequest() throws {
        let h = try Harness()
        var bytes: [UInt8] = []
        Records.append(type: .getValues, requestID: 0, content: NameValuePairs.encode([("FCGI_MPXS_CONNS", "")]), to: &bytes)
        try h.send(bytes + Self.request(1, keep: false, [("N", "1")]))
        #expect(try h.nextParams()?["N"] == "1")
        let reply = try h.records(until: .getValuesResult)
        #expect(reply.map(\.type) == [.getValuesResult])
        #expect(Self.text(reply[0].content).contains("FCGI_MPXS_CONNS"))
    }

    @Test func aClosedConnectionEndsTheWaitForARequest() throws {
        let h = try Harness()
        try FileIO.writeAll(h.server, Records.beginRequest(requestID: 1))
        shutdown(h.server, Int32(SHUT_WR))
        #expect(try h.nextParams() == nil)
    }

    @Test func aContinuationWithNothingBufferedDoesNotWait() throws {
        let h = try Harness()
        let started = SystemClock.monotonicNanos()
        #expect(try h.nextParams(waitForFirstBytes: false) == nil)
        #expect(SystemClock.monotonicNanos() - started < 1_000_000_000)
    }
}
