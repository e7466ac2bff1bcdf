import FastCGI
import Foundation
import Testing

/// Async handlers through the real binary (the test app's `/async…` routes, an `AsyncHandler`)
/// behind nginx: answers, a throw's 500, request_terminate_timeout's 504, the slowlog's stack,
/// and the threads a worker has.
@Suite struct AsyncHandlerIntegrationTests {
    static func threads(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1
    }

    @Test func asyncRoutesAnswerThroughNginx() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)", keepalive: 2)
        for _ in 0..<4 {
            let r = try nginx.get("/async")
            #expect(r.status == 200)
            #expect(r.text == "pid \(r.header("X-Worker-PID") ?? "?")\n")
        }
        #expect(try nginx.get("/async/hop").text == "hopped 42\n")
        let slept = try nginx.get("/async/sleep?ms=30")
        #expect(slept.status == 200)
        #expect(slept.text == "slept 30 async\n")
    }

    @Test func anAsyncThrowIsA500AndALogLine() throws {
        let server = try FPMServer()
        let r = try server.request("/async/throw")
        #expect(r.status == 500)
        #expect(r.bodyText == "Internal Server Error\n")
        #expect(server.waitForLog("handler error for \"GET /async/throw\": async boom from the test app"))
        #expect(try server.request("/async").status == 200)
    }

    @Test func anAsyncRequestPastTerminateTimeoutAnswers504() throws {
        let server = try FPMServer(pool: "request_terminate_timeout = 1s")
        #expect(server.waitForWorkers(2))
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)", keepalive: 2)
        let start = Date()
        let r = try nginx.get("/async/sleep?ms=10000")
        #expect(r.status == 504)
        #expect(Date().timeIntervalSince(start) < 1.8)
        #expect(server.waitForLog("(request: \"GET /async/sleep?ms=10000\") execution timed out"))
        #expect(try nginx.get("/async").status == 200)
    }

    /// A worker that serves only synchronous requests has one thread, and so does one whose
    /// async handler awaits nothing: the executor runs on the worker's thread and starts none.
    @Test func aWorkerStartsNoThreadForSyncOrNonSuspendingAsyncRequests() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        #expect(server.waitForWorkers(1))
        let pid = try #require(server.workers.first)
        for _ in 0..<5 { #expect(try server.request("/pid").status == 200) }
        #expect(Self.threads(pid) == 1)
        for _ in 0..<5 { #expect(try server.request("/async").status == 200) }
        #expect(Self.threads(pid) == 1)
        // One that hops to the global pool's threads still answers, on the same worker.
        let hop = try server.request("/async/hop")
        #expect(hop.bodyText == "hopped 42\n")
        #expect(hop.header("X-Worker-PID") == String(pid))
    }

    @Test func aSlowAsyncRequestsSlowlogStackShowsTheWorkerWaitingOnItsExecutor() throws {
        let server = try FPMServer(pool: """
            slowlog = {{DIR}}/slow.log
            request_slowlog_timeout = 1
            request_slowlog_trace_depth = 16
            """)
        let r = try server.request("/async/sleep?ms=1800", timeout: 20)
        #expect(r.status == 200)
        let path = server.dir + "/slow.log"
        #expect(TestSupport.waitUntil { TestSupport.read(path).contains("WorkerExecutor") }, "\(TestSupport.read(path))")
        #expect(TestSupport.read(path).contains("TestApp"), "\(TestSupport.read(path))")
    }
}
