import FastCGI
import FastCGIClient
import Foundation
import Glibc
import Testing

/// Bodies are exactly CONTENT_LENGTH, through a Swift pool (the test app) and a cgi pool: a
/// short, aborted or mislabelled body never reaches a handler as whole, and its answer is a 400
/// or nothing; bytes past the length are never seen. Raw FastCGI clients play nginx.
@Suite(.serialized) struct BodyIntegrityTests {
    /// What a raw request's connection brought back: the response's STDOUT (its head parsed
    /// when there is one) and whether an END_REQUEST came.
    struct Outcome {
        var stdout: [UInt8] = []
        var ended = false
        var text: String { String(decoding: stdout, as: UTF8.self) }
        var status: Int? {
            guard text.hasPrefix("Status: ") else { return stdout.isEmpty ? nil : 200 }
            return Int(text.dropFirst(8).prefix(3))
        }
        var body: String { text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
    }

    /// Sends one request with `length` as CONTENT_LENGTH (nil: absent) and `stdin` as the body,
    /// then the STDIN end (`end`) or an ABORT_REQUEST (`abort`), and reads until the server
    /// closes the connection.
    static func send(_ port: Int, uri: String, script: String? = nil, length: String?, stdin: [UInt8],
                     end: Bool = true, abort: Bool = false, extra: [(String, String)] = []) throws -> Outcome {
        let client = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 10)
        defer { client.close() }
        var params = TestSupport.params(uri: uri, method: "POST", script: script).filter { $0.0 != "CONTENT_LENGTH" }
        if let length { params.append(("CONTENT_LENGTH", length)) }
        var bytes = Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
        Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(params + extra), to: &bytes)
        var offset = 0
        while offset < stdin.count {
            let n = min(65535, stdin.count - offset)
            Records.append(type: .stdin, requestID: 1, content: Array(stdin[offset..<offset + n]), to: &bytes)
            offset += n
        }
        try client.sendRaw(bytes)
        if abort {
            // The handler is reading when the abort comes.
            usleep(200_000)
            var abortRecord: [UInt8] = []
            Records.append(type: .abortRequest, requestID: 1, content: [], to: &abortRecord)
            try client.sendRaw(abortRecord)
        } else if end {
            var endRecord: [UInt8] = []
            Records.append(type: .stdin, requestID: 1, content: [], to: &endRecord)
            try client.sendRaw(endRecord)
        }
        var outcome = Outcome()
        while let record = try? client.readRecord() {
            if record.header.type == RecordType.stdout.rawValue { outcome.stdout += record.content }
            if record.header.type == RecordType.endRequest.rawValue { outcome.ended = true }
        }
        return outcome
    }

    static let countScript = """
    #!/bin/sh
    n=$(wc -c)
    echo "$n" > "$DOCUMENT_ROOT/seen"
    printf 'Content-Type: text/plain\\r\\n\\r\\nread %s\\n' "$n"

    """

    /// A cgi pool whose `count.cgi` reads its stdin to EOF, notes what it read in `seen`, and
    /// answers it.
    static func cgiPool(_ extra: String = "") throws -> CGIFixture {
        try CGIFixture(pool: "request_read_timeout = 5s\n" + extra, scripts: ["count.cgi": countScript])
    }

    static func swiftPool() throws -> FPMServer {
        try FPMServer(pool: "pm.max_children = 1\nrequest_read_timeout = 5s\n")
    }

    // MARK: Swift pool

    @Test func swiftAShortBodyIsA400AndNeverReadAsWhole() throws {
        let server = try Self.swiftPool()
        for uri in ["/count", "/swallow"] {
            let r = try Self.send(server.port, uri: uri, length: "1000", stdin: Array(repeating: 0x61, count: 10))
            #expect(r.status == 400, "\(uri): \(r.text)")
            #expect(!r.body.contains("read 10"), "the handler's own answer is not sent")
        }
        #expect(server.waitForLog("the body ended after 10 of its 1000 bytes (CONTENT_LENGTH)"))
        #expect(try server.request("/pid").status == 200)
    }

    @Test func swiftTheHandlerReadsExactlyTheLength() throws {
        let server = try Self.swiftPool()
        let body = (0..<100).map { UInt8(0x41 + $0 % 26) }
        let r = try Self.send(server.port, uri: "/echo", length: "10", stdin: body)
        #expect(r.status == 200)
        #expect(r.body == String(decoding: body[0..<10], as: UTF8.self))
        #expect(server.waitForLog("90 bytes past CONTENT_LENGTH discarded"))
        #expect(server.count("bytes past CONTENT_LENGTH discarded") == 1, "logged once per request")
    }

    @Test("an invalid CONTENT_LENGTH is refused", arguments: ["abc", "-5", "100000000000000000000"])
    func swiftInvalidLength(_ length: String) throws {
        let server = try Self.swiftPool()
        let r = try Self.send(server.port, uri: "/swallow", length: length, stdin: Array("data".utf8))
        #expect(r.status == 400)
        #expect(r.body.contains("CONTENT_LENGTH is not a byte count"))
    }

    @Test func swiftNoLengthAndNoBodyIsAnEmptyBody() throws {
        let server = try Self.swiftPool()
        let r = try Self.send(server.port, uri: "/count", length: nil, stdin: [])
        #expect(r.status == 200 && r.body == "read 0\n")
        let empty = try Self.send(server.port, uri: "/count", length: "", stdin: [])
        #expect(empty.status == 200 && empty.body == "read 0\n")
    }

    @Test func swiftAnAbortMidBodyFailsTheReadAndNothingIsAnswered() throws {
        let server = try Self.swiftPool()
        let r = try Self.send(server.port, uri: "/swallow", length: "100000", stdin: Array(repeating: 1, count: 3000),
                              end: false, abort: true)
        #expect(r.stdout.isEmpty, "no answer after ABORT_REQUEST: \(r.text)")
        #expect(r.ended)
        #expect(server.waitForLog("the web server aborted the request after 3000 body bytes; no answer sent"))
        #expect(try server.request("/pid").status == 200)
    }

    @Test func requestIDZeroClosesTheConnectionAtOnce() throws {
        let server = try Self.swiftPool()
        let client = try server.client(timeout: 10)
        defer { client.close() }
        let start = Date()
        try client.sendRaw(Records.beginRequest(requestID: 0, role: .responder, keepConnection: true))
        _ = try client.readAll()
        #expect(Date().timeIntervalSince(start) < 1, "request_read_timeout is 5 s: the worker was not held")
        #expect(server.waitForLog("BEGIN_REQUEST record with request id 0"))
        #expect(try server.request("/pid", timeout: 2).status == 200)
    }

    /// Resident memory of `pid` in KiB (VmRSS).
    static func residentKiB(_ pid: Int32) -> Int {
        let status = TestSupport.read("/proc/\(pid)/status")
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return -1 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    @Test func swiftAWorkerReturnsNearItsSizeAfterA60MebibyteBody() throws {
        let server = try Self.swiftPool()
        let first = try server.request("/pid")
        let pid = try #require(first.header("X-Worker-PID").flatMap { Int32($0) })
        let baseline = Self.residentKiB(pid)
        let body = [UInt8](repeating: 0x42, count: 60 << 20)
        for uri in ["/count", "/echo"] {
            let client = try server.client(timeout: 60)
            defer { client.close() }
            var bytes = Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
            let params = TestSupport.params(uri: uri, method: "POST", extra: [("CONTENT_LENGTH", String(body.count))])
            Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(params), to: &bytes)
            Records.appendStream(type: .stdin, requestID: 1, content: body, to: &bytes)
            let box = UncheckedBox(client)
            let framed = bytes
            let sender = BackgroundTask { try? box.value.sendRaw(framed) }
            let r = try client.readResponse(requestID: 1)
            sender.wait(timeout: 60)
            #expect(r.status == 200)
            #expect(uri == "/echo" ? r.body.count == body.count : r.bodyText == "read \(body.count)\n")
        }
        let after = Self.residentKiB(pid)
        // The body itself is 60 MiB (read whole, and echoed whole): none of it stays.
        #expect(after - baseline < 16 << 10, "RSS \(baseline) KiB before, \(after) KiB after")
    }

    // MARK: cgi pool

    @Test func cgiAShortBodyIsNeverSeenByTheScript() throws {
        let f = try Self.cgiPool()
        let r = try Self.send(f.server.port, uri: "/count.cgi", script: f.root + "/count.cgi", length: "1000",
                              stdin: Array(repeating: 0x61, count: 10), extra: [("DOCUMENT_ROOT", f.root)])
        #expect(r.status == 400, "\(r.text)")
        #expect(!r.text.contains("read "), "the script's answer is not sent")
        #expect(!FileManager.default.fileExists(atPath: f.root + "/seen"), "the script was killed before it saw EOF")
        #expect(try f.request("/count.cgi").status == 200, "the worker goes on")
    }

    @Test func cgiTheScriptReadsExactlyTheLength() throws {
        let f = try Self.cgiPool()
        let r = try Self.send(f.server.port, uri: "/count.cgi", script: f.root + "/count.cgi", length: "10",
                              stdin: Array(repeating: 0x61, count: 100), extra: [("DOCUMENT_ROOT", f.root)])
        #expect(r.status == 200)
        #expect(r.body == "read 10\n")
        #expect(f.server.waitForLog("90 bytes past CONTENT_LENGTH discarded"))
    }

    @Test("cgi: an invalid CONTENT_LENGTH is refused before the script runs", arguments: ["abc", "-5", "100000000000000000000"])
    func cgiInvalidLength(_ length: String) throws {
        let f = try Self.cgiPool()
        let r = try Self.send(f.server.port, uri: "/count.cgi", script: f.root + "/count.cgi", length: length,
                              stdin: Array("data".utf8), extra: [("DOCUMENT_ROOT", f.root)])
        #expect(r.status == 400)
        #expect(!FileManager.default.fileExists(atPath: f.root + "/seen"))
    }

    @Test func cgiAnAbortMidBodyKillsTheScriptAndNothingIsAnswered() throws {
        let f = try Self.cgiPool()
        let r = try Self.send(f.server.port, uri: "/count.cgi", script: f.root + "/count.cgi", length: "100000",
                              stdin: Array(repeating: 1, count: 3000), end: false, abort: true,
                              extra: [("DOCUMENT_ROOT", f.root)])
        #expect(r.stdout.isEmpty, "no answer after ABORT_REQUEST: \(r.text)")
        #expect(!FileManager.default.fileExists(atPath: f.root + "/seen"))
        #expect(f.server.waitForLog("aborted the request after 3000 body bytes"))
        #expect(try f.request("/count.cgi").status == 200)
    }

    @Test func cgiA64MebibyteUploadStreamsToTheScript() throws {
        let f = try Self.cgiPool()
        let body = [UInt8](repeating: 0x5A, count: 64 << 20)
        let start = Date()
        let r = try f.streamingRequest("/count.cgi", body: body, timeout: 30)
        let seconds = Date().timeIntervalSince(start)
        #expect(r.status == 200)
        #expect(r.bodyText == "read \(64 << 20)\n")
        // ~0.3 MB/s before the body moved without waiting out the poll tick (3.5 min for this).
        #expect(seconds < 10, "64 MiB took \(seconds) s")
    }

    // MARK: bounded scripts

    @Test func aScriptPastCgiRlimitAsFailsAt500AndTheNextRequestIsServed() throws {
        let f = try CGIFixture(pool: "cgi.rlimit_as = 64M", scripts: [
            "hog.cgi": "#!/bin/sh\nx=a\nwhile :; do x=\"$x$x\"; done\n",
            "ok.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n",
        ])
        let start = Date()
        let r = try f.request("/hog.cgi", timeout: 20)
        #expect(r.status == 500, "\(r.bodyText)")
        #expect(Date().timeIntervalSince(start) < 5)
        #expect(f.server.waitForLog("failed before its response head"))
        let next = try f.request("/ok.cgi")
        #expect(next.status == 200 && next.bodyText == "ok\n")
    }

    @Test func aScriptPastCgiRlimitCpuIsAnsweredAt504WithinSeconds() throws {
        let f = try CGIFixture(pool: "cgi.rlimit_cpu = 1\nrequest_terminate_timeout = 60s", scripts: [
            "spin.cgi": "#!/bin/sh\nwhile :; do :; done\n",
            "ok.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n",
        ])
        let start = Date()
        let r = try f.request("/spin.cgi", timeout: 30)
        let seconds = Date().timeIntervalSince(start)
        #expect(r.status == 504, "\(r.bodyText)")
        #expect(r.bodyText.contains("cgi.rlimit_cpu"))
        #expect(seconds < 5, "answered after \(seconds) s")
        #expect(f.server.waitForLog("used up cgi.rlimit_cpu (1s)"))
        #expect(try f.request("/ok.cgi").status == 200)
    }
}
