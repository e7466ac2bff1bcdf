import FastCGI
import FastCGIClient
import Foundation
import Testing

/// Admission control through the real `fpm` binary: `pm.max_queue_wait` answers 503 with
/// Retry-After at the limit and hands what it holds to workers that become free; a pool with no
/// worker is answered 503 by the master while other pools serve.
@Suite(.serialized) struct AdmissionTests {
    struct Outcome: Sendable {
        var status: Int
        var retryAfter: String?
        var seconds: Double
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var outcomes: [Outcome] = []
        func append(_ o: Outcome) { lock.lock(); outcomes.append(o); lock.unlock() }
        var all: [Outcome] { lock.lock(); defer { lock.unlock() }; return outcomes }
    }

    /// `count` requests to `uri` at once, each on its own connection.
    static func burst(port target: Int, _ uri: String, count: Int, script: String? = nil, timeout: Double = 10) -> [Outcome] {
        let results = Results()
        let tasks = (0..<count).map { _ in
            BackgroundTask {
                let start = Date()
                var outcome = Outcome(status: 0, retryAfter: nil, seconds: 0)
                if let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(target)", timeout: timeout) {
                    if let r = try? c.request(params: TestSupport.params(uri: uri, script: script)) {
                        outcome = Outcome(status: r.status, retryAfter: r.header("Retry-After"), seconds: Date().timeIntervalSince(start))
                    }
                    c.close()
                }
                results.append(outcome)
            }
        }
        for t in tasks { t.wait() }
        return results.all
    }

    @Test func aSaturatedPoolAnswersWhatWaitedTheLimit503WithRetryAfter() throws {
        let server = try FPMServer(name: "admission", pool: """
        pm.max_queue_wait = 200ms
        pm.status_path = /status
        access.log = {{DIR}}/access.log
        access.format = "%s %m %r %d"
        """)
        #expect(server.waitForWorkers(2))
        let outcomes = Self.burst(port: server.port, "/sleep?ms=1000", count: 10)
        let served = outcomes.filter { $0.status == 200 }
        let rejected = outcomes.filter { $0.status == 503 }
        #expect(served.count == 2, "\(outcomes)")
        #expect(rejected.count == 8, "\(outcomes)")
        #expect(rejected.allSatisfy { $0.retryAfter == "1" })
        let slowest = rejected.map(\.seconds).max() ?? 0
        #expect(slowest < 0.5, "a 503 took \(slowest) s (limit 200 ms)")
        print("admission: 503s answered after \(rejected.map(\.seconds).min() ?? 0)…\(slowest) s; 200s after \(served.map(\.seconds))")

        let text = try server.request("/status").bodyText
        #expect(text.contains("rejected requests:    8"), "\(text)")
        let metrics = try server.request("/status", extra: [("QUERY_STRING", "openmetrics")]).bodyText
        #expect(metrics.contains("phpfpm_rejected_requests 8"), "\(metrics)")
        let json = try server.request("/status", extra: [("QUERY_STRING", "json")]).bodyText
        #expect(json.contains("\"rejected requests\":8"), "\(json)")
        let lines = TestSupport.read(server.dir + "/access.log").split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("503 GET /sleep ") }.count == 8, "\(lines)\n\(server.log)")
        #expect(server.log.contains("waited pm.max_queue_wait (200 ms) without a free worker"))
    }

    @Test func whatTheMasterHoldsGoesToTheFirstFreeWorkerWithinTheLimit() throws {
        let server = try FPMServer(name: "admission-handoff", pool: """
        pm.max_queue_wait = 2s
        pm.status_path = /status
        """)
        #expect(server.waitForWorkers(2))
        // 8 requests of 150 ms on 2 workers: the last waits about 450 ms, under the limit.
        let start = Date()
        let outcomes = Self.burst(port: server.port, "/sleep?ms=150", count: 8)
        let elapsed = Date().timeIntervalSince(start)
        #expect(outcomes.allSatisfy { $0.status == 200 }, "\(outcomes)")
        #expect(elapsed < 1.5, "8 × 150 ms on 2 workers took \(elapsed) s")
        let text = try server.request("/status").bodyText
        #expect(text.contains("rejected requests:    0"), "\(text)")
        // Keep-alive and idle pools are untouched: a plain request is served.
        #expect(try server.request("/").status == 200)
    }

    /// FCGI_KEEP_CONN leaves closing to the web server: a kept connection answered 503 stays
    /// open, and its next request goes to a worker once one is free (HAProxy, which reuses kept
    /// connections, got a 502 when the master closed it after the 503).
    @Test func aKeptConnectionAnswered503StaysOpenAndItsNextRequestIsServed() throws {
        let server = try FPMServer(name: "admission-kept", pools: FPMServer.pool("pm.max_queue_wait = 150ms", children: 1))
        #expect(server.waitForWorkers(1))
        let port = server.port
        let busy = BackgroundTask {
            if let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 10) {
                _ = try? c.request(params: TestSupport.params(uri: "/sleep?ms=800"))
                c.close()
            }
        }
        #expect(server.waitUntilActive(1))
        let kept = try FastCGIClient(connectingTo: "127.0.0.1:\(server.port)", timeout: 10)
        defer { kept.close() }
        let first = try kept.request(params: TestSupport.params(uri: "/pid"), keepConnection: true)
        #expect(first.status == 503 && first.header("Retry-After") == "1")
        #expect(busy.wait(timeout: 10))
        // The same connection, after the worker is free: served, and kept again by the worker.
        let second = try kept.request(params: TestSupport.params(uri: "/pid"), keepConnection: true)
        #expect(second.status == 200, "\(second.bodyText)")
        let third = try kept.request(params: TestSupport.params(uri: "/pid"), keepConnection: true)
        #expect(third.status == 200)
        // Without FCGI_KEEP_CONN the master closes after its 503, as before.
        let busyAgain = BackgroundTask {
            if let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 10) {
                _ = try? c.request(params: TestSupport.params(uri: "/sleep?ms=800"))
                c.close()
            }
        }
        #expect(server.waitUntilActive(1))
        let once = try FastCGIClient(connectingTo: "127.0.0.1:\(server.port)", timeout: 10)
        defer { once.close() }
        #expect(try once.request(params: TestSupport.params(uri: "/pid")).status == 503)
        #expect(throws: (any Error).self) { try once.request(params: TestSupport.params(uri: "/pid")) }
        #expect(busyAgain.wait(timeout: 10))
    }

    @Test func aPoolWithNoWorkerIsAnswered503ByTheMasterWhileOthersServe() throws {
        let okPort = TestSupport.freePort()
        let execPort = TestSupport.freePort()
        let server = try FPMServer(name: "admission-down", pools: """
        [broken]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = 2
        handler = testapp
        env[TESTAPP_SETUP_FAIL] = on purpose
        access.log = {{DIR}}/broken.log
        access.format = "%s %r"

        [exec]
        listen = 127.0.0.1:\(execPort)
        pm = static
        pm.max_children = 1
        exec = /bin/false

        [fine]
        listen = 127.0.0.1:\(okPort)
        pm = static
        pm.max_children = 1
        handler = testapp
        """)
        #expect(server.waitForLog("[pool broken] has no worker"))
        #expect(server.waitForLog("[pool exec] has no worker"))
        for port in [server.port, execPort] {
            let start = Date()
            let c = try FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 5)
            defer { c.close() }
            let r = try c.request(params: TestSupport.params(uri: "/down"))
            let elapsed = Date().timeIntervalSince(start)
            #expect(r.status == 503 && r.header("Retry-After") == "1", "\(r.status) \(r.headers)")
            #expect(elapsed < 1, "the answer took \(elapsed) s")
        }
        let c = try FastCGIClient(connectingTo: "127.0.0.1:\(okPort)", timeout: 5)
        defer { c.close() }
        #expect(try c.request(params: TestSupport.params(uri: "/")).status == 200)
        #expect(TestSupport.read(server.dir + "/broken.log").contains("503 /down"), "\(server.log)")
    }

    /// php-fpm 8.2 under the same saturation, for the record: it has no such limit, so every
    /// request waits in the backlog for a worker (the last one about 5 s), however long.
    @Test(.enabled(if: PHPFPMServer.installed)) func phpFPMQueuesEveryRequestUnderTheSameSaturation() throws {
        let php = try PHPFPMServer(children: 2)
        TestSupport.write(php.dir + "/sleep.php", "<?php usleep(1000000); echo 'ok';\n")
        let outcomes = Self.burst(port: php.port, "/sleep.php", count: 10, script: php.dir + "/sleep.php")
        let served = outcomes.filter { $0.status == 200 }
        print("php-fpm 8.2: \(served.count) of 10 answered 200, none 503; answered after \(outcomes.map(\.seconds).sorted().map { (($0 * 100).rounded() / 100) }) s")
        #expect(served.count == 10, "\(outcomes)")
        #expect((outcomes.map(\.seconds).max() ?? 0) > 4, "the last request waited for four others' seconds")
    }
}
