import FastCGI
import FastCGIClient
import Foundation
import Testing

/// pm modes, respawn, timeouts and signals, with the real master and real signals.
@Suite struct ProcessManagementTests {
    @Test func staticPoolForksMaxChildren() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 3))
        #expect(server.waitForWorkers(3))
        #expect(server.count("child") >= 3)
    }

    @Test func masterRunsExactlyOneThread() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        _ = try server.request("/pid")
        #expect(TestSupport.threadCount(of: server.pid) == 1)
    }

    @Test func dynamicPoolGrowsUnderLoadAndShrinksBack() throws {
        let server = try FPMServer(pools: FPMServer.pool("""
        pm.start_servers = 1
        pm.min_spare_servers = 1
        pm.max_spare_servers = 2
        """, pm: "dynamic", children: 6))
        #expect(server.waitForWorkers(1))
        // Four slow requests at once: the pool must grow to keep a spare (one fork on the
        // first tick, then two: about 3 s; the requests outlast that on a loaded machine too).
        let port = server.port
        let tasks = (0..<4).map { _ in
            BackgroundTask {
                let c = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 30)
                _ = try? c?.request(params: TestSupport.params(uri: "/sleep?ms=8000"))
                c?.close()
            }
        }
        #expect(TestSupport.waitUntil(timeout: 15) { server.workers.count >= 5 }, "workers: \(server.workers.count)")
        for t in tasks { t.wait() }
        // Idle above max_spare: retired one per second down to max_spare_servers.
        #expect(TestSupport.waitUntil(timeout: 15) { server.workers.count == 2 }, "workers: \(server.workers.count)")
    }

    @Test func ondemandSpawnsOnAConnectionAndRetiresIdleWorkers() throws {
        let server = try FPMServer(pools: FPMServer.pool("""
        pm.process_idle_timeout = 1s
        """, pm: "ondemand", children: 2))
        #expect(server.workers.isEmpty)
        let r = try server.request("/pid")
        #expect(r.status == 200)
        #expect(server.workers.count == 1)
        #expect(TestSupport.waitUntil(timeout: 10) { server.workers.isEmpty })
        #expect(try server.request("/pid").status == 200)
    }

    @Test func maxRequestsRotatesWorkers() throws {
        let server = try FPMServer(pools: FPMServer.pool("""
        pm.max_requests = 3
        """, children: 1))
        var pids: [String] = []
        for _ in 0..<7 {
            pids.append(try server.request("/pid").header("X-Worker-PID") ?? "?")
        }
        #expect(Set(pids[0..<3]).count == 1)
        #expect(Set(pids[3..<6]).count == 1)
        #expect(pids[0] != pids[3] && pids[3] != pids[6])
        #expect(server.log.contains("exited with code 0"))
    }

    @Test func aKilledWorkerIsReplacedAtOnce() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        let victim = server.workers[0]
        kill(victim, SIGKILL)
        #expect(TestSupport.waitUntil { server.workers.count == 2 && !server.workers.contains(victim) })
        #expect(server.waitForLog("child \(victim) exited on signal 9 (SIGKILL)"))
    }

    @Test func requestTerminateTimeoutCutsASlowRequest() throws {
        let server = try FPMServer(pools: FPMServer.pool("""
        request_terminate_timeout = 1s
        """, children: 1))
        let started = Date()
        // The worker answers 504 at the deadline; the master's SIGTERM follows as the backstop.
        #expect(try server.request("/sleep?ms=10000", timeout: 20).status == 504)
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(server.waitForLog("execution timed out"))
        #expect(server.log.contains("/sleep"))
        #expect(TestSupport.waitUntil { server.workers.count == 1 })
        #expect(try server.request("/pid").status == 200)
    }

    @Test func quitLetsAnInFlightRequestFinish() throws {
        let server = try FPMServer()
        let port = server.port
        let result = Box<FastCGIResponse?>(nil)
        let task = BackgroundTask {
            let c = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 30)
            result.value = try? c?.request(params: TestSupport.params(uri: "/sleep?ms=1500"))
            c?.close()
        }
        // Wait until the request is running, as the scoreboard (read by fpmctl) shows it.
        #expect(server.waitUntilActive(1))
        server.child.signal(SIGQUIT)
        #expect(task.wait(timeout: 20))
        #expect(result.value?.bodyText.hasPrefix("slept 1500") == true)
        #expect(server.child.wait(timeout: 15) == 0)
        #expect(server.log.contains("Finishing ..."))
        #expect(server.log.contains("exiting, bye-bye!"))
        #expect(!FileManager.default.fileExists(atPath: server.pidPath))
    }

    @Test func usr1ReopensAMovedLogWithoutRecyclingWorkers() throws {
        let server = try FPMServer(pool: "access.log = {{DIR}}/access.log")
        #expect(server.waitForWorkers(2))
        let before = Set(server.workers)
        _ = try server.request("/first")
        #expect(TestSupport.waitUntil { TestSupport.read(server.dir + "/access.log").contains("/first") })
        try FileManager.default.moveItem(atPath: server.logPath, toPath: server.logPath + ".1")
        try FileManager.default.moveItem(atPath: server.dir + "/access.log", toPath: server.dir + "/access.log.1")
        server.child.signal(SIGUSR1)
        #expect(server.waitForLog("error log file re-opened"))
        // Every worker has been handed the new files: requests to each land in the new log.
        for i in 0..<6 { _ = try server.request("/after\(i)") }
        #expect(TestSupport.waitUntil { TestSupport.read(server.dir + "/access.log").components(separatedBy: "/after").count - 1 == 6 })
        #expect(!TestSupport.read(server.dir + "/access.log.1").contains("/after"))
        #expect(Set(server.workers) == before)
    }

    @Test func allowedClientsRefusesOtherAddresses() throws {
        let server = try FPMServer(pool: "listen.allowed_clients = 127.0.0.2")
        let denied = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(server.port)")!, timeout: 10, bindAddress: "127.0.0.1")
        #expect(throws: (any Error).self) { _ = try denied.request(params: TestSupport.params(uri: "/pid")) }
        denied.close()
        #expect(server.waitForLog("Connection disallowed: IP address '127.0.0.1' has been dropped."))
        let allowed = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(server.port)")!, timeout: 10, bindAddress: "127.0.0.2")
        defer { allowed.close() }
        #expect(try allowed.request(params: TestSupport.params(uri: "/pid")).status == 200)
    }

    @Test func unixSocketGetsItsModeAndIsRemovedOnExit() throws {
        let dir = TestSupport.makeTempDirectory("uds")
        let sock = dir + "/www.sock"
        let server = try FPMServer(pools: """
        [www]
        listen = \(sock)
        listen.mode = 0600
        pm = static
        pm.max_children = 1
        handler = testapp
        """)
        var st = stat()
        #expect(stat(sock, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect((st.st_mode & S_IFMT) == S_IFSOCK)
        let c = try FastCGIClient(connectingTo: FastCGIAddress(sock)!, timeout: 10)
        #expect(try c.request(params: TestSupport.params(uri: "/pid")).status == 200)
        c.close()
        server.child.signal(SIGTERM)
        server.child.wait()
        #expect(!FileManager.default.fileExists(atPath: sock))
    }

    @Test func twoPoolsServeSideBySide() throws {
        let server = try FPMServer(pools: FPMServer.pool("""
        [info]
        listen = 127.0.0.1:{{PORT2}}
        pm = ondemand
        pm.max_children = 1
        handler = info
        """, children: 1), start: false)
        let port2 = TestSupport.freePort()
        server.writeConfig(pools: TestSupport.read(server.configPath).replacingOccurrences(of: "{{PORT2}}", with: String(port2)))
        // writeConfig wrapped the old text again; rewrite cleanly.
        TestSupport.write(server.configPath, server.substitute("""
        [global]
        pid = {{DIR}}/fpm.pid
        error_log = {{DIR}}/error.log
        [www]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = 1
        handler = testapp
        [info]
        listen = 127.0.0.1:\(port2)
        pm = ondemand
        pm.max_children = 1
        handler = info
        """))
        try server.start()
        #expect(try server.request("/pid").bodyText.hasPrefix("pid "))
        let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port2)")!, timeout: 10)
        defer { c.close() }
        #expect(try c.request(params: TestSupport.params(uri: "/x")).bodyText.hasPrefix("swift-fpm info"))
    }

    @Test func sigtermStopsEverythingAndRemovesThePidFile() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        let workers = server.workers
        #expect(FileManager.default.fileExists(atPath: server.pidPath))
        #expect(TestSupport.read(server.pidPath).trimmingCharacters(in: .whitespacesAndNewlines) == String(server.pid))
        server.child.signal(SIGTERM)
        #expect(server.child.wait(timeout: 10) == 0)
        #expect(workers.allSatisfy { TestSupport.isZombieOrGone($0) })
        #expect(server.log.contains("Terminating ..."))
        #expect(!FileManager.default.fileExists(atPath: server.pidPath))
    }

    @Test func workersExitWhenTheMasterDies() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        let workers = server.workers
        server.child.signal(SIGKILL)
        server.child.wait()
        #expect(TestSupport.waitUntil(timeout: 10) { workers.allSatisfy { TestSupport.isZombieOrGone($0) } })
    }
}

final class Box<T>: @unchecked Sendable {
    var value: T
    init(_ v: T) { value = v }
}
