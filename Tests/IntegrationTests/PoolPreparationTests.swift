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

    func start(_ server: FPMServer, waitReady: Bool = true) throws {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = server.dir
        env["TESTAPP_PREPARE"] = "1"
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
}
