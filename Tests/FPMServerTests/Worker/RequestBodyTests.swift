@testable import FPMServer
import FPMSystem
import FastCGI
import Glibc
import Testing

/// The body is exactly CONTENT_LENGTH bytes: the decisions (`RequestBody`) alone, then the
/// session reading them from a socketpair as a handler would.
@Suite struct RequestBodyTests {
    typealias Harness = FastCGISessionTests.Harness

    // MARK: CONTENT_LENGTH

    @Test("CONTENT_LENGTH: digits are a length; absent and empty are none; anything else is invalid",
          arguments: [
              (String?.none, ContentLength.unspecified), ("", .unspecified), ("0", .exactly(0)), ("10", .exactly(10)),
              ("007", .exactly(7)), ("9223372036854775807", .exactly(Int.max)),
              ("9223372036854775808", .invalid), ("100000000000000000000", .invalid), ("abc", .invalid),
              ("-5", .invalid), ("+5", .invalid), (" 5", .invalid), ("5 ", .invalid), ("1e3", .invalid), ("0x10", .invalid),
          ])
    func contentLength(_ text: String?, _ expected: ContentLength) {
        #expect(ContentLength(text) == expected)
    }

    // MARK: the decisions

    @Test func aBodyShorterThanItsLengthFailsOnlyOnceItsStreamEnded() {
        var body = RequestBody(length: .exactly(1000))
        body.arrived(10)
        body.delivered(10)
        #expect(body.failure == nil, "more may come")
        body.ended()
        #expect(body.failure == .incomplete(expected: 1000, received: 10))
        #expect(body.failure?.isAnswered == true)
        #expect(!body.isComplete)
    }

    @Test func bytesPastTheLengthAreNeverDeliverableAndCountAsExcess() {
        var body = RequestBody(length: .exactly(10))
        body.arrived(100)
        #expect(body.take(available: 100, room: 4096) == 10)
        body.delivered(10)
        #expect(body.remaining == 0 && body.isComplete)
        #expect(body.take(available: 90, room: 4096) == 0)
        body.ended()
        #expect(body.failure == nil)
        #expect(body.excess == 90)
    }

    @Test func anAbortOrAClosedConnectionDropsTheAnswer() {
        var aborted = RequestBody(length: .exactly(100))
        aborted.arrived(40)
        aborted.aborted()
        #expect(aborted.failure == .aborted(received: 40))
        #expect(aborted.dropsAnswer && aborted.failure?.isAnswered == false)
        var gone = RequestBody(length: .unspecified)
        gone.disconnected()
        #expect(gone.failure == .disconnected(received: 0) && gone.dropsAnswer)
    }

    @Test func withoutALengthTheStreamsEndDelimitsTheBody() {
        var body = RequestBody(length: .unspecified)
        body.arrived(5000)
        #expect(body.take(available: 5000, room: 4096) == 4096)
        body.delivered(5000)
        body.ended()
        #expect(body.failure == nil && body.isComplete && body.excess == 0)
    }

    @Test func anInvalidLengthIsAFailureFromTheStart() {
        #expect(RequestBody(length: .invalid).failure == .invalidLength)
        #expect(RequestBody(length: .invalid).failure?.isAnswered == true)
    }

    // MARK: through the session

    func post(_ h: Harness, length: String?, body: [UInt8], end: Bool = true, keep: Bool = false) throws -> ServerRequest {
        var pairs = [("REQUEST_METHOD", "POST")]
        if let length { pairs.append(("CONTENT_LENGTH", length)) }
        var bytes = Records.beginRequest(requestID: 1, keepConnection: keep)
        Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(pairs), to: &bytes)
        var stdin: [UInt8] = []
        Records.appendStream(type: .stdin, requestID: 1, content: body, to: &stdin)
        if !end { stdin.removeLast(RecordHeader.size) } // without the empty record
        try h.send(bytes + stdin)
        let params = try #require(try h.nextParams())
        return ServerRequest(params: params, body: h.session)
    }

    @Test func aShortBodyThrowsInsteadOfPassingAsWhole() throws {
        let h = try Harness()
        let request = try post(h, length: "1000", body: Array(repeating: 1, count: 10))
        #expect(throws: RequestBodyError.incomplete(expected: 1000, received: 10)) { try request.readBody() }
        #expect(h.session.bodyFailure == .incomplete(expected: 1000, received: 10))
    }

    @Test func theHandlerReadsExactlyTheLengthAndTheRestIsDiscarded() throws {
        let h = try Harness()
        let body = (0..<100).map { UInt8($0) }
        let request = try post(h, length: "10", body: body, keep: true)
        #expect(try request.readBody() == Array(body[0..<10]))
        var one = [UInt8](repeating: 0, count: 1)
        #expect(try one.withUnsafeMutableBytes { try request.read(into: $0) } == 0, "no byte past the length")
        #expect(h.session.bodyFailure == nil)
        #expect(try h.session.endRequest(failed: false), "the excess is drained: the kept connection stays in step")
        #expect(h.session.endedBodyExcess == 90)
    }

    @Test func theLengthIsReachedWithoutWaitingForTheStreamsEnd() throws {
        let h = try Harness()
        let request = try post(h, length: "5", body: Array("hello".utf8), end: false)
        let started = SystemClock.monotonicNanos()
        #expect(try request.readBody() == Array("hello".utf8))
        #expect(SystemClock.monotonicNanos() - started < 1_000_000_000)
    }

    @Test("an invalid CONTENT_LENGTH fails the read", arguments: ["abc", "-5", "100000000000000000000"])
    func invalidLength(_ length: String) throws {
        let h = try Harness()
        let request = try post(h, length: length, body: Array("data".utf8))
        #expect(h.session.bodyLength == .invalid)
        #expect(throws: RequestBodyError.invalidLength) { try request.readBody() }
    }

    @Test func noLengthAndNoBodyIsAnEmptyBody() throws {
        let h = try Harness()
        let request = try post(h, length: nil, body: [])
        #expect(try request.readBody().isEmpty)
        #expect(h.session.bodyFailure == nil)
        let empty = try Harness()
        #expect(try post(empty, length: "", body: []).readBody().isEmpty)
    }

    @Test func anAbortMidBodyFailsTheReadAndDropsTheAnswer() throws {
        let h = try Harness()
        var bytes = Records.beginRequest(requestID: 1, keepConnection: true)
        Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode([("CONTENT_LENGTH", "100")]), to: &bytes)
        Records.append(type: .stdin, requestID: 1, content: Array(repeating: 7, count: 30), to: &bytes)
        Records.append(type: .abortRequest, requestID: 1, content: [], to: &bytes)
        try h.send(bytes)
        let request = ServerRequest(params: try #require(try h.nextParams()), body: h.session)
        #expect(throws: RequestBodyError.aborted(received: 30)) { try request.readBody() }
        let response = ServerResponse(sink: h.session)
        try response.write("an answer that must not be sent")
        try response.finish()
        #expect(try h.session.endRequest(failed: true) == false, "an aborted request's connection is not reused")
        let records = try h.records()
        #expect(records.last?.type == .endRequest)
        #expect(records.allSatisfy { $0.content.isEmpty || $0.type == .endRequest }, "no output: only the streams' ends")
    }

    @Test func aConnectionClosedMidBodyFailsTheRead() throws {
        let h = try Harness()
        let request = try post(h, length: "100", body: Array(repeating: 1, count: 20), end: false)
        shutdown(h.server, Int32(SHUT_WR))
        #expect(throws: RequestBodyError.disconnected(received: 20)) { try request.readBody() }
    }

    @Test func theNonBlockingReadSaysWhenItMustWaitForTheClient() throws {
        let h = try Harness()
        let request = try post(h, length: "8", body: Array("abcd".utf8), end: false)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(try buffer.withUnsafeMutableBytes { try request.readAvailable(into: $0) } == 4)
        #expect(try buffer.withUnsafeMutableBytes { try request.readAvailable(into: $0) } == nil, "nothing more yet")
        #expect(request.bodyDescriptor == h.session.socket)
        var more: [UInt8] = []
        Records.append(type: .stdin, requestID: 1, content: Array("efgh".utf8), to: &more)
        try h.send(more)
        #expect(try buffer.withUnsafeMutableBytes { try request.readAvailable(into: $0) } == 4)
        #expect(try buffer.withUnsafeMutableBytes { try request.readAvailable(into: $0) } == 0, "the length is reached")
    }
}
