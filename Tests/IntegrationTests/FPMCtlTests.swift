import FastCGI
import FastCGIClient
import Foundation
import Testing

/// `fpmctl` through the real binaries, as an operator types it.
@Suite struct FPMCtlTests {
    @Test func optionsComeBeforeOrAfterTheSubcommand() throws {
        let server = try FPMServer()
        #expect(server.log.contains("loaded configuration file \(server.configPath)"), "\(server.log)")
        let forms: [[String]] = [
            ["-y", server.configPath, "status"], ["status", "-y", server.configPath],
            ["--pid", server.pidPath, "status"], ["status", "--pid", server.pidPath],
            ["--fpm-config", server.configPath, "status", "--full"],
        ]
        for arguments in forms {
            let r = try server.fpmctl(arguments)
            #expect(r.status == 0, "\(arguments): \(r.stderr)")
            #expect(r.stdout.contains("pool:                 www"), "\(arguments): \(r.stdout)")
        }
        // What the README's production commands type.
        let reload = try server.fpmctl(["-y", server.configPath, "reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(reload.stdout.contains("generation 2 is serving"))
        let bad = try server.fpmctl(["-y", server.dir + "/missing.conf", "status"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("missing.conf"))
    }

    @Test func bothBinariesTellTheSameVersion() throws {
        let fpm = try runCommand(TestSupport.fpmPath, ["--version"])
        let app = try runCommand(TestSupport.testAppPath, ["-v"])
        let ctl = try runCommand(TestSupport.fpmctlPath, ["--version"])
        #expect(fpm.status == 0 && app.status == 0 && ctl.status == 0)
        let version = fpm.stdout.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        #expect(fpm.stdout.hasPrefix("swift-fpm \(version) "), "\(fpm.stdout)")
        #expect(!version.isEmpty && version.first!.isNumber)
        #expect(app.stdout == fpm.stdout)
        #expect(ctl.stdout == "fpmctl (swift-fpm) \(version)\n")
    }

    @Test func quitReturnsOnceTheMasterHasExited() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        let port = server.port
        let answered = LockedFlag()
        let slow = BackgroundTask {
            let c = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 20)
            if let r = try? c?.request(params: TestSupport.params(uri: "/sleep?ms=1500")), r.status == 200 { answered.set() }
            c?.close()
        }
        #expect(server.waitUntilActive(1))
        let started = Date()
        let quit = try server.fpmctl(["-y", server.configPath, "quit"])
        let took = Date().timeIntervalSince(started)
        #expect(quit.status == 0, "\(quit.stderr)")
        // It waited for the in-flight request and for the master itself.
        #expect(TestSupport.isZombieOrGone(server.pid))
        #expect(took > 0.8, "quit returned after \(took) s")
        #expect(quit.stdout.contains("has exited"))
        slow.wait()
        #expect(answered.isSet)
        #expect(server.child.wait(timeout: 10) == 0)
    }

    @Test func quitAndStopTimeOutWithTheirOwnExitCode() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        let port = server.port
        let slow = BackgroundTask {
            let c = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 20)
            _ = try? c?.request(params: TestSupport.params(uri: "/sleep?ms=2500"))
            c?.close()
        }
        #expect(server.waitUntilActive(1))
        let quit = try server.fpmctl(["quit", "--pid", server.pidPath, "--timeout", "0.3"])
        #expect(quit.status == 75, "\(quit.status) \(quit.stderr)")
        #expect(quit.stderr.contains("still running"))
        #expect(!TestSupport.isZombieOrGone(server.pid))
        // The master keeps finishing; stop then ends it, and waits.
        let stop = try server.fpmctl(["--pid", server.pidPath, "stop"])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(TestSupport.isZombieOrGone(server.pid))
        slow.wait()
    }

    @Test func reopenFailsWhenALogCannotBeReopened() throws {
        let server = try FPMServer(pool: "access.log = {{DIR}}/logs/access.log", start: false)
        try FileManager.default.createDirectory(atPath: server.dir + "/logs", withIntermediateDirectories: true)
        try server.start()
        let ok = try server.fpmctl(["reopen", "--pid", server.pidPath])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("reopened"))
        // The log's directory is gone (a file stands where it was): no one can reopen it, root neither.
        try FileManager.default.moveItem(atPath: server.dir + "/logs", toPath: server.dir + "/logs.old")
        TestSupport.write(server.dir + "/logs", "not a directory\n")
        let failed = try server.fpmctl(["-y", server.configPath, "reopen"])
        #expect(failed.status == 1, "\(failed.stdout)")
        #expect(failed.stderr.contains("could not reopen"), "\(failed.stderr)")
        #expect(failed.stderr.contains("access.log"), "\(failed.stderr)")
        try FileManager.default.removeItem(atPath: server.dir + "/logs")
        try FileManager.default.createDirectory(atPath: server.dir + "/logs", withIntermediateDirectories: true)
        let again = try server.fpmctl(["reopen", "-y", server.configPath])
        #expect(again.status == 0, "\(again.stderr)")
    }

    @Test func pingChecksPingPathAndPingResponse() throws {
        let server = try FPMServer(pools: FPMServer.pool("ping.path = /ping", children: 1) + """

        [bare]
        listen = {{DIR}}/bare.sock
        pm = static
        pm.max_children = 1
        handler = testapp
        """)
        let www = try server.fpmctl(["ping", "-y", server.configPath, "--pool", "www"])
        #expect(www.status == 0, "\(www.stderr)")
        #expect(www.stdout == "pool www: pong\n")
        let bare = try server.fpmctl(["-y", server.configPath, "ping", "--pool", "bare"])
        #expect(bare.status == 1)
        #expect(bare.stderr.contains("pool bare has no ping.path"), "\(bare.stderr)")
        let all = try server.fpmctl(["-y", server.configPath, "ping"])
        #expect(all.status == 1)
        // The pool's app answers 200 on /ping, but not the ping response: not healthy.
        let app = try server.fpmctl(["ping", "--connect", server.dir + "/bare.sock"])
        #expect(app.status == 1)
        #expect(app.stderr.contains("not the ping.response \"pong\""), "\(app.stderr)")
        let wrong = try server.fpmctl(["ping", "--connect", "127.0.0.1:\(server.port)", "--response", "PONG!"])
        #expect(wrong.status == 1)
        let right = try server.fpmctl(["ping", "--connect", "127.0.0.1:\(server.port)"])
        #expect(right.status == 0, "\(right.stderr)")
    }

    @Test func includePrintsTheHeadOnceThenTheBody() throws {
        let server = try FPMServer(pools: FPMServer.pool(children: 1))
        let r = try server.fpmctl(["request", "--connect", "127.0.0.1:\(server.port)", "--uri", "/status-code?code=404", "--include"])
        #expect(r.status == 0, "\(r.stderr)")
        let parts = r.stdout.components(separatedBy: "\n\n")
        #expect(parts.count == 2, "\(r.stdout)")
        let head = parts[0].split(separator: "\n")
        #expect(head.first?.hasPrefix("Status: 404") == true, "\(r.stdout)")
        #expect(head.filter { $0.lowercased().hasPrefix("status:") }.count == 1, "\(r.stdout)")
        #expect(head.contains { $0.hasPrefix("X-Worker-PID: ") })
        #expect(parts.last == "status 404\n")
    }

    @Test func topOnceShowsEveryWorker() throws {
        let server = try FPMServer()
        #expect(server.waitForWorkers(2))
        let port = server.port
        let slow = BackgroundTask {
            let c = try? FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: 20)
            _ = try? c?.request(params: TestSupport.params(uri: "/sleep?ms=1500"))
            c?.close()
        }
        defer { slow.wait() }
        #expect(server.waitUntilActive(1))
        let r = try server.fpmctl(["top", "--once", "-y", server.configPath])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("swift-fpm master \(server.pid), generation 1, running"), "\(r.stdout)")
        #expect(r.stdout.contains("pool www (static): 1 active, 1 idle, 2 total of 2"), "\(r.stdout)")
        for pid in server.workers { #expect(r.stdout.contains("\n\(String(repeating: " ", count: max(0, 7 - String(pid).count)))\(pid) "), "\(pid): \(r.stdout)") }
        let busy = r.stdout.split(separator: "\n").first { $0.contains("Running") }
        #expect(busy?.hasSuffix("GET /sleep?ms=1500") == true, "\(r.stdout)")
        #expect(!r.stdout.contains("\u{1B}"))
    }

    /// In a terminal (a pseudo-terminal from util-linux's `script`): frames are redrawn, and a
    /// key quits and gives the terminal back (normal screen, cursor shown). `exec`, because
    /// `script` runs the command through `$SHELL -c` (dash where SHELL is unset, as in CI), and a
    /// shell left waiting in the foreground group dies of the Ctrl-C that top handles.
    @Test(arguments: ["q", "\u{03}"]) func topRedrawsInATerminalUntilAKeyQuits(key: String) throws {
        let server = try FPMServer()
        let keys = Pipe()
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = server.dir
        let top = try ChildProcess("/usr/bin/script", ["-qfec", "exec \(TestSupport.fpmctlPath) top --interval 0.2 --pid \(server.pidPath)", "/dev/null"],
                                   environment: env, directory: server.dir, standardInput: keys.fileHandleForReading)
        defer { top.stop() }
        // Two frames drawn: it refreshes.
        #expect(TestSupport.waitUntil(timeout: 15) { top.stdout.components(separatedBy: "q quits").count > 2 }, "\(top.stdout)")
        keys.fileHandleForWriting.write(Data(key.utf8))
        #expect(top.wait(timeout: 10) == 0, "\(top.stdout)")
        let out = top.stdout
        #expect(out.hasPrefix("\u{1B}[?1049h\u{1B}[?25l\u{1B}[H\u{1B}[2J"), "\(out.debugDescription)")
        #expect(out.contains("pool www (static)"))
        #expect(out.hasSuffix("\u{1B}[?25h\u{1B}[?1049l"), "\(out.debugDescription)")
    }

    @Test func aMasterWithoutPidFileIsFoundByItsStateFile() throws {
        // As `swift run fpm` with the embedded default: no pid directive.
        let server = try FPMServer(start: false)
        TestSupport.write(server.configPath, server.substitute("""
        [global]
        error_log = {{DIR}}/error.log
        [www]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = 1
        handler = testapp
        """))
        try server.start()
        // From a directory without conf/fpm.conf, with no option at all.
        func fpmctl(_ arguments: String) throws -> (status: Int32, stdout: String, stderr: String) {
            try runCommand("/bin/sh", ["-c", "cd \"$1\" && exec \"$0\" \(arguments)", TestSupport.fpmctlPath, server.dir],
                           environment: ProcessInfo.processInfo.environment.merging(["SWIFT_FPM_RUNTIME_DIR": server.dir]) { $1 })
        }
        let status = try fpmctl("status")
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("pool:                 www"))
        let quit = try fpmctl("quit")
        #expect(quit.status == 0, "\(quit.stderr)")
        #expect(TestSupport.isZombieOrGone(server.pid))
        let none = try fpmctl("status")
        #expect(none.status == 1)
        #expect(none.stderr.contains("no running master found"), "\(none.stderr)")
    }

    /// A flag a background task sets and the test reads.
    final class LockedFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.lock(); value = true; lock.unlock() }
        var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    }
}
