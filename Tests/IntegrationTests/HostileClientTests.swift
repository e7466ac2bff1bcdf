import FastCGI
import FastCGIClient
import Foundation
import Glibc
import Testing

/// One bad client costs only itself: garbage is closed at once, a client that stops sending
/// or reading is cut at its deadline, and the next good request is served promptly.
@Suite struct HostileClientTests {
    /// A one-worker pool with 1 s deadlines, so a held worker shows as a failed next request.
    static func server(_ extra: String = "") throws -> FPMServer {
        try FPMServer(pool: "pm.max_children = 1\nrequest_read_timeout = 1s\nrequest_write_timeout = 1s\n" + extra)
    }

    /// Seconds until the server closes `client` (EOF or reset), reading and dropping its bytes.
    static func secondsUntilClosed(_ client: FastCGIClient) throws -> Double {
        let start = Date()
        _ = try client.readAll()
        return Date().timeIntervalSince(start)
    }

    /// The next good request is answered within a second.
    static func expectServedPromptly(_ server: FPMServer, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let start = Date()
        let r = try server.request("/pid", timeout: 2)
        #expect(r.status == 200, sourceLocation: sourceLocation)
        #expect(Date().timeIntervalSince(start) < 1, sourceLocation: sourceLocation)
    }

    @Test func httpSentToTheFastCGIPortIsClosedAtOnce() throws {
        let server = try Self.server()
        let c = try server.client(timeout: 5)
        defer { c.close() }
        try c.sendRaw(Array("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8))
        #expect(try Self.secondsUntilClosed(c) < 1)
        #expect(server.waitForLog("unsupported protocol version 71"))
        try Self.expectServedPromptly(server)
    }

    @Test func aWrongVersionHeaderPromisingALongRecordIsClosedAtOnce() throws {
        let server = try Self.server()
        let c = try server.client(timeout: 5)
        defer { c.close() }
        try c.sendRaw(RecordHeader(version: 2, type: RecordType.beginRequest.rawValue, requestID: 1, contentLength: 60000).encode())
        #expect(try Self.secondsUntilClosed(c) < 1)
        try Self.expectServedPromptly(server)
    }

    @Test func anUnknownRoleIsRefusedAndTheConnectionClosed() throws {
        let server = try Self.server()
        let c = try server.client(timeout: 5)
        defer { c.close() }
        try c.sendRaw(Records.beginRequest(requestID: 1, role: .filter, keepConnection: false))
        let record = try #require(try c.readRecord())
        #expect(record.header.type == RecordType.endRequest.rawValue)
        #expect(EndRequestBody.decode(record.content)?.protocolStatus == ProtocolStatus.unknownRole.rawValue)
        #expect(try Self.secondsUntilClosed(c) < 1)
        try Self.expectServedPromptly(server)
    }

    @Test func aSlowlorisClientIsCutAtTheReadTimeout() throws {
        let server = try Self.server()
        let c = try server.client(timeout: 5)
        defer { c.close() }
        var request = Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
        Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(TestSupport.params(uri: "/pid")), to: &request)
        // A byte every 200 ms: never idle for the timeout, yet the head never completes in it.
        let start = Date()
        var closed = false
        for byte in request {
            guard (try? c.sendRaw([byte])) != nil else { closed = true; break }
            if Date().timeIntervalSince(start) > 3 { break }
            usleep(200_000)
        }
        let rest = closed ? 0 : try Self.secondsUntilClosed(c)
        #expect(rest < 2)
        #expect(Date().timeIntervalSince(start) < 2.5)
        #expect(server.waitForLog("(stage: Reading headers): the request did not arrive within request_read_timeout (1s)"))
        try Self.expectServedPromptly(server)
    }

    @Test func aClientSendingOneByteIsCutAtTheReadTimeoutAndShownReadingHeaders() throws {
        // 3 s, not 1: the status look in between must land inside the timeout on a loaded machine.
        let server = try FPMServer(pool: "pm.max_children = 1\nrequest_read_timeout = 3s\nrequest_write_timeout = 1s\n")
        let c = try server.client(timeout: 10)
        defer { c.close() }
        let sent = Date()
        try c.sendRaw([1])
        #expect(server.waitUntilActive(1))
        let status = try server.fpmctl(["status", "--pid", server.pidPath, "--full"]).stdout
        #expect(status.contains("Reading headers"), "\(status)")
        _ = try Self.secondsUntilClosed(c)
        let held = Date().timeIntervalSince(sent)
        #expect(held > 2.5 && held < 6, "cut at the 3 s read timeout: \(held)")
        try Self.expectServedPromptly(server)
    }

    @Test func aClientThatNeverReadsItsResponseIsCutAtTheWriteTimeout() throws {
        let server = try Self.server()
        let c = try server.client(timeout: 5)
        defer { c.close() }
        var request = Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
        Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(TestSupport.params(uri: "/big?bytes=8388608")), to: &request)
        Records.appendStream(type: .stdin, requestID: 1, content: [], to: &request)
        try c.sendRaw(request)
        let start = Date()
        #expect(server.waitForLog("(stage: Writing the response): the response was not read for request_write_timeout (1s)", timeout: 5))
        #expect(Date().timeIntervalSince(start) < 2.5)
        try Self.expectServedPromptly(server)
    }

    @Test func aKeptConnectionsNextRequestSplitAcrossThreeWritesIsServed() throws {
        let server = try Self.server()
        for cut in [4, 8, 12] {
            let c = try server.client(timeout: 5)
            defer { c.close() }
            var next = Records.beginRequest(requestID: 1, role: .responder, keepConnection: true)
            Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(TestSupport.params(uri: "/pid")), to: &next)
            Records.appendStream(type: .stdin, requestID: 1, content: [], to: &next)
            // The first request goes with the next one's first bytes; the rest follows in two writes.
            try c.sendRaw(next + next[..<cut])
            #expect(try c.readResponse().status == 200)
            usleep(50_000)
            try c.sendRaw(Array(next[cut..<(cut + 10)]))
            usleep(50_000)
            try c.sendRaw(Array(next[(cut + 10)...]))
            #expect(try c.readResponse().status == 200, "cut at \(cut)")
        }
    }
}
