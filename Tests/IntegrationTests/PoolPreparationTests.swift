import FastCGI
import Foundation
import Testing

/// The once-per-pool preparation (`PoolPreparing`) through the real binary: it runs once per
/// generation before any worker's setUp; its failure refuses the start, and on reload leaves
/// the running generation serving.
///
/// The test app prepares only when the master's environment has TESTAPP_PREPARE; it appends
/// "prepare PID" (and each setUp "setup PID") to the pool's env[TESTAPP_EVENTS] file, and its
/// preparation fails while the pool has env[TESTAPP_PREPARE_FAIL].
@Suite struct PoolPreparationTests {
    static func pool(fail: Bool) -> String {
        FPMServer.pool("""
        env[TESTAPP_EVENTS] = {{DIR}}/events
        \(fail ? "env[TESTAPP_PREPARE_FAIL] = broken schema" : "")
        """, children: 3)
    }

    func start(_ server: FPMServer, waitReady: Bool = true, environment extra: [String: String] = [:]) throws {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = server.dir
        env["TESTAPP_PREPARE"] = "1"
        env.merge(extra) { $1 }
        server.child = try ChildProcess(server.binary, ["-F", "-R", "-y", server.configPath], environment: env, directory: server.dir)
        if waitReady {
            let ok = TestSupport.waitUntil(timeout: 20) { server.log.contains("ready to handle connections") || !server.child.process.isRunning }
            guard ok, server.child.process.isRunning else { throw FPMServer.ServerError("fpm did not start:\n\(server.log)") }
        }
    }

    func events(_ server: FPMServer) -> [String] {
        TestSupport.read(server.dir + "/events").split(separator: "\n").map(String.init)
    }

    @Test func runsOncePerGenerationBeforeSetUpAndAFailedOneKeepsTheOldGeneration() throws {
        let server = try FPMServer(pools: Self.pool(fail: false), start: false)
        defer { server.stop() }
        try start(server)
        #expect(server.waitForWorkers(3))
        #expect(TestSupport.waitUntil(timeout: 10) { events(server).count == 4 })
        var lines = events(server)
        #expect(lines.first?.hasPrefix("prepare ") == true, "\(lines)")
        #expect(lines.filter { $0.hasPrefix("prepare ") }.count == 1)
        #expect(lines.filter { $0.hasPrefix("setup ") }.count == 3)
        // Not in the master: in a process of its own.
        #expect(lines.first != "prepare \(server.pid)")
        #expect(server.log.contains("[pool www] prepared in"))

        // A reload whose preparation fails: aborted, the same workers keep serving.
        let workers = Set(server.workers)
        server.writeConfig(pools: Self.pool(fail: true))
        let failed = try server.fpmctl(["reload", "--pid", server.pidPath])
        #expect(failed.status != 0)
        #expect(server.log.contains("[pool www] preparation failed (exited with code 1): test preparation failed: broken schema"),
                "\(server.log)")
        #expect(server.log.contains("reload aborted"))
        #expect(server.child.process.isRunning)
        #expect(Set(server.workers) == workers)
        #expect(try server.request("/pid").status == 200)
        lines = events(server)
        #expect(lines.filter { $0.hasPrefix("prepare ") }.count == 2)
        #expect(lines.filter { $0.hasPrefix("setup ") }.count == 3)

        // Fixed: the next reload prepares once more, then starts the new workers.
        server.writeConfig(pools: Self.pool(fail: false))
        let ok = try server.fpmctl(["reload", "--pid", server.pidPath])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(TestSupport.waitUntil(timeout: 10) { events(server).count == 9 })
        lines = events(server)
        #expect(lines.filter { $0.hasPrefix("prepare ") }.count == 3)
        #expect(lines[5].hasPrefix("prepare "), "\(lines)")
        #expect(lines[6...].allSatisfy { $0.hasPrefix("setup ") })
        #expect(try server.request("/pid").status == 200)
    }

    @Test func aFailedPreparationRefusesTheStartNamingThePool() throws {
        let server = try FPMServer(pools: Self.pool(fail: true), start: false)
        defer { server.stop() }
        try start(server, waitReady: false)
        #expect(TestSupport.waitUntil(timeout: 20) { !server.child.process.isRunning })
        #expect(server.child.process.terminationStatus != 0)
        #expect(server.log.contains("[pool www] preparation failed (exited with code 1): test preparation failed: broken schema"),
                "\(server.log)")
        #expect(server.log.contains("FPM initialization failed"))
        #expect(events(server).allSatisfy { !$0.hasPrefix("setup ") })
    }

    /// A pool whose preparation sleeps `sleepMillis`, with the master's own status socket.
    static func slowPool(sleepMillis: Int) -> String {
        FPMServer.pool("""
        env[TESTAPP_EVENTS] = {{DIR}}/events
        env[TESTAPP_PREPARE_SLEEP_MS] = \(sleepMillis)
        pm.status_listen = {{DIR}}/status.sock
        """, children: 2)
    }

    @Test func aSlowReloadPreparationLeavesTheMasterServingItsLoop() throws {
        let server = try FPMServer(pools: Self.slowPool(sleepMillis: 0), start: false)
        defer { server.stop() }
        try start(server)
        #expect(server.waitForWorkers(2))
        let status = server.dir + "/status.sock"
        #expect(try StatusListenerTests.get(status, "/").status == 200)

        server.writeConfig(pools: Self.slowPool(sleepMillis: 2500))
        kill(server.pid, SIGUSR2)
        #expect(server.waitForLog("[pool www] preparing the new generation"), "\(server.log)")
        // The master's own status answer, while the migration sleeps: well under its 2.5 s (before
        // this change it came only once the preparation was over).
        let asked = Date()
        let page = try StatusListenerTests.get(status, "/", timeout: 2)
        let took = Date().timeIntervalSince(asked)
        #expect(page.status == 200)
        #expect(took < 1, "the status answer took \(took) s during the preparation")
        // fpmctl shows what the master is doing: not a hang, a preparation.
        let top = try server.fpmctl(["top", "--once", "--pid", server.pidPath])
        #expect(top.stdout.hasPrefix("swift-fpm master \(server.pid), generation 1, running, preparing pool www"), "\(top.stdout)")
        // A second reload meanwhile is refused with a notice; SIGUSR1 is still handled at once.
        kill(server.pid, SIGUSR2)
        #expect(server.waitForLog("a reload is already being prepared ([pool www]); this reload request is ignored", timeout: 1))
        kill(server.pid, SIGUSR1)
        #expect(server.waitForLog("error log file re-opened", timeout: 1), "\(server.log)")
        #expect(!server.log.contains("reloaded: generation 2"), "still preparing")

        // Then the reload completes as before: one preparation, the new workers after it.
        #expect(server.waitForLog("reloaded: generation 2", timeout: 15), "\(server.log)")
        #expect(server.count("[pool www] prepared in") == 2)
        #expect(server.count("Reloading in progress") == 1)
        #expect(TestSupport.waitUntil(timeout: 10) { events(server).filter { $0.hasPrefix("setup ") }.count == 4 })
        #expect(try server.request("/pid").status == 200)
        let state = (try? String(contentsOfFile: "\(server.dir)/swift-fpm.\(server.pid).state", encoding: .utf8)) ?? ""
        #expect(state.contains("\npreparing=\n"), "\(state)")
    }

    @Test func aPreparationPastItsDeadlineIsKilledAndTheOldGenerationKeepsServing() throws {
        let server = try FPMServer(pools: Self.slowPool(sleepMillis: 0), start: false)
        defer { server.stop() }
        try start(server, environment: ["SWIFT_FPM_PREPARE_TIMEOUT": "1"])
        #expect(server.waitForWorkers(2))
        let workers = Set(server.workers)

        server.writeConfig(pools: Self.slowPool(sleepMillis: 4000))
        let asked = Date()
        let failed = try server.fpmctl(["reload", "--pid", server.pidPath])
        #expect(failed.status != 0)
        #expect(Date().timeIntervalSince(asked) < 3.5, "killed at its 1 s deadline, not after its 4 s sleep")
        #expect(server.log.contains("[pool www] preparation did not finish within 1 s and was killed"), "\(server.log)")
        #expect(server.log.contains("reload aborted"))
        #expect(server.child.process.isRunning)
        #expect(TestSupport.waitUntil(timeout: 5) { Set(server.workers) == workers }, "the preparation was reaped, the workers kept")
        #expect(try server.request("/pid").status == 200)
        #expect(try StatusListenerTests.get(server.dir + "/status.sock", "/").status == 200)
    }
}
