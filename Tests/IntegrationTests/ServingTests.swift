import FastCGI
import FastCGIClient
import Foundation
import Testing

/// The vertical slice: the real fpm binary answering FastCGI requests, directly and behind nginx.
@Suite(.serialized) struct ServingTests {
    @Test func infoHandlerListsTheParamsSortedAndTheBodyLength() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1, handler: "info"), binary: TestSupport.fpmPath)
        let body = Array("hello body".utf8)
        let r = try server.request("/x/y.php?a=1", method: "POST", body: body, extra: [("HTTP_X_ZED", "last")])
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "text/plain; charset=utf-8")
        let text = r.bodyText
        #expect(text.contains("REQUEST_METHOD=POST\n"))
        #expect(text.contains("QUERY_STRING=a=1\n"))
        #expect(text.contains("body length: 10\n"))
        let names = text.split(separator: "\n").filter { $0.contains("=") && !$0.hasPrefix("body") }.map { String($0.split(separator: "=")[0]) }
        #expect(names == names.sorted())
        #expect(names.contains("HTTP_X_ZED"))
    }

    @Test func embeddedDefaultServesWithoutAnyConfigFile() throws {
        // What `swift run fpm` does: no -y, no conf/ in the working directory.
        let dir = TestSupport.makeTempDirectory("embedded")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard !TestSupport.canConnect(port: 9000) else {
            Issue.record("port 9000 is already in use on this machine; cannot test the embedded default")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestSupport.fpmPath)
        process.arguments = []
        process.currentDirectoryURL = URL(fileURLWithPath: dir)
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = dir
        process.environment = env
        let err = Pipe()
        process.standardError = err
        try process.run()
        defer { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() }
        #expect(TestSupport.waitUntil(timeout: 15) { TestSupport.canConnect(port: 9000) })
        let client = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:9000")!, timeout: 10)
        defer { client.close() }
        let ping = try client.request(params: TestSupport.params(uri: "/ping"))
        #expect(ping.bodyText == "pong")
        let c2 = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:9000")!, timeout: 10)
        defer { c2.close() }
        let status = try c2.request(params: TestSupport.params(uri: "/status"))
        #expect(status.bodyText.contains("pool:                 www"))
        #expect(status.bodyText.contains("process manager:      dynamic"))
    }

    @Test func keptConnectionServesSeveralRequestsAndDoesNotPinTheWorker() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        // Two clients keep their connections open to a pool of ONE worker and alternate.
        let a = try server.client()
        let b = try server.client()
        defer { a.close(); b.close() }
        var pids = Set<String>()
        for i in 0..<5 {
            let ra = try a.request(params: TestSupport.params(uri: "/pid?a=\(i)"), keepConnection: true)
            let rb = try b.request(params: TestSupport.params(uri: "/pid?b=\(i)"), keepConnection: true)
            #expect(ra.status == 200 && rb.status == 200)
            pids.insert(ra.header("X-Worker-PID") ?? "")
            pids.insert(rb.header("X-Worker-PID") ?? "")
        }
        #expect(pids.count == 1)
    }

    @Test func malformedRecordClosesOnlyThatConnection() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        let before = try server.request("/pid").header("X-Worker-PID")
        let bad = try server.client()
        // Version 9 is not FastCGI 1.
        try bad.sendRaw([9, 1, 0, 1, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])
        let rest = try bad.readAll()
        #expect(rest.isEmpty)
        bad.close()
        let after = try server.request("/pid").header("X-Worker-PID")
        #expect(before == after)
        #expect(server.waitForLog("malformed FastCGI input"))
    }

    @Test func getValuesIsAnsweredWithoutMultiplexing() throws {
        let server = try FPMServer()
        let c = try server.client()
        defer { c.close() }
        let values = try c.getValues(["FCGI_MPXS_CONNS", "FCGI_MAX_CONNS"])
        #expect(values.contains { $0.0 == "FCGI_MPXS_CONNS" && $0.1 == "0" })
        #expect(values.contains { $0.0 == "FCGI_MAX_CONNS" && $0.1 == "2" })
        // The connection stays usable for a request.
        let r = try c.request(params: TestSupport.params(uri: "/pid"))
        #expect(r.status == 200)
    }

    @Test func handlerErrorBecomesA500AndALogLine() throws {
        let server = try FPMServer()
        let r = try server.request("/throw")
        #expect(r.status == 500)
        #expect(server.waitForLog("boom from the test app"))
        #expect(try server.request("/pid").status == 200)
    }

    @Test func crashCostsOnlyThatRequestAndTheWorkerIsReplaced() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        #expect(server.waitForWorkers(1))
        let old = server.workers
        #expect(try server.request("/crash").status == 500)
        #expect(TestSupport.waitUntil { server.workers.count == 1 && server.workers != old })
        #expect(server.waitForLog("exited on signal"))
        #expect(try server.request("/pid").status == 200)
    }

    @Test func largeBodiesStreamBothWays() throws {
        let server = try FPMServer()
        var body = [UInt8](repeating: 0, count: 3 << 20)
        for i in body.indices { body[i] = UInt8(truncatingIfNeeded: i &* 31 &+ i >> 8) }
        let r = try server.request("/echo", method: "POST", body: body, timeout: 30)
        #expect(r.status == 200)
        #expect(r.body == body)
        let big = try server.request("/big?bytes=5000000", timeout: 30)
        #expect(big.body.count == 5_000_000)
    }

    @Test func nginxInFrontServesThroughFastCGI() throws {
        let server = try FPMServer(pools: FPMServer.pool("""
        ping.path = /ping
        pm.status_path = /status
        """, children: 2, handler: "info"), binary: TestSupport.fpmPath)
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)")
        let r = try nginx.get("/some/page.php?q=1", headers: [("X-Test", "yes")])
        #expect(r.status == 200)
        #expect(r.text.contains("HTTP_X_TEST=yes"))
        #expect(r.text.contains("SCRIPT_FILENAME=/srv/some/page.php"))
        #expect(r.text.contains("QUERY_STRING=q=1"))
        let post = try nginx.get("/form", method: "POST", body: Array(repeating: 65, count: 100_000))
        #expect(post.text.contains("body length: 100000"))
        #expect(try nginx.get("/ping").text == "pong")
        let status = try nginx.get("/status?json")
        #expect(status.header("Content-Type") == "application/json")
        #expect(status.text.contains("\"pool\":\"www\""))
    }

    /// A Swift app's 200 leaves without a `Status:` line (as php-cgi's), which nginx reads as
    /// 200; other codes keep theirs.
    @Test func a200HasNoStatusLineAndNginxStillAnswers200() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        let direct = String(decoding: try server.request("/say?text=hi").stdout, as: UTF8.self)
        #expect(!direct.contains("Status:"), "\(direct)")
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)")
        let ok = try nginx.get("/say?text=hi")
        #expect(ok.status == 200)
        #expect(ok.header("Status") == nil)
        #expect(ok.header("X-Worker-PID") != nil, "the app's headers are there")
        let missing = try nginx.get("/status-code?code=404")
        #expect(missing.status == 404)
        #expect(missing.text == "status 404\n")
        #expect(missing.header("Status") == nil)
    }

    @Test func nginxKeepaliveUpstreamWithFewWorkersServesManyClients() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 2))
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)", keepalive: 8)
        // 16 concurrent clients through a keepalive upstream into 2 workers: nobody starves.
        let failures = ManagedCounter()
        let port = nginx.port
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            for j in 0..<10 {
                do {
                    let r = try HTTPClient.request(port: port, method: "GET", path: "/pid?c=\(i)&r=\(j)", body: [], headers: [])
                    if r.status != 200 { failures.add() }
                } catch { failures.add() }
            }
        }
        #expect(failures.value == 0)
    }
}

final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ k: Int = 1) { lock.lock(); n += k; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

@Suite struct KeepAliveHandOffTests {
    @Test func aRetiringWorkerHandsItsKeptConnectionToASibling() throws {
        // max_requests = 2: after its second request the worker leaves; the connection nginx
        // (here: the client) keeps must survive on another worker, not be closed.
        let server = try FPMServer(pools: FPMServer.pool("pm.max_requests = 2", children: 2))
        #expect(server.waitForWorkers(2))
        let k = try server.client(timeout: 10)
        defer { k.close() }
        var pids: [String] = []
        for i in 0..<5 {
            let r = try k.request(params: TestSupport.params(uri: "/pid?i=\(i)"), keepConnection: true)
            #expect(r.status == 200)
            pids.append(r.header("X-Worker-PID") ?? "?")
        }
        #expect(Set(pids).count >= 2, "\(pids)")
    }
}
