import FastCGI
import FastCGIClient
import Foundation
import Testing

/// What a worker process looks like: environment, identity, directory, limits; and -D.
@Suite struct WorkerEnvironmentTests {
    @Test func clearEnvKeepsOnlyThePoolsEnvironment() throws {
        setenv("SWIFT_FPM_TEST_LEAK", "leaked", 1)
        defer { unsetenv("SWIFT_FPM_TEST_LEAK") }
        let server = try FPMServer(pool: """
        env[FOO] = bar
        env[COPIED] = $SWIFT_FPM_TEST_LEAK
        chdir = /tmp
        """)
        let text = try server.request("/env").bodyText
        #expect(text.contains("FOO=bar\n"))
        #expect(text.contains("COPIED=leaked\n"))
        #expect(!text.contains("SWIFT_FPM_TEST_LEAK="))
        #expect(!text.contains("\nPATH="))
        #expect(text.contains("cwd=/tmp"))
    }

    @Test func clearEnvNoKeepsTheMastersEnvironment() throws {
        setenv("SWIFT_FPM_TEST_KEEP", "kept", 1)
        defer { unsetenv("SWIFT_FPM_TEST_KEEP") }
        let server = try FPMServer(pool: "clear_env = no")
        #expect(try server.request("/env").bodyText.contains("SWIFT_FPM_TEST_KEEP=kept\n"))
    }

    @Test(.enabled(if: getuid() == 0, "needs root to switch users"))
    func rootMasterRunsWorkersAsThePoolUser() throws {
        let server = try FPMServer(pool: "user = nobody", arguments: [])
        let text = try server.request("/env").bodyText
        #expect(text.contains("uid=65534"))
        #expect(text.contains("USER=nobody\n"))
        #expect(TestSupport.read("/proc/\(server.pid)/status").contains("Uid:\t0"))
    }

    @Test(.enabled(if: getuid() == 0, "needs root"))
    func rootPoolsNeedTheAllowRootFlag() throws {
        let dir = TestSupport.makeTempDirectory("root")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        TestSupport.write(dir + "/fpm.conf", """
        [global]
        error_log = \(dir)/error.log
        [www]
        listen = 127.0.0.1:\(TestSupport.freePort())
        pm = static
        pm.max_children = 1
        handler = info
        """)
        let r = try runCommand(TestSupport.fpmPath, ["-F", "-y", dir + "/fpm.conf"], timeout: 20)
        #expect(r.status == 78)
        #expect(TestSupport.read(dir + "/error.log").contains("please specify user and group other than root"))
    }

    @Test func daemonizeDetachesAndReportsSuccess() throws {
        let dir = TestSupport.makeTempDirectory("daemon")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let port = TestSupport.freePort()
        TestSupport.write(dir + "/fpm.conf", """
        [global]
        pid = \(dir)/fpm.pid
        error_log = \(dir)/error.log
        [www]
        listen = 127.0.0.1:\(port)
        pm = static
        pm.max_children = 1
        handler = testapp
        """)
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = dir
        // Through a shell, which reaps the launcher itself (the daemon it leaves behind is not a
        // child of this test process).
        let launch = "\(TestSupport.testAppPath) -D -R -y \(dir)/fpm.conf </dev/null >/dev/null 2>&1"
        let r = try runCommand("/bin/sh", ["-c", launch], environment: env, timeout: 20)
        #expect(r.status == 0)
        let pidText = TestSupport.read(dir + "/fpm.pid").trimmingCharacters(in: .whitespacesAndNewlines)
        let pid = try #require(Int32(pidText))
        defer {
            kill(pid, SIGTERM)
            TestSupport.waitUntil { TestSupport.isZombieOrGone(pid) }
        }
        #expect(TestSupport.isAlive(pid))
        // It runs in its own session, detached from ours.
        #expect(getsid(pid) == pid)
        let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 10)
        defer { c.close() }
        #expect(try c.request(params: TestSupport.params(uri: "/pid")).status == 200)
        // A start failure is reported by the launcher's exit code (php-fpm: 70).
        let again = try runCommand("/bin/sh", ["-c", launch], environment: env, timeout: 20)
        #expect(again.status == 70)
    }

    @Test func fpmctlStopQuitAndReopenSignalTheMaster() throws {
        let server = try FPMServer()
        let reopen = try server.fpmctl(["reopen", "--pid", server.pidPath])
        #expect(reopen.status == 0)
        #expect(server.waitForLog("error log file re-opened"))
        let quit = try server.fpmctl(["quit", "-y", server.configPath])
        #expect(quit.status == 0, "\(quit.stderr)")
        #expect(server.child.wait(timeout: 15) == 0)
        #expect(server.log.contains("Finishing ..."))
        let stopped = try server.fpmctl(["stop", "--pid", server.pidPath])
        #expect(stopped.status != 0)
    }

    @Test func fpmctlStatusReadsTheScoreboardWhileEveryWorkerIsBusy() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        let port = server.port
        let busy = BackgroundTask {
            let c = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 30)
            _ = try? c?.request(params: TestSupport.params(uri: "/sleep?ms=2000", extra: [("QUERY_STRING", "ms=2000")]))
            c?.close()
        }
        #expect(server.waitUntilActive(1))
        let r = try server.fpmctl(["status", "--pid", server.pidPath, "--full"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("state:                Running"))
        #expect(r.stdout.contains("request URI:          /sleep?ms=2000"))
        let json = try server.fpmctl(["status", "--pid", server.pidPath, "--format", "json"])
        #expect(json.stdout.hasPrefix("{\"pool\":\"www\""))
        busy.wait()
    }

    @Test func maxChildrenReachedIsWarnedAndCounted() throws {
        let server = try FPMServer(pools: FPMServer.pool("""
        pm.status_path = /status
        """, pm: "ondemand", children: 1))
        let port = server.port
        let tasks = (0..<3).map { _ in
            BackgroundTask {
                let c = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 30)
                _ = try? c?.request(params: TestSupport.params(uri: "/sleep?ms=700"))
                c?.close()
            }
        }
        #expect(server.waitForLog("server reached max_children setting (1), consider raising it"))
        for t in tasks { t.wait() }
        let status = try server.request("/status").bodyText
        #expect(status.contains("max children reached: 1"))
    }

    @Test func slowRequestsAreLoggedAndCounted() throws {
        let server = try FPMServer(pool: """
        request_slowlog_timeout = 1s
        slowlog = {{DIR}}/slow.log
        pm.status_path = /status
        """)
        _ = try server.request("/sleep?ms=1600", timeout: 20)
        #expect(server.waitForLog("executing too slow"))
        #expect(TestSupport.read(server.dir + "/slow.log").contains("script_filename = /srv/sleep"))
        #expect(try server.request("/status").bodyText.contains("slow requests:        1"))
    }
}

@Suite struct ListenAndRecoveryTests {
    @Test func ipv6ListenerAndAllowedClients() throws {
        let server = try FPMServer(pools: """
        [www]
        listen = [::1]:{{PORT}}
        listen.allowed_clients = ::1
        pm = static
        pm.max_children = 1
        handler = testapp
        """)
        let c = try FastCGIClient(connectingTo: FastCGIAddress("[::1]:\(server.port)")!, timeout: 10)
        defer { c.close() }
        #expect(try c.request(params: TestSupport.params(uri: "/pid")).status == 200)
    }

    @Test(.enabled(if: getuid() == 0, "needs root to chown"))
    func unixSocketOwnerAndGroupAreApplied() throws {
        let dir = TestSupport.makeTempDirectory("owner")
        let sock = dir + "/www.sock"
        let server = try FPMServer(pools: """
        [www]
        listen = \(sock)
        listen.owner = nobody
        listen.group = nogroup
        listen.mode = 0660
        pm = static
        pm.max_children = 1
        handler = testapp
        """)
        var st = stat()
        #expect(stat(sock, &st) == 0)
        #expect(st.st_uid == 65534)
        #expect(st.st_gid == 65534)
        _ = server
    }

    @Test func crashingWorkersPastTheThresholdTriggerAReload() throws {
        let server = try FPMServer(global: """
        emergency_restart_threshold = 2
        emergency_restart_interval = 30s
        """)
        for _ in 0..<2 { _ = try? server.request("/crash") }
        #expect(server.waitForLog("failed processes threshold (2 in 30 sec) is reached, initiating reload"))
        #expect(server.waitForLog("generation 2 is serving"))
        #expect(try server.request("/pid").status == 200)
    }
}
