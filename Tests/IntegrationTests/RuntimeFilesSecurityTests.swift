import FastCGI
import Foundation
import Testing

/// Issue 17, the master's files: another local user can neither read a scoreboard or the state
/// file nor make the master write through a file or link it planted; a worker holds no
/// descriptor of the master's error log. The hostile user is `nobody`, reached with setpriv(1)
/// (the suite runs as root, as CI does).
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root to act as another user"))
struct RuntimeFilesSecurityTests {
    /// Runs `arguments` as nobody (its own group only, or also `groups`).
    static func asNobody(_ arguments: [String], groups: String? = nil, environment: [String: String] = [:]) throws
        -> (status: Int32, stdout: String, stderr: String) {
        let who = ["--reuid=nobody", "--regid=nogroup"] + (groups.map { ["--groups=\($0)"] } ?? ["--clear-groups"])
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        return try runCommand("/usr/bin/setpriv", who + ["--"] + arguments, environment: env, timeout: 30)
    }

    static func mode(_ path: String) -> (mode: Int, uid: UInt32, gid: UInt32, link: Bool)? {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        return (Int(st.st_mode & 0o7777), st.st_uid, st.st_gid, st.st_mode & S_IFMT == S_IFLNK)
    }

    /// A sticky world-writable folder (as /tmp is), a file only root reads, and a link to it that
    /// nobody planted at `name` in the folder.
    static func plantedLink(_ name: String) throws -> (shared: String, victim: String, link: String) {
        let shared = TestSupport.makeTempDirectory("rt-sticky")
        chmod(shared, 0o1777)
        let victim = TestSupport.makeTempDirectory("rt-secret") + "/secret"
        TestSupport.write(victim, "root's secret\n")
        chmod(victim, 0o600)
        let link = shared + "/" + name
        let plant = try asNobody(["/bin/ln", "-s", victim, link])
        #expect(plant.status == 0, "\(plant.stderr)")
        return (shared, victim, link)
    }

    static func runtimeFiles(_ server: FPMServer) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: server.dir)) ?? [])
            .filter { $0.hasPrefix("swift-fpm.\(server.pid).") }.map { server.dir + "/" + $0 }
    }

    @Test func scoreboardsAndStateAreReadableByTheMastersUserAlone() throws {
        let server = try FPMServer(name: "rt-private")
        defer { server.stop() }
        // A request with a secret in its query string, as the issue found one in a scoreboard.
        _ = try server.request("/echo?token=SECRET")
        let files = Self.runtimeFiles(server)
        #expect(files.contains { $0.hasSuffix(".scoreboard") } && files.contains { $0.hasSuffix(".state") })
        for file in files {
            let m = try #require(Self.mode(file))
            #expect(m.mode == 0o640 && m.uid == 0 && !m.link, "\(file): mode \(String(m.mode, radix: 8))")
            let read = try Self.asNobody(["/bin/cat", file])
            #expect(read.status != 0 && !read.stdout.contains("SECRET"), "nobody read \(file)")
        }
        // Nothing can be planted beside them (the issue's `<state>.tmp.<pid>` link, before a reopen).
        let plant = try Self.asNobody(["/bin/ln", "-s", "/etc/shadow", "\(server.dir)/swift-fpm.\(server.pid).state.tmp.\(server.pid)"])
        #expect(plant.status != 0)
        let status = try Self.asNobody([TestSupport.fpmctlPath, "status", "--pid", server.pidPath],
                                       environment: ["SWIFT_FPM_RUNTIME_DIR": server.dir])
        #expect(status.status != 0)
        #expect(!status.stdout.contains("accepted conn"))
        #expect(status.stderr.contains("status.group"), "the refusal says how to get access: \(status.stderr)")
        // The master's own user still reads it.
        #expect(try server.fpmctl(["status", "--pid", server.pidPath]).stdout.contains("accepted conn"))
    }

    @Test func theStatusGroupReadsThemAndNoOneElse() throws {
        let server = try FPMServer(name: "rt-group", global: "status.group = adm")
        defer { server.stop() }
        for file in Self.runtimeFiles(server) {
            let m = try #require(Self.mode(file))
            #expect(m.mode == 0o640 && m.gid == 4, "\(file) belongs to adm (gid 4), mode 0640")
        }
        let env = ["SWIFT_FPM_RUNTIME_DIR": server.dir]
        let member = try Self.asNobody([TestSupport.fpmctlPath, "status", "--pid", server.pidPath], groups: "adm", environment: env)
        #expect(member.status == 0 && member.stdout.contains("accepted conn"), "\(member.stderr)")
        let outsider = try Self.asNobody([TestSupport.fpmctlPath, "status", "--pid", server.pidPath], environment: env)
        #expect(outsider.status != 0)
    }

    @Test func aStatusGroupThatDoesNotExistIsAConfigurationError() throws {
        let server = try FPMServer(name: "rt-nogroup", global: "status.group = no-such-group-here", start: false)
        let check = try runCommand(TestSupport.testAppPath, ["-t", "-y", server.configPath])
        #expect(check.status != 0)
        let said = check.stdout + check.stderr
        #expect(said.contains("status.group") && said.contains("no-such-group-here") && said.contains("fpm.conf"), "\(said)")
    }

    /// A runtime folder another user could write in, a link, or another user's folder: the
    /// master refuses to start and writes nothing there.
    @Test(arguments: ["world-writable", "symlink", "other-owner"])
    func anUnsafeRuntimeFolderIsRefused(kind: String) throws {
        let server = try FPMServer(name: "rt-unsafe", start: false)
        let victimDir = TestSupport.makeTempDirectory("rt-victim")
        defer { try? FileManager.default.removeItem(atPath: victimDir) }
        let runtime = server.dir + "/run"
        switch kind {
        case "world-writable":
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false)
            chmod(runtime, 0o1777)
        case "symlink":
            try FileManager.default.createSymbolicLink(atPath: runtime, withDestinationPath: victimDir)
        default:
            try FileManager.default.createDirectory(atPath: runtime, withIntermediateDirectories: false)
            chmod(runtime, 0o700)
            chown(runtime, 65534, 65534)
        }
        server.environment["SWIFT_FPM_RUNTIME_DIR"] = runtime
        // start() sets the variable to the server's folder; ours wins (merged after).
        try server.start(waitReady: false)
        #expect(server.child.wait(timeout: 20) != 0, "the master refuses to start")
        #expect(server.log.contains("refusing to use the runtime directory \(runtime)"), "\(server.log)")
        let written = (try? FileManager.default.contentsOfDirectory(atPath: kind == "symlink" ? victimDir : runtime)) ?? []
        #expect(written.isEmpty, "nothing written: \(written)")
    }

    /// The master names its own folder (no SWIFT_FPM_RUNTIME_DIR folder yet): it creates it 0700.
    @Test func aFolderTheMasterCreatesIsPrivate() throws {
        let server = try FPMServer(name: "rt-create", start: false)
        let runtime = server.dir + "/fresh"
        server.environment["SWIFT_FPM_RUNTIME_DIR"] = runtime
        try server.start()
        defer { server.stop() }
        let m = try #require(Self.mode(runtime))
        #expect(m.mode == 0o700 && m.uid == 0)
        let list = try Self.asNobody(["/bin/ls", runtime])
        #expect(list.status != 0)
    }

    /// A pid file in a world-writable folder (as php-fpm setups often have): a link planted at
    /// its name by another user is replaced, never written through, at a start, a reopen and a
    /// reload.
    @Test func aLinkPlantedAtThePidFileIsNeverFollowed() throws {
        let (shared, victim, pidPath) = try Self.plantedLink("fpm.pid")
        defer { try? FileManager.default.removeItem(atPath: shared) }

        let server = try FPMServer(name: "rt-pid", global: "pid = \(pidPath)", start: false)
        try server.start(arguments: ["-g", pidPath])
        defer { server.stop() }
        func victimUntouched() -> Bool {
            TestSupport.read(victim) == "root's secret\n" && Self.mode(victim).map { $0.mode == 0o600 && $0.uid == 0 } == true
        }
        #expect(victimUntouched())
        let pidFile = try #require(Self.mode(pidPath))
        #expect(!pidFile.link && pidFile.uid == 0, "the link was replaced by the master's own file")
        #expect(TestSupport.read(pidPath) == "\(server.pid)\n")

        _ = try Self.asNobody(["/bin/ln", "-sf", victim, pidPath]) // refused: the file is root's now
        // The temporary names a rewrite once used (`<path>.tmp.<pid>`: the master's pid is public).
        for name in ["\(pidPath).tmp.\(server.pid)", "\(pidPath).new.\(server.pid)"] {
            #expect(try Self.asNobody(["/bin/ln", "-s", victim, name]).status == 0)
        }
        let reopen = try server.fpmctl(["reopen", "--pid", pidPath])
        #expect(reopen.status == 0, "\(reopen.stderr)")
        kill(server.pid, SIGUSR2)
        #expect(server.waitForLog("reloaded: generation 2", timeout: 30))
        #expect(victimUntouched())
        #expect(TestSupport.read(pidPath) == "\(server.pid)\n")
        #expect(Self.mode(pidPath)?.link == false)
    }

    /// A unix socket path in a shared folder where another user planted a link: the link is
    /// removed, never followed (bind, then lchown/umask: no chown through a link).
    @Test func aLinkPlantedAtTheSocketPathIsReplaced() throws {
        let (shared, victim, socketPath) = try Self.plantedLink("www.sock")
        defer { try? FileManager.default.removeItem(atPath: shared) }
        let server = try FPMServer(name: "rt-sockpool", pools: """
            [www]
            listen = \(socketPath)
            listen.owner = nobody
            listen.group = nogroup
            listen.mode = 0660
            pm = static
            pm.max_children = 1
            handler = testapp
            """)
        defer { server.stop() }
        var st = stat()
        #expect(lstat(socketPath, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK && st.st_uid == 65534)
        #expect(stat(victim, &st) == 0 && st.st_uid == 0 && st.st_mode & 0o777 == 0o600)
        #expect(TestSupport.read(victim) == "root's secret\n")
    }

    /// Workers write their lines through the master: none has the error log open, and a line a
    /// worker logs arrives named after it.
    @Test func workersHoldNoDescriptorOfTheErrorLog() throws {
        let server = try FPMServer(name: "rt-log")
        defer { server.stop() }
        #expect(server.waitForWorkers(2))
        let logPath = URL(fileURLWithPath: server.logPath).resolvingSymlinksInPath().path
        for worker in server.workers {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker)/fd")) ?? []
            #expect(!fds.isEmpty)
            let targets = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(worker)/fd/\($0)") }
            #expect(!targets.contains(logPath), "child \(worker) holds \(logPath)")
        }
        let answer = try server.request("/throw")
        let pid = try #require(answer.header("X-Worker-PID").flatMap { Int32($0) })
        #expect(server.waitForLog("[pool www] child \(pid): handler error"), "\(server.log)")
    }
}
