import FastCGI
import Foundation
import Testing

/// Every request gets an answer: a trapping handler and an expired request_terminate_timeout
/// still send nginx a complete 500/504, so it neither shows a bare 502 nor retries the request
/// on another worker.
@Suite struct AnsweredFailureTests {
    @Test func aCrashThroughNginxKeepAliveAnswers500AndCostsExactlyOneWorker() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)", keepalive: 4)
        // Warm both workers' kept connections first, so nginx has a cached one to each.
        for _ in 0..<4 { #expect(try nginx.get("/pid").status == 200) }
        let before = Set(server.workers)
        let r = try nginx.get("/crash")
        #expect(r.status == 500)
        #expect(server.waitForLog("exited on signal"))
        #expect(server.waitForWorkers(2))
        #expect(server.count("exited on signal") == 1, "\(server.log)")
        #expect(server.log.contains("(request: \"GET /crash\") crashed while serving it"), "\(server.log)")
        #expect(Set(server.workers).intersection(before).count == 1)
        #expect(try nginx.get("/pid").status == 200)
    }

    @Test func aCrashAnswers500DirectlyWithEndRequest() throws {
        let server = try FPMServer()
        let r = try server.request("/crash", timeout: 5)
        #expect(r.status == 500)
        #expect(r.appStatus == 1)
        #expect(server.waitForLog("exited on signal"))
    }

    @Test func aRequestPastTerminateTimeoutAnswers504ThroughNginx() throws {
        let server = try FPMServer(pool: "request_terminate_timeout = 1s")
        #expect(server.waitForWorkers(2))
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)", keepalive: 2)
        let start = Date()
        let r = try nginx.get("/sleep?ms=10000")
        #expect(r.status == 504)
        #expect(Date().timeIntervalSince(start) < 1.8)
        #expect(server.waitForLog("(request: \"GET /sleep?ms=10000\") execution timed out"))
        #expect(server.waitForLog("exited on signal 15 (SIGTERM)"))
        #expect(try nginx.get("/pid").status == 200)
    }
}
