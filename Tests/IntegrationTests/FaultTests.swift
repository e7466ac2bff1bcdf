import FastCGI
import FastCGIClient
import Foundation
import Glibc
import Testing

/// A deploy or a dead master loses nothing: reloads into configurations that pass the
/// configuration rules but cannot start leave the running generation serving, and a master
/// that dies takes its workers with it and leaves nothing a new master trips over.
@Suite struct FaultTests {
    /// Asserts a reload was refused with `reason` in fpmctl's message while the old workers
    /// kept serving.
    func expectRefusedReload(_ server: FPMServer, mentioning reason: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let workers = Set(server.workers)
        let r = try server.fpmctl(["reload", "--pid", server.pidPath, "--timeout", "10"])
        #expect(r.status != 0, sourceLocation: sourceLocation)
        #expect(r.stderr.contains("reload failed"), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(reason), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(server.child.process.isRunning, sourceLocation: sourceLocation)
        #expect(Set(server.workers) == workers, sourceLocation: sourceLocation)
        #expect(try server.request("/pid").status == 200, sourceLocation: sourceLocation)
    }

    @Test func aReloadIntoAnAccessLogThatCannotBeOpenedKeepsServing() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        server.writeConfig(pools: FPMServer.pool("access.log = /nonexistent/\(UUID().uuidString)/a.log"))
        try expectRefusedReload(server, mentioning: "access.log")
    }

    @Test func aReloadIntoAnErrorLogInAMissingFolderKeepsServing() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        let text = TestSupport.read(server.configPath).replacingOccurrences(
            of: "error_log = \(server.dir)/error.log", with: "error_log = /nonexistent/\(UUID().uuidString)/e.log")
        TestSupport.write(server.configPath, text)
        try expectRefusedReload(server, mentioning: "error_log")
    }

    @Test func aReloadIntoAPortAnotherProcessHoldsKeepsServing() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        let held = try HeldPort()
        defer { held.close() }
        server.writeConfig(pools: FPMServer.pool() + """

        [second]
        listen = 127.0.0.1:\(held.port)
        pm = static
        pm.max_children = 1
        handler = info
        """)
        try expectRefusedReload(server, mentioning: "listen")
        // Once the port is free the same reload goes through, and the new pool serves.
        held.close()
        let ok = try server.fpmctl(["reload", "--pid", server.pidPath, "--timeout", "20"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(held.port)")!, timeout: 10)
        defer { c.close() }
        #expect(try c.request(params: TestSupport.params(uri: "/")).bodyText.hasPrefix("swift-fpm info"))
    }

    @Test func testFlagRefusesWhatAStartWouldFailOn() throws {
        let dir = TestSupport.makeTempDirectory("startchecks")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        TestSupport.write(dir + "/fpm.conf", """
        [global]
        error_log = \(dir)/e.log
        [www]
        user = nobody
        listen = 127.0.0.1:\(TestSupport.freePort())
        pm = static
        pm.max_children = 1
        handler = info
        access.log = /nonexistent/dir/a.log
        """)
        let r = try runCommand(TestSupport.fpmPath, ["-t", "-y", dir + "/fpm.conf"])
        #expect(r.status == 78)
        #expect(r.stderr.contains("\(dir)/fpm.conf:9: access.log = /nonexistent/dir/a.log: cannot open for appending"), "\(r.stderr)")
    }

    /// SIGKILL of the master while a slow request holds a worker: the kernel ends every worker
    /// (none keeps the port), and a new master binds at once.
    @Test func killingTheMasterEndsItsWorkersEvenABusyOne() throws {
        let server = try FPMServer(pool: "pm.max_requests = 0")
        #expect(server.waitForWorkers(2))
        let port = server.port
        let held = BackgroundTask {
            if let c = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 30) {
                _ = try? c.request(params: TestSupport.params(uri: "/sleep?ms=20000"))
                c.close()
            }
        }
        #expect(server.waitUntilActive(1))
        let workers = server.workers
        server.child.signal(SIGKILL)
        #expect(TestSupport.waitUntil(timeout: 2) { workers.allSatisfy { TestSupport.isZombieOrGone($0) } },
                "workers left: \(workers.filter { !TestSupport.isZombieOrGone($0) })")
        #expect(TestSupport.waitUntil(timeout: 2) { !TestSupport.canConnect(port: port) })
        #expect(held.wait(timeout: 10))
        // The same configuration starts again on the same port.
        try? FileManager.default.removeItem(atPath: server.logPath)
        try server.start()
        #expect(try server.request("/pid").status == 200)
    }

    @Test func aStartingMasterRemovesTheRuntimeFilesOfDeadMasters() throws {
        let server = try FPMServer(start: false)
        let dead = try runCommand("/bin/sh", ["-c", "echo $$"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let stale = ["swift-fpm.\(dead).www.scoreboard", "swift-fpm.\(dead).state"].map { server.dir + "/" + $0 }
        for path in stale { TestSupport.write(path, "stale") }
        try server.start()
        #expect(stale.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        #expect(FileManager.default.fileExists(atPath: server.dir + "/swift-fpm.\(server.pid).state"))
    }
}

/// A port held open by this test process, as "another program" would hold it.
final class HeldPort {
    private var fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { throw FPMServer.ServerError("cannot hold a port") }
        var out = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &out) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: out.sin_port))
    }

    func close() {
        if fd >= 0 { _ = Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}
