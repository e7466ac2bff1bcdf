import FastCGI
import FastCGIClient
import Foundation
import Testing

/// A document root of CGI scripts for one test, with a `handler = cgi` fpm in front of it.
final class CGIFixture {
    let root: String
    let server: FPMServer

    init(pool extra: String = "", scripts: [String: String], modes: [String: Int] = [:]) throws {
        root = TestSupport.makeTempDirectory("cgi-root")
        for (name, text) in scripts {
            let path = root + "/" + name
            FileManager.default.createFile(atPath: path, contents: Data(text.utf8),
                                           attributes: [.posixPermissions: modes[name] ?? 0o755])
        }
        server = try FPMServer(name: "cgi", pools: """
        [cgi]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = 1
        handler = cgi
        \(extra)
        """, binary: TestSupport.fpmPath)
    }

    /// nginx-like params for `/name` under this root.
    func params(_ uri: String, method: String = "GET", bodyLength: Int? = nil,
                extra: [(String, String)] = []) -> [(String, String)] {
        let path = String(uri.split(separator: "?", maxSplits: 1)[0])
        var p = TestSupport.params(uri: uri, method: method, script: root + path)
            .filter { $0.0 != "DOCUMENT_ROOT" && $0.0 != "CONTENT_LENGTH" }
        p.append(("DOCUMENT_ROOT", root))
        p.append(("CONTENT_LENGTH", bodyLength.map(String.init) ?? ""))
        return p + extra
    }

    func request(_ uri: String, method: String = "GET", body: [UInt8] = [], extra: [(String, String)] = [],
                 timeout: Double = 20) throws -> FastCGIResponse {
        let c = try server.client(timeout: timeout)
        defer { c.close() }
        return try c.request(params: params(uri, method: method, bodyLength: body.isEmpty ? nil : body.count, extra: extra),
                             body: body)
    }

    /// Sends the body on another thread while this one reads the response: an echo of a large
    /// body must not depend on socket buffer sizes.
    func streamingRequest(_ uri: String, body: [UInt8], timeout: Double = 60) throws -> FastCGIResponse {
        let c = try server.client(timeout: timeout)
        defer { c.close() }
        var out = Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
        Records.appendStream(type: .params, requestID: 1,
                             content: NameValuePairs.encode(params(uri, method: "POST", bodyLength: body.count)), to: &out)
        Records.appendStream(type: .stdin, requestID: 1, content: body, to: &out)
        let box = UncheckedBox(c)
        let bytes = out
        let sender = BackgroundTask { try? box.value.sendRaw(bytes) }
        let response = try c.readResponse(requestID: 1)
        sender.wait(timeout: timeout)
        return response
    }

    deinit {
        server.stop()
        try? FileManager.default.removeItem(atPath: root)
    }
}

final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Processes whose process group is `group` and that are not zombies (from /proc).
func liveMembers(ofGroup group: Int32) -> [Int32] {
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    var found: [Int32] = []
    for entry in entries {
        guard let pid = Int32(entry) else { continue }
        let stat = TestSupport.read("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
        // fields[0] = state, [1] = ppid, [2] = pgrp
        guard fields.count > 2, Int32(fields[2]) == group, fields[0] != "Z", fields[0] != "X" else { continue }
        found.append(pid)
    }
    return found
}

let echoScript = """
#!/bin/sh
printf 'Content-Type: application/octet-stream\\r\\n\\r\\n'
exec cat

"""

@Suite(.serialized) struct CGITests {
    @Test func echoesAFiveMebibytePostByteExact() throws {
        let f = try CGIFixture(scripts: ["cat.cgi": echoScript])
        // Every byte value, in an order no simple pattern repeats (xorshift).
        var state: UInt32 = 2_463_534_242
        let body = (0..<(5 << 20)).map { _ -> UInt8 in
            state ^= state << 13; state ^= state >> 17; state ^= state << 5
            return UInt8(truncatingIfNeeded: state)
        }
        let r = try f.streamingRequest("/cat.cgi", body: body)
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "application/octet-stream")
        #expect(r.body.count == body.count)
        #expect(r.body == body)
    }

    @Test func answersAScriptThatWritesBeforeReadingALargeBody() throws {
        // 1 MiB of output before the script reads any of its 5 MiB body, and it never reads it
        // all: neither side may wait for the other.
        let f = try CGIFixture(scripts: ["early.cgi": """
        #!/bin/sh
        printf 'Content-Type: text/plain\\n\\n'
        head -c 1048576 /dev/zero | tr '\\0' 'e'
        head -c 1000 > /dev/null
        echo done

        """])
        let body = [UInt8](repeating: 0x41, count: 5 << 20)
        let r = try f.streamingRequest("/early.cgi", body: body)
        #expect(r.status == 200)
        #expect(r.body.count == 1_048_576 + 5)
        #expect(r.bodyText.hasSuffix("done\n"))
        // The worker drained the rest of the body: the next request on it works.
        let again = try f.request("/early.cgi")
        #expect(again.status == 200)
    }

    @Test func sendsEightMebibytesOfOutput() throws {
        let f = try CGIFixture(scripts: ["big.sh": """
        #!/bin/sh
        printf 'Content-Type: text/plain\\n\\n'
        yes 0123456789abcde | head -c 8388608

        """])
        let r = try f.request("/big.sh")
        #expect(r.status == 200)
        #expect(r.body.count == 8 << 20)
        #expect(r.body.prefix(32) == Array("0123456789abcde\n0123456789abcde\n".utf8)[...])
    }

    @Test func passesTheScriptsStatusAndHeaders() throws {
        let f = try CGIFixture(scripts: [
            "missing.cgi": "#!/bin/sh\nprintf 'Status: 404 Not Found\\nContent-Type: text/plain\\nX-From: script\\nSet-Cookie: a=1\\nSet-Cookie: b=2\\n\\nno such thing\\n'\n",
            "redirect.cgi": "#!/bin/sh\nprintf 'Location: https://example.invalid/next\\n\\n'\n",
            "local.cgi": "#!/bin/sh\nprintf 'Location: /elsewhere?x=1\\n\\n'\n",
            "nohead.cgi": "#!/bin/sh\necho 'Status 200 without colon'\necho\n",
            "silent.cgi": "#!/bin/sh\nexit 3\n",
            "empty.cgi": "#!/bin/sh\nexit 0\n",
        ])
        let r = try f.request("/missing.cgi")
        #expect(r.status == 404)
        #expect(r.bodyText == "no such thing\n")
        #expect(r.header("X-From") == "script")
        #expect(r.headers.filter { $0.0 == "Set-Cookie" }.map(\.1) == ["a=1", "b=2"])
        let redirect = try f.request("/redirect.cgi")
        #expect(redirect.status == 302)
        #expect(redirect.header("Location") == "https://example.invalid/next")
        let local = try f.request("/local.cgi")
        #expect(local.status == 302)
        #expect(local.header("Location") == "/elsewhere?x=1")
        let malformed = try f.request("/nohead.cgi")
        #expect(malformed.status == 502)
        // A script that fails (exit ≠ 0, a signal) before its head: its own error, a 500; one
        // that ends cleanly without a head gave a malformed answer, a 502.
        let silent = try f.request("/silent.cgi")
        #expect(silent.status == 500)
        #expect(silent.bodyText.contains("exited with code 3"))
        let empty = try f.request("/empty.cgi")
        #expect(empty.status == 502)
        #expect(f.server.waitForLog("premature end of script headers"))
        #expect(f.server.waitForLog("failed before its response head"))
        #expect(f.server.waitForLog("exited with code 3"))
    }

    @Test func refusesWhatItShouldNotRun() throws {
        let f = try CGIFixture(scripts: [
            "notes.txt": "#!/bin/sh\necho not a script\n",
            "plain.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nran\\n'\n",
        ], modes: ["plain.sh": 0o644])
        let ext = try f.request("/notes.txt")
        #expect(ext.status == 403)
        #expect(ext.bodyText.contains("security.limit_extensions"))
        #expect(String(decoding: ext.stderr, as: UTF8.self).contains("security.limit_extensions"))
        let missing = try f.request("/nope.cgi")
        #expect(missing.status == 404)
        #expect(missing.bodyText.contains("Primary script unknown"))
        let notExecutable = try f.request("/plain.sh")
        #expect(notExecutable.status == 403)
        #expect(notExecutable.bodyText.contains("not executable"))
        // Outside the document root, and with a `..` segment.
        let outside = try f.server.client().request(params: f.params("/x.sh", extra: [("SCRIPT_FILENAME", "/bin/sh")]))
        #expect(outside.status == 403)
        let dotdot = try f.server.client().request(params: f.params("/x.cgi", extra: [("SCRIPT_FILENAME", f.root + "/../x.cgi")]))
        #expect(dotdot.status == 403)
        #expect(dotdot.bodyText.contains(".."))
        #expect(f.server.waitForLog("has been denied"))
    }

    @Test func limitExtensionsFromThePoolApply() throws {
        let f = try CGIFixture(pool: "security.limit_extensions = .run", scripts: [
            "a.run": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nran\\n'\n",
            "b.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nran\\n'\n",
        ])
        #expect(try f.request("/a.run").bodyText == "ran\n")
        #expect(try f.request("/b.cgi").status == 403)
    }

    @Test func givesTheScriptAnRFC3875EnvironmentAndACleanProcess() throws {
        let f = try CGIFixture(pool: "env[POOL_VAR] = from-the-pool", scripts: ["env.cgi": """
        #!/bin/sh
        printf 'Content-Type: text/plain\\n\\n'
        env | sort
        echo "pgid=$(ps -o pgid= -p $$ 2>/dev/null | tr -d ' ') pid=$$"
        echo "cwd=$(pwd)"
        echo "fds:"
        ls /proc/self/fd
        echo "end"
        # The state the script was started with, as the program it execs inherits it.
        exec grep -E '^(SigBlk|SigIgn)' /proc/self/status

        """])
        let r = try f.request("/env.cgi?a=1&b=2", method: "POST", body: Array("x=y".utf8),
                              extra: [("HTTP_PROXY", "http://evil.invalid"), ("HTTP_ACCEPT", "text/plain")])
        let text = r.bodyText
        #expect(r.status == 200)
        let lines = Set(text.split(separator: "\n").map(String.init))
        #expect(lines.contains("GATEWAY_INTERFACE=CGI/1.1"))
        #expect(lines.contains("QUERY_STRING=a=1&b=2"))
        #expect(lines.contains("REQUEST_METHOD=POST"))
        #expect(lines.contains("CONTENT_LENGTH=3"))
        #expect(lines.contains("SCRIPT_FILENAME=\(f.root)/env.cgi"))
        #expect(lines.contains("HTTP_ACCEPT=text/plain"))
        #expect(lines.contains("POOL_VAR=from-the-pool"))
        #expect(!text.contains("HTTP_PROXY"))
        // ls's own directory descriptor is the 3.
        let fdLines = text.components(separatedBy: "fds:\n").last?.components(separatedBy: "end\n").first ?? ""
        #expect(fdLines == "0\n1\n2\n3\n")
        #expect(lines.contains("SigBlk:\t0000000000000000"))
        #expect(lines.contains("SigIgn:\t0000000000000000"))
        #expect(lines.contains("cwd=\(f.root)"))
        if let pg = lines.first(where: { $0.hasPrefix("pgid=") }), !pg.hasPrefix("pgid= ") {
            // ps is optional on minimal systems; when it answered, the script leads its group.
            let parts = pg.split(separator: " ")
            #expect(parts[0].dropFirst(5) == parts[1].dropFirst(4))
        }
    }

    @Test func stderrGoesToFastCGIStderrAndThePoolLog() throws {
        let f = try CGIFixture(scripts: ["warn.cgi": "#!/bin/sh\necho 'careful now' >&2\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n"])
        let r = try f.request("/warn.cgi")
        #expect(r.bodyText == "ok\n")
        #expect(String(decoding: r.stderr, as: UTF8.self) == "careful now\n")
        #expect(f.server.waitForLog("said into stderr: \"careful now\""))
    }

    @Test func killsAScriptThatOutlivesTheTimeoutWithItsWholeGroup() throws {
        let f = try CGIFixture(pool: "request_terminate_timeout = 2", scripts: ["slow.cgi": """
        #!/bin/sh
        echo $$ > "$DOCUMENT_ROOT/script.pid"
        sleep 300 &
        echo $! > "$DOCUMENT_ROOT/child.pid"
        printf 'Content-Type: text/plain\\n\\nstarted\\n'
        sleep 300

        """])
        let started = Date()
        let r = try? f.request("/slow.cgi", timeout: 30)
        // The worker answers at the deadline: a 504 while nothing of the script's output has
        // reached the client (it is still buffered here), else the response just ends.
        if let r { #expect(r.status == 504 || r.bodyText.hasPrefix("started"), "\(r.status) \(r.bodyText)") }
        #expect(Date().timeIntervalSince(started) < 15)
        let script = Int32(TestSupport.read(f.root + "/script.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let child = Int32(TestSupport.read(f.root + "/child.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(script > 1 && child > 1)
        #expect(TestSupport.waitUntil(timeout: 10) {
            TestSupport.isZombieOrGone(script) && TestSupport.isZombieOrGone(child) && liveMembers(ofGroup: script).isEmpty
        })
        #expect(f.server.waitForLog("timed out"))
        // And the pool still serves.
        f.server.waitForWorkers(1)
    }

    @Test func aTerminatedWorkerTakesItsScriptsGroupWithIt() throws {
        let f = try CGIFixture(scripts: ["hang.cgi": """
        #!/bin/sh
        echo $$ > "$DOCUMENT_ROOT/script.pid"
        sleep 300 &
        echo $! > "$DOCUMENT_ROOT/child.pid"
        sleep 300

        """, "ok.cgi": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nok\\n'\n"])
        #expect(f.server.waitForWorkers(1))
        let worker = f.server.workers[0]
        let client = try f.server.client(timeout: 30)
        defer { client.close() }
        try client.sendRaw({
            var out = Records.beginRequest(requestID: 1, role: .responder, keepConnection: false)
            Records.appendStream(type: .params, requestID: 1, content: NameValuePairs.encode(f.params("/hang.cgi")), to: &out)
            Records.appendStream(type: .stdin, requestID: 1, content: [], to: &out)
            return out
        }())
        #expect(TestSupport.waitUntil(timeout: 10) { !TestSupport.read(f.root + "/child.pid").isEmpty })
        let script = Int32(TestSupport.read(f.root + "/script.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let child = Int32(TestSupport.read(f.root + "/child.pid").trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect(script > 1 && child > 1)
        kill(worker, SIGTERM)
        #expect(TestSupport.waitUntil(timeout: 10) {
            TestSupport.isZombieOrGone(script) && TestSupport.isZombieOrGone(child) && liveMembers(ofGroup: script).isEmpty
        })
        // The master replaced the worker.
        #expect(TestSupport.waitUntil(timeout: 10) { f.server.workers.count == 1 && f.server.workers[0] != worker })
        #expect(try f.request("/ok.cgi").bodyText == "ok\n")
    }

    @Test func servesCGIBehindNginx() throws {
        let f = try CGIFixture(scripts: ["cat.cgi": echoScript,
                                         "hello.sh": "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\nhello %s\\n' \"$QUERY_STRING\"\n"])
        let nginx = try NginxServer(upstream: "127.0.0.1:\(f.server.port)", keepalive: 2, documentRoot: f.root)
        let hello = try nginx.get("/hello.sh?who=nginx")
        #expect(hello.status == 200)
        #expect(hello.text == "hello who=nginx\n")
        let body = (0..<(3 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let echoed = try nginx.get("/cat.cgi", method: "POST", body: body)
        #expect(echoed.status == 200)
        #expect(echoed.body == body)
        let refused = try nginx.get("/missing.cgi")
        #expect(refused.status == 404)
    }
}
