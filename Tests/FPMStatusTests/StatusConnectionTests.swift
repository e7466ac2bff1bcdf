@testable import FPMStatus
import FastCGI
import Testing

/// The master's status-listener connection: FastCGI in, framed answers out, bounded.
@Suite struct StatusConnectionTests {
    static func request(id: UInt16 = 1, keep: Bool = false, _ pairs: [(String, String)], body: [UInt8] = []) -> [UInt8] {
        var out = Records.beginRequest(requestID: id, role: .responder, keepConnection: keep)
        let encoded = NameValuePairs.encode(pairs)
        Records.append(type: .params, requestID: id, content: encoded, to: &out)
        Records.append(type: .params, requestID: id, content: [], to: &out)
        if !body.isEmpty { Records.append(type: .stdin, requestID: id, content: body, to: &out) }
        Records.append(type: .stdin, requestID: id, content: [], to: &out)
        return out
    }

    static func feed(_ c: inout StatusConnection, _ bytes: [UInt8], now: Int = 0, seen: inout [String]) -> StatusConnection.Outcome {
        bytes.withUnsafeBytes { raw in
            c.receive(raw, now: now) { request in
                seen.append(request.scriptName + (request.queryString.isEmpty ? "" : "?" + request.queryString))
                return StatusConnection.Answer(status: request.scriptName == "/missing" ? 404 : 200,
                                               headers: [StatusPage.Header(name: "Content-Type", value: "text/plain")],
                                               body: Array("answer \(request.scriptName)".utf8))
            }
        }
    }

    /// Parses what the connection would send: (stdout text, END_REQUEST count).
    static func written(_ c: inout StatusConnection) -> (String, Int) {
        var bytes: [UInt8] = []
        c.withPending { bytes = Array($0) }
        c.sent(bytes.count)
        var stdout: [UInt8] = []
        var ends = 0
        var i = 0
        while i + 8 <= bytes.count {
            let type = bytes[i + 1]
            let length = Int(bytes[i + 4]) << 8 | Int(bytes[i + 5])
            let padding = Int(bytes[i + 6])
            if type == RecordType.stdout.rawValue { stdout += bytes[(i + 8)..<(i + 8 + length)] }
            if type == RecordType.endRequest.rawValue { ends += 1 }
            i += 8 + length + padding
        }
        return (String(decoding: stdout, as: UTF8.self), ends)
    }

    @Test func answersOneRequestAndFinishes() {
        var c = StatusConnection(now: 0)
        var seen: [String] = []
        #expect(Self.feed(&c, Self.request([("SCRIPT_NAME", "/status"), ("QUERY_STRING", "json")]), seen: &seen) == .open)
        #expect(seen == ["/status?json"])
        let (text, ends) = Self.written(&c)
        #expect(text == "Content-Type: text/plain\r\n\r\nanswer /status")
        #expect(ends == 1)
        #expect(c.isFinished)
    }

    @Test func bytesSplitAnywhereGiveTheSameAnswer() {
        let bytes = Self.request([("SCRIPT_NAME", "/ping")])
        var c = StatusConnection(now: 0)
        var seen: [String] = []
        for b in bytes { #expect(Self.feed(&c, [b], seen: &seen) == .open) }
        #expect(seen == ["/ping"])
        #expect(Self.written(&c).0.hasSuffix("answer /ping"))
    }

    @Test func aKeptConnectionAnswersEachRequestAndStaysOpen() {
        var c = StatusConnection(now: 0)
        var seen: [String] = []
        let two = Self.request(id: 1, keep: true, [("SCRIPT_NAME", "/a")]) + Self.request(id: 2, keep: true, [("SCRIPT_NAME", "/missing")])
        #expect(Self.feed(&c, two, seen: &seen) == .open)
        #expect(seen == ["/a", "/missing"])
        let (text, ends) = Self.written(&c)
        #expect(ends == 2)
        #expect(text.contains("Status: 404 Not Found\r\n"))
        #expect(!c.isFinished)
        #expect(c.answered == 2)
    }

    @Test func headAnswersHeadersOnly() {
        var c = StatusConnection(now: 0)
        var seen: [String] = []
        _ = Self.feed(&c, Self.request([("SCRIPT_NAME", "/status"), ("REQUEST_METHOD", "HEAD")]), seen: &seen)
        #expect(Self.written(&c).0 == "Content-Type: text/plain\r\n\r\n")
    }

    @Test func halfARecordThenCloseIsAnError() {
        var c = StatusConnection(now: 0)
        var seen: [String] = []
        let bytes = Self.request([("SCRIPT_NAME", "/status")])
        #expect(Self.feed(&c, Array(bytes.prefix(5)), seen: &seen) == .open)
        #expect(c.pendingCount == 0)
        if case .open = c.peerClosed() { Issue.record("a close in the middle of a record must close") }
        #expect(seen.isEmpty)
    }

    @Test func aStalledClientExpiresAtItsDeadline() {
        let c = StatusConnection(now: 1_000, limits: StatusConnection.Limits(lifetimeNanos: 500))
        #expect(!c.isExpired(now: 1_499))
        #expect(c.isExpired(now: 1_500))
    }

    @Test func eachAnswerOnAKeptConnectionRestartsTheDeadline() {
        var c = StatusConnection(now: 1_000, limits: StatusConnection.Limits(lifetimeNanos: 500))
        var seen: [String] = []
        _ = Self.feed(&c, Self.request(keep: true, [("SCRIPT_NAME", "/a")]), now: 1_400, seen: &seen)
        #expect(c.deadline == 1_900)
        #expect(!c.isExpired(now: 1_600))
        // Half of the next request does not move it.
        _ = Self.feed(&c, Array(Self.request(id: 2, keep: true, [("SCRIPT_NAME", "/b")]).prefix(10)), now: 1_800, seen: &seen)
        #expect(c.isExpired(now: 1_900))
    }

    @Test func garbageIsRefused() {
        var c = StatusConnection(now: 0)
        var seen: [String] = []
        let outcome = Self.feed(&c, Array("GET /status HTTP/1.1\r\nHost: x\r\n\r\n".utf8), seen: &seen)
        if case .open = outcome { Issue.record("an HTTP request is not FastCGI: \(outcome)") }
        #expect(seen.isEmpty)
    }

    @Test func paramsOverTheCapAreRefusedAsSoonAsAnnounced() {
        var c = StatusConnection(now: 0, limits: StatusConnection.Limits(maxBuffered: 1024))
        var seen: [String] = []
        var bytes = Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
        bytes += [1, RecordType.params.rawValue, 0, 1, 0xEA, 0x60, 0, 0]
        if case .open = Self.feed(&c, bytes, seen: &seen) { Issue.record("60000 bytes of params over a 1024 cap must close") }
    }

    @Test func moreThanTheBufferCapWithoutARecordIsRefused() {
        var c = StatusConnection(now: 0, limits: StatusConnection.Limits(maxBuffered: 1024))
        var seen: [String] = []
        // A STDIN record announcing 60000 bytes, sent in pieces that never complete it.
        var bytes = Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
        Records.append(type: .params, requestID: 1, content: NameValuePairs.encode([("SCRIPT_NAME", "/status")]), to: &bytes)
        Records.append(type: .params, requestID: 1, content: [], to: &bytes)
        bytes += [1, RecordType.stdin.rawValue, 0, 1, 0xEA, 0x60, 0, 0]
        #expect(Self.feed(&c, bytes, seen: &seen) == .open)
        #expect(Self.feed(&c, [UInt8](repeating: 0, count: 900), seen: &seen) == .open)
        if case .open = Self.feed(&c, [UInt8](repeating: 0, count: 200), seen: &seen) { Issue.record("over the cap must close") }
    }

    @Test func aBodyOverTheCapIsRefused() {
        var c = StatusConnection(now: 0, limits: StatusConnection.Limits(maxBody: 100))
        var seen: [String] = []
        let outcome = Self.feed(&c, Self.request([("SCRIPT_NAME", "/status")], body: [UInt8](repeating: 1, count: 101)), seen: &seen)
        if case .open = outcome { Issue.record("a body over the cap must close") }
        #expect(seen.isEmpty)
    }

    @Test func getValuesIsAnswered() {
        var c = StatusConnection(now: 0)
        var seen: [String] = []
        var bytes: [UInt8] = []
        Records.append(type: .getValues, requestID: 0, content: NameValuePairs.encode([("FCGI_MPXS_CONNS", "")]), to: &bytes)
        #expect(Self.feed(&c, bytes, seen: &seen) == .open)
        var out: [UInt8] = []
        c.withPending { out = Array($0) }
        #expect(out.count > 8 && out[1] == RecordType.getValuesResult.rawValue)
        #expect(!c.isFinished)
    }

    @Test func bytesAfterTheLastRequestAreIgnored() {
        var c = StatusConnection(now: 0)
        var seen: [String] = []
        _ = Self.feed(&c, Self.request([("SCRIPT_NAME", "/a")]) + Self.request(id: 2, [("SCRIPT_NAME", "/b")]), seen: &seen)
        #expect(seen == ["/a"])
        #expect(Self.written(&c).1 == 1)
        #expect(c.isFinished)
    }
}

/// What the status listener serves, by SCRIPT_NAME.
@Suite struct StatusEndpointsTests {
    static func request(_ script: String, _ query: String = "") -> StatusConnection.Request {
        StatusConnection.Request(params: FastCGIParams([("SCRIPT_NAME", script), ("QUERY_STRING", query), ("REQUEST_METHOD", "GET")]))
    }
    static let pool = PoolStatus(pool: "www", processManager: "static", startTime: 0, startSince: 1, idleProcesses: 1,
                                 totalProcesses: 1)
    func answer(_ e: StatusEndpoints, _ r: StatusConnection.Request, verdict: Health.Verdict = .init(live: true, ready: false, reason: "not ready: x", summary: "s")) -> StatusConnection.Answer {
        e.answer(r, status: { (Self.pool, []) }, health: { verdict })
    }

    @Test func pingStatusAndHealth() {
        let e = StatusEndpoints(statusPath: "/status", pingPath: "/ping", pingResponse: "pong")
        #expect(answer(e, Self.request("/ping")).body == Array("pong".utf8))
        let status = answer(e, Self.request("/status", "json"))
        #expect(status.status == 200)
        #expect(String(decoding: status.body, as: UTF8.self).hasPrefix("{\"pool\":\"www\""))
        let live = answer(e, Self.request("/live"))
        #expect(live.status == 200 && String(decoding: live.body, as: UTF8.self) == "live (s)\n")
        let ready = answer(e, Self.request("/ready"))
        #expect(ready.status == 503 && String(decoding: ready.body, as: UTF8.self) == "not ready: x\n")
        #expect(answer(e, Self.request("/index.php")).status == 404)
        #expect(answer(e, Self.request("/status/")).status == 404)
    }

    @Test func pingSays503WithTheReasonWhileReadinessIsWithdrawn() {
        let e = StatusEndpoints(statusPath: "/status", pingPath: "/ping", pingResponse: "pong")
        let answer = e.answer(Self.request("/ping"), status: { (Self.pool, []) },
                              health: { .init(live: true, ready: true, reason: "ready") }, withdrawn: "the master is draining (fpmctl drain)")
        #expect(answer.status == 503 && String(decoding: answer.body, as: UTF8.self) == "the master is draining (fpmctl drain)\n")
    }

    @Test func anEmptyScriptNameMatchesOnPathInfo() {
        let e = StatusEndpoints(statusPath: "/status", pingPath: "/ping", pingResponse: "pong")
        let r = StatusConnection.Request(params: FastCGIParams([("SCRIPT_NAME", ""), ("PATH_INFO", "/ping")]))
        #expect(answer(e, r).body == Array("pong".utf8))
    }

    @Test func withoutAStatusPathStatusIsAtTheRootAsInPHPFPM() {
        let e = StatusEndpoints(statusPath: nil, pingPath: nil, pingResponse: "pong")
        #expect(String(decoding: answer(e, Self.request("/")).body, as: UTF8.self).hasPrefix("pool:                 www\n"))
        #expect(answer(e, Self.request("/ping")).status == 404)
    }
}

@Suite struct StatusConnectionPipeliningTests {
    @Test func moreThanTheAnswerBudgetInOneReadIsRefused() {
        var c = StatusConnection(now: 0, limits: StatusConnection.Limits(maxAnswersPerReceive: 3))
        var seen: [String] = []
        let three = (1...3).flatMap { StatusConnectionTests.request(id: UInt16($0), keep: true, [("SCRIPT_NAME", "/\($0)")]) }
        #expect(StatusConnectionTests.feed(&c, three, seen: &seen) == .open)
        #expect(seen == ["/1", "/2", "/3"])
        let four = (4...7).flatMap { StatusConnectionTests.request(id: UInt16($0), keep: true, [("SCRIPT_NAME", "/\($0)")]) }
        if case .open = StatusConnectionTests.feed(&c, four, seen: &seen) { Issue.record("4 pipelined requests over a budget of 3") }
        #expect(seen.count == 6)
    }
}
