@testable import FPMServer
import FPMSystem
import FastCGI
import Testing

/// pm.max_queue_wait's queue (who is passed on, who is answered, and the stamps that keep a
/// wait under the limit) and the 503 conversation, with made-up times and bytes.
@Suite struct AdmissionQueueTests {
    let peer = PeerAddress(family: .ipv4, bytes: [127, 0, 0, 1], port: 4000)
    let ms = 1_000_000

    @Test func aConnectionIsStampedWithTheLastMomentTheBacklogWasKnownEmpty() {
        var q = AdmissionQueue(limitNanos: 200 * ms, now: 0)
        q.backlogEmpty(at: 40 * ms)
        q.admit(7, peer: peer)
        q.backlogEmpty(at: 80 * ms)
        q.admit(8, peer: peer)
        #expect(q.count == 2)
        // The first is due 200 ms after the backlog was last seen empty before it, not after its accept.
        #expect(q.nextWake <= 240 * ms)
        #expect(q.look(idle: 0, now: 239 * ms).isEmpty)
        let steps = q.look(idle: 0, now: 240 * ms)
        #expect(steps == [.reject(AdmissionQueue.Held(connection: 7, peer: peer, since: 40 * ms))])
        #expect(q.look(idle: 0, now: 280 * ms) == [.reject(AdmissionQueue.Held(connection: 8, peer: peer, since: 80 * ms))])
        #expect(q.isEmpty)
    }

    @Test func idleWorkersGetTheOldestFirstAndAHandOffBeatsAnAnswer() {
        var q = AdmissionQueue(limitNanos: 200 * ms, now: 0)
        for fd in Int32(10)..<13 { q.admit(fd, peer: peer) }
        // All three are past the limit, but one worker is idle: it serves the oldest.
        let steps = q.look(idle: 1, now: 300 * ms)
        #expect(steps.first == .handOff(AdmissionQueue.Held(connection: 10, peer: peer, since: 0)))
        let rejected: [Int32] = steps.dropFirst().compactMap { if case .reject(let h) = $0 { h.connection } else { nil } }
        #expect(rejected == [11, 12] && steps.count == 3)
    }

    @Test func aHandOffThatDidNotGoIsFirstAgain() {
        var q = AdmissionQueue(limitNanos: 200 * ms, now: 0)
        q.admit(1, peer: peer)
        q.admit(2, peer: peer)
        guard case .handOff(let first)? = q.look(idle: 1, now: ms).first else { Issue.record("no hand-off"); return }
        q.putBack(first)
        #expect(q.look(idle: 2, now: 2 * ms) == [.handOff(first), .handOff(AdmissionQueue.Held(connection: 2, peer: peer, since: 0))])
    }

    @Test func theMasterLooksRarelyWhileItHoldsNothingAndOftenWhileItHolds() {
        var q = AdmissionQueue(limitNanos: 200 * ms, now: 0)
        _ = q.look(idle: 2, now: 0)
        #expect(q.nextWake == 40 * ms, "a fifth of the limit")
        q.admit(3, peer: peer)
        _ = q.look(idle: 0, now: 40 * ms)
        #expect(q.nextWake == 45 * ms, "5 ms while holding")
        #expect(AdmissionQueue.samplePeriod(limit: 10 * ms) == 5 * ms)
        #expect(AdmissionQueue.samplePeriod(limit: 60_000 * ms) == 1000 * ms)
    }

    @Test func removeAllGivesEverythingOldestFirst() {
        var q = AdmissionQueue(limitNanos: 200 * ms, now: 0)
        for fd in Int32(1)...3 { q.admit(fd, peer: peer) }
        _ = q.look(idle: 1, now: ms)
        #expect(q.removeAll().map(\.connection) == [2, 3])
        #expect(q.isEmpty)
    }
}

@Suite struct AdmissionReplyTests {
    static func request(id: UInt16 = 9, method: String = "GET", body: [UInt8] = [], keep: Bool = false) -> [UInt8] {
        var bytes = Records.beginRequest(requestID: id, keepConnection: keep)
        Records.appendStream(type: .params, requestID: id,
                             content: NameValuePairs.encode([("REQUEST_METHOD", method), ("SCRIPT_NAME", "/x")]), to: &bytes)
        Records.appendStream(type: .stdin, requestID: id, content: body, to: &bytes)
        return bytes
    }

    static func feed(_ reply: inout AdmissionReply, _ bytes: [UInt8]) -> AdmissionReply.Outcome {
        bytes.withUnsafeBytes { reply.receive($0) }
    }

    static func output(_ reply: AdmissionReply) -> [UInt8] { reply.withPending { Array($0) } }

    /// The STDOUT of `requestID` in framed bytes, if they end with its END_REQUEST.
    static func decode(_ bytes: [UInt8], requestID: UInt16) -> FastCGIResponse? {
        var i = 0, stdout: [UInt8] = [], ended = false
        while i + 8 <= bytes.count, let h = RecordHeader.decode(bytes[i..<i + 8]) {
            let content = Array(bytes[i + 8..<i + 8 + Int(h.contentLength)])
            guard h.requestID == requestID else { return nil }
            if h.type == RecordType.stdout.rawValue { stdout += content }
            if h.type == RecordType.endRequest.rawValue { ended = true }
            i += 8 + Int(h.contentLength) + Int(h.paddingLength)
        }
        return ended ? FastCGIResponse(stdout: stdout) : nil
    }

    @Test func theAnswerIsA503WithRetryAfterForTheRequestsIdThenTheEnd() throws {
        var reply = AdmissionReply(now: 0, retryAfterSeconds: 3)
        #expect(Self.feed(&reply, Self.request(id: 9)) == .open)
        #expect(reply.answered && reply.isFinished == false && reply.pendingCount > 0)
        let response = try #require(Self.decode(Self.output(reply), requestID: 9))
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "3")
        #expect(response.bodyText.contains("retry after 3 s"))
        reply.sent(reply.pendingCount)
        #expect(reply.isFinished)
        #expect(reply.params?["SCRIPT_NAME"] == "/x")
    }

    @Test func aConnectionIsKeptOnlyWhenTheRequestAskedAndNothingOfTheNextWasRead() {
        func finished(_ bytes: [UInt8]) -> AdmissionReply {
            var reply = AdmissionReply(now: 0, retryAfterSeconds: 1)
            _ = Self.feed(&reply, bytes)
            reply.sent(reply.pendingCount)
            return reply
        }
        #expect(finished(Self.request(keep: true)).mayKeepConnection)
        #expect(!finished(Self.request(keep: false)).mayKeepConnection)
        // Bytes of the next request already read: the master cannot hand them on, so it closes.
        #expect(!finished(Self.request(keep: true) + Self.request(id: 10, keep: true)).mayKeepConnection)
        // Not yet sent, or the web server closed: not kept.
        var unsent = AdmissionReply(now: 0, retryAfterSeconds: 1)
        _ = Self.feed(&unsent, Self.request(keep: true))
        #expect(!unsent.mayKeepConnection)
        var closed = finished(Self.request(keep: true))
        _ = closed.peerClosed()
        #expect(!closed.mayKeepConnection)
    }

    @Test func theAnswerGoesOutOnTheParamsAndTheBodyIsReadToItsEnd() {
        var reply = AdmissionReply(now: 0, retryAfterSeconds: 1)
        let bytes = Self.request(method: "POST", body: Array(repeating: 1, count: 200_000))
        // Everything up to the params, then the body in pieces.
        let cut = 16 + 8 + NameValuePairs.encode([("REQUEST_METHOD", "POST"), ("SCRIPT_NAME", "/x")]).count + 8
        #expect(Self.feed(&reply, Array(bytes[..<cut])) == .open)
        #expect(reply.answered && !reply.inputEnded)
        reply.sent(reply.pendingCount)
        #expect(!reply.isFinished, "the body is still coming: closing now would reset the connection")
        #expect(Self.feed(&reply, Array(bytes[cut...])) == .open)
        #expect(reply.isFinished)
    }

    @Test func aBodyOverTheBoundClosesTheConnection() {
        var reply = AdmissionReply(now: 0, retryAfterSeconds: 1, limits: AdmissionReply.Limits(maxDiscard: 1000))
        if case .close = Self.feed(&reply, Self.request(method: "POST", body: Array(repeating: 1, count: 5000))) {} else {
            Issue.record("a body over maxDiscard was read on")
        }
    }

    @Test func aHeadRequestGetsNoBodyAndAConnectionThatEndsEarlyIsClosed() throws {
        var head = AdmissionReply(now: 0, retryAfterSeconds: 1)
        _ = Self.feed(&head, Self.request(method: "HEAD"))
        #expect(try #require(Self.decode(Self.output(head), requestID: 9)).body.isEmpty)
        var early = AdmissionReply(now: 0, retryAfterSeconds: 1)
        _ = Self.feed(&early, Array(Records.beginRequest(requestID: 1)))
        #expect(early.peerClosed() == .close("closed before its request was complete"))
        #expect(early.isExpired(now: early.limits.lifetimeNanos))
    }

    @Test func theReplyTagRoundTripsAboveTheOthers() {
        guard case .admissionReply(let id)? = Master.Wakeup(tag: Master.Wakeup.admissionReply(123_456).tag),
              case .keptConnection(let fd)? = Master.Wakeup(tag: Master.Wakeup.keptConnection(fd: Int32.max).tag) else {
            Issue.record("tags did not round-trip")
            return
        }
        #expect(id == 123_456 && fd == Int32.max)
    }
}
