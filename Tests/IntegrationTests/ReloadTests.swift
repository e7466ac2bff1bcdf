import FastCGI
import FastCGIClient
import Foundation
import Testing

/// The reload that drops nothing: SIGUSR2/fpmctl reload under load, in-flight requests,
/// changed settings, and a broken configuration that must leave the old generation serving.
@Suite struct ReloadTests {
    static func poolConfig(children: Int, extra: String = "") -> String {
        """
        [www]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = \(children)
        handler = testapp
        \(extra)
        """
    }

    /// Clients hammering a port until stopped, counting failures and the slowest request.
    final class Load: @unchecked Sendable {
        let lock = NSLock()
        var ok = 0
        var failures: [String] = []
        var maxLatency = 0.0
        var stop = false
        var tasks: [BackgroundTask] = []

        init(port: Int, clients: Int, uri: String = "/pid") {
            for _ in 0..<clients {
                tasks.append(BackgroundTask { [self] in
                    var n = 0
                    while !lock.withLock({ stop }) && n < 100_000 {
                        n += 1
                        let start = Date()
                        do {
                            let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 30)
                            let r = try c.request(params: TestSupport.params(uri: uri))
                            c.close()
                            let t = Date().timeIntervalSince(start)
                            lock.withLock {
                                if r.status == 200 && r.bodyText.hasPrefix("pid ") { ok += 1 } else { failures.append("status \(r.status): \(r.bodyText.prefix(80))") }
                                maxLatency = max(maxLatency, t)
                            }
                        } catch {
                            lock.withLock { failures.append("\(error)") }
                        }
                    }
                })
            }
        }

        func finish() {
            lock.withLock { stop = true }
            for t in tasks { t.wait() }
        }
    }

    @Test func reloadsUnderLoadDropNothingAndLetSlowRequestsFinish() throws {
        let server = try FPMServer(pools: Self.poolConfig(children: 3))
        #expect(server.waitForWorkers(3))
        let port = server.port
        let load = Load(port: port, clients: 6)
        // A slow request in flight across the first reloads.
        let slow = Box<String?>(nil)
        let slowTask = BackgroundTask {
            do {
                let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 30)
                slow.value = try c.request(params: TestSupport.params(uri: "/sleep?ms=2500")).bodyText
                c.close()
            } catch { slow.value = "error: \(error)" }
        }
        for round in 1...5 {
            // Alternate the pool size so every other reload changes the configuration.
            server.writeConfig(pools: Self.poolConfig(children: round % 2 == 1 ? 4 : 3))
            let r = try server.fpmctl(["reload", "--pid", server.pidPath, "--timeout", "20"])
            #expect(r.status == 0, "reload \(round): \(r.stderr)")
            #expect(r.stdout.contains("generation \(round + 1) is serving"))
            Thread.sleep(forTimeInterval: 0.5)  // let the load run between reloads
        }
        #expect(slowTask.wait(timeout: 30))
        load.finish()
        #expect(slow.value?.hasPrefix("slept 2500") == true, "slow request: \(slow.value ?? "nil")")
        #expect(load.failures.isEmpty, "failures: \(load.failures.prefix(5))")
        #expect(load.ok > 50)
        // The last configuration (3 children after round 5? round 5 is odd → 4).
        #expect(TestSupport.waitUntil(timeout: 10) { server.workers.count == 4 }, "workers \(server.workers.count)")
        #expect(server.count("Reloading in progress") == 5)
        print("reload under load: \(load.ok) requests, 0 failed, slowest \(String(format: "%.3f", load.maxLatency)) s")
    }

    @Test func sigusr2ReloadKeepsThePidAndPicksUpNewSettings() throws {
        let server = try FPMServer(pools: Self.poolConfig(children: 2))
        #expect(server.waitForWorkers(2))
        let oldWorkers = Set(server.workers)
        server.writeConfig(pools: Self.poolConfig(children: 3, extra: "pm.max_requests = 1000"))
        server.child.signal(SIGUSR2)
        #expect(server.waitForLog("generation 2 is serving"))
        #expect(TestSupport.waitUntil { server.workers.count == 3 && Set(server.workers).isDisjoint(with: oldWorkers) })
        #expect(server.child.process.isRunning)
        #expect(TestSupport.read(server.pidPath).trimmingCharacters(in: .whitespacesAndNewlines) == String(server.pid))
        #expect(try server.request("/pid").status == 200)
    }

    @Test func brokenConfigurationLeavesTheOldGenerationServing() throws {
        let server = try FPMServer(pools: Self.poolConfig(children: 2))
        #expect(server.waitForWorkers(2))
        let workers = Set(server.workers)
        server.writeConfig(pools: Self.poolConfig(children: 2, extra: "pm.bogus = 1"))
        let r = try server.fpmctl(["reload", "--pid", server.pidPath, "--timeout", "10"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("reload failed"), "\(r.stderr)")
        #expect(r.stderr.contains("pm.bogus"))
        #expect(server.log.contains("reload aborted"))
        #expect(server.child.process.isRunning)
        #expect(Set(server.workers) == workers)
        #expect(try server.request("/pid").status == 200)
        // Fixing the file makes the next reload succeed.
        server.writeConfig(pools: Self.poolConfig(children: 2))
        let ok = try server.fpmctl(["reload", "--pid", server.pidPath])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    /// A new image that cannot start with what the old one checked (here `rlimit_files` above
    /// what setrlimit allows, which only the new image applies) re-executes itself with the
    /// previous configuration: same pid, the same inherited listener, workers serving, the
    /// failure counted for fpmctl.
    @Test func aNewImageThatCannotStartFallsBackToThePreviousConfiguration() throws {
        let server = try FPMServer(pools: Self.poolConfig(children: 2))
        #expect(server.waitForWorkers(2))
        server.writeConfig(global: "rlimit_files = 2000000", pools: Self.poolConfig(children: 3))
        server.child.signal(SIGUSR2)
        #expect(server.waitForLog("restarting with the previous configuration"))
        #expect(server.waitForLog("generation 2 is serving"))
        #expect(server.log.contains("using inherited socket"))
        #expect(TestSupport.waitUntil { server.workers.count == 2 }, "the previous configuration's 2 workers, not 3")
        #expect(server.child.process.isRunning)
        #expect(TestSupport.read(server.pidPath).trimmingCharacters(in: .whitespacesAndNewlines) == String(server.pid))
        for _ in 0..<5 { #expect(try server.request("/pid").status == 200) }
        // What `fpmctl reload` reads: the failure, counted and named, in the state file.
        let stateFile = try #require(server.runtimeFiles.first { $0.hasSuffix(".state") })
        let state = TestSupport.read(server.dir + "/" + stateFile)
        #expect(state.contains("reload_failures=1"), "\(state)")
        #expect(state.contains("rlimit_files"), "\(state)")
    }

    @Test func reloadOpensNewPoolsAndClosesRemovedOnes() throws {
        let server = try FPMServer(pools: Self.poolConfig(children: 1))
        let port2 = TestSupport.freePort()
        server.writeConfig(pools: Self.poolConfig(children: 1) + """

        [second]
        listen = 127.0.0.1:\(port2)
        pm = static
        pm.max_children = 1
        handler = info
        """)
        #expect(try server.fpmctl(["reload", "--pid", server.pidPath]).status == 0)
        let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port2)")!, timeout: 10)
        #expect(try c.request(params: TestSupport.params(uri: "/")).bodyText.hasPrefix("swift-fpm info"))
        c.close()
        server.writeConfig(pools: Self.poolConfig(children: 1))
        #expect(try server.fpmctl(["reload", "--pid", server.pidPath]).status == 0)
        #expect(TestSupport.waitUntil { !TestSupport.canConnect(port: port2) })
        #expect(try server.request("/pid").status == 200)
    }
}
