import FastCGI
import FastCGIClient
import Foundation
import Glibc
import Testing

/// Readiness through the real binary: `fpmctl drain` / `undrain`, and a pool whose workers
/// cannot start (respawned with backoff, named by readiness, other pools unaffected).
@Suite(.serialized) struct ReadinessTests {
    @Test func drainTurnsReadinessOffWhileRequestsAreStillServed() throws {
        let status = "127.0.0.1:\(TestSupport.freePort())"
        let server = try FPMServer(name: "drain", pool: """
        ping.path = /ping
        pm.status_listen = \(status)
        """)
        #expect(server.waitForWorkers(2))
        #expect(try GracefulStopTests.get(status, "/ready").status == 200)
        #expect(try server.request("/ping").status == 200)

        let drained = try server.fpmctl(["drain", "--pid", server.pidPath])
        #expect(drained.status == 0, "\(drained.stderr)")
        #expect(drained.stdout.hasPrefix("draining:"))
        let ready = try GracefulStopTests.get(status, "/ready")
        #expect(ready.status == 503)
        #expect(ready.bodyText.hasPrefix("not ready: the master is draining (fpmctl drain)"))
        // The status listener's ping and the workers' ping (what a balancer probes through the
        // pool) say so too; requests are still served; liveness holds.
        #expect(try GracefulStopTests.get(status, "/ping").status == 503)
        let ping = try server.request("/ping")
        #expect(ping.status == 503 && ping.bodyText == "the master is draining (fpmctl drain)\n")
        #expect(try server.request("/pid").status == 200)
        #expect(try GracefulStopTests.get(status, "/live").status == 200)
        let health = try server.fpmctl(["health", "--pid", server.pidPath])
        #expect(health.status == 1 && health.stderr.contains("not ready: the master is draining"))
        let shown = try server.fpmctl(["status", "--pid", server.pidPath])
        #expect(shown.stdout.hasPrefix("master:               running, draining"))
        #expect(server.log.contains("draining: readiness is off"))
        // A reload (a new image of the master) stays drained.
        #expect(try server.fpmctl(["reload", "--pid", server.pidPath]).status == 0)
        #expect(try GracefulStopTests.get(status, "/ready").status == 503)
        #expect(try server.request("/ping").status == 503)

        let undrained = try server.fpmctl(["undrain", "--pid", server.pidPath])
        #expect(undrained.status == 0, "\(undrained.stderr)")
        #expect(try GracefulStopTests.get(status, "/ready").status == 200)
        #expect(try server.request("/ping").status == 200)
        #expect(try server.fpmctl(["health", "--pid", server.pidPath]).status == 0)
        #expect(!(try server.fpmctl(["status", "--pid", server.pidPath]).stdout.contains("draining")))
        #expect(Set(server.workers).count == 2, "serving never stopped: no worker was replaced")
    }

    @Test func aPoolWhoseWorkersCannotStartBacksOffAndIsNamedByReadiness() throws {
        let badStatus = "127.0.0.1:\(TestSupport.freePort())"
        let goodStatus = "127.0.0.1:\(TestSupport.freePort())"
        let badPort = TestSupport.freePort()
        let server = try FPMServer(name: "backoff", pools: FPMServer.pool("pm.status_listen = \(goodStatus)") + """

        [bad]
        listen = 127.0.0.1:\(badPort)
        pm = static
        pm.max_children = 1
        exec = /bin/false
        pm.status_listen = \(badStatus)
        """)
        let exits = "exited with code 1 after"
        #expect(server.waitForLog(exits))
        // Counted over six seconds from the first exit: 0 s, 1 s, 3 s (then 7 s) — not one a second.
        let first = Date()
        Thread.sleep(forTimeInterval: 6)
        let log = server.log
        let count = log.components(separatedBy: exits).count - 1
        print("exec = /bin/false: \(count) exits in the \(String(format: "%.1f", Date().timeIntervalSince(first))) s after the first")
        #expect((2...4).contains(count), "\(log)")
        #expect(log.contains("the pool's workers exit at start: next respawn in 1 s"))
        #expect(log.contains("the pool's workers exit at start: next respawn in 2 s"))
        #expect(log.components(separatedBy: "next respawn in").count - 1 <= 3, "one line per step")

        // Readiness names the pool and why; the other pool is unaffected.
        let ready = try GracefulStopTests.get(badStatus, "/ready")
        #expect(ready.status == 503)
        #expect(ready.bodyText.contains("pool bad is down: its workers exit at start (last: exited with code 1 after"))
        #expect(try GracefulStopTests.get(goodStatus, "/ready").status == 200)
        #expect(try server.request("/pid").status == 200)
        let bad = try server.fpmctl(["health", "--pid", server.pidPath, "--pool", "bad"])
        #expect(bad.status == 2 && bad.stderr.contains("pool bad is down: its workers exit at start"), "\(bad.stderr)")
        #expect(try server.fpmctl(["health", "--pid", server.pidPath, "--pool", "www"]).status == 0)
    }
}
