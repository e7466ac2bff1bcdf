import Foundation
import Testing

/// One application host of the multi-host suite: a swift-fpm master from this build in its
/// own namespace, with a Swift pool (`swift`, the test app, on :9000, its status listener on
/// :9100) and a PHP pool (`php`, `exec = php-cgi8.2`, on :9001, status listener :9101).
///
/// The host runs its own copy of the binary (`DIR/fpm-testapp`): an upgrade puts a new build
/// at that path (a rename, as a package manager does) and reloads; the master re-executes
/// `/proc/self/exe`'s path, so the new build is what serves afterwards.
final class AppHost {
    static let swiftPort = 9000, phpPort = 9001, swiftStatusPort = 9100, phpStatusPort = 9101

    let name: String
    let network: TestNetwork
    let namespace: String
    let address: String
    let dir: String
    let www: String
    var binary: String { dir + "/fpm-testapp" }
    var configPath: String { dir + "/fpm.conf" }
    var pidPath: String { dir + "/fpm.pid" }
    var child: ChildProcess?

    init(name: String, index: Int, network: TestNetwork, www: String) throws {
        self.name = name
        self.network = network
        self.www = www
        (namespace, address) = try network.addHost(name, index: index)
        dir = TestSupport.makeTempDirectory("multihost-\(name)")
        try FileManager.default.copyItem(atPath: TestSupport.testAppPath, toPath: binary)
        configure()
    }

    /// Writes the host's configuration: `global` and `swiftPool`/`phpPool` lines are added to
    /// their sections (a scenario's directives).
    func configure(swiftChildren: Int = 3, phpChildren: Int = 3, global: String = "", swiftPool: String = "", phpPool: String = "") {
        TestSupport.write(configPath, """
        [global]
        pid = \(pidPath)
        error_log = \(dir)/error.log
        log_level = notice
        process_control_timeout = 10s
        \(global)

        [swift]
        listen = \(address):\(AppHost.swiftPort)
        listen.backlog = 511
        pm = static
        pm.max_children = \(swiftChildren)
        handler = testapp
        pm.status_listen = \(address):\(AppHost.swiftStatusPort)
        env[TESTAPP_RELAY] = \(address):\(AppHost.phpPort)
        env[TESTAPP_RELAY_SCRIPT] = \(www)/write.php
        \(swiftPool)

        [php]
        listen = \(address):\(AppHost.phpPort)
        listen.backlog = 511
        pm = static
        pm.max_children = \(phpChildren)
        exec = php-cgi8.2
        pm.status_listen = \(address):\(AppHost.phpStatusPort)
        \(phpPool)

        """)
    }

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = dir
        return env
    }

    var log: String { TestSupport.read(dir + "/error.log") }
    var pid: Int32? { child.map { $0.pid } }

    func start() throws {
        let started = try network.spawn(in: namespace, binary, ["-F", "-R", "-y", configPath], environment: environment, directory: dir)
        child = started
        let before = log.components(separatedBy: "ready to handle connections").count
        let ok = TestSupport.waitUntil(timeout: 20) {
            log.components(separatedBy: "ready to handle connections").count > before || !started.process.isRunning
        }
        guard ok, started.process.isRunning else {
            throw FPMServer.ServerError("\(name): fpm did not start\nlog:\n\(log)\nstderr:\n\(started.stderr)")
        }
    }

    /// `fpmctl ARGS --pid` this host's pid file (fpmctl reads the runtime files and signals the
    /// master: it works from the test's namespace).
    func fpmctl(_ arguments: [String], timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        try runCommand(TestSupport.fpmctlPath, arguments + ["--pid", pidPath], environment: environment, timeout: timeout)
    }

    /// `fpm -t` of this host's configuration with `global`/`swiftPool` lines: whether this build
    /// knows a directive (the scenarios that need another branch's feature check it first).
    func accepts(global: String = "", swiftPool: String = "") -> (ok: Bool, output: String) {
        let probe = dir + "/probe.conf"
        let saved = TestSupport.read(configPath)
        configure(global: global, swiftPool: swiftPool)
        try? FileManager.default.removeItem(atPath: probe)
        try? FileManager.default.moveItem(atPath: configPath, toPath: probe)
        TestSupport.write(configPath, saved)
        // `-t` checks that every address binds: the host's own are in its namespace (and held by
        // its master), so the probe listens on unix sockets in the host's folder instead.
        var text = TestSupport.read(probe)
        for port in [AppHost.swiftPort, AppHost.phpPort, AppHost.swiftStatusPort, AppHost.phpStatusPort] {
            text = text.replacingOccurrences(of: "\(address):\(port)", with: "\(dir)/probe-\(port).sock")
        }
        TestSupport.write(probe, text)
        let r = try? runCommand(binary, ["-t", "-R", "-y", probe], environment: environment, timeout: 30)
        return (r?.status == 0, (r?.stdout ?? "") + (r?.stderr ?? ""))
    }

    /// Puts `build` at the host's binary path (copy beside it, then rename over it).
    func install(build: String) throws {
        let staged = binary + ".new"
        try? FileManager.default.removeItem(atPath: staged)
        try FileManager.default.copyItem(atPath: build, toPath: staged)
        guard rename(staged, binary) == 0 else { throw FPMServer.ServerError("rename \(staged): errno \(errno)") }
    }

    /// The master's executable as the kernel shows it (`… (deleted)` while an older build runs).
    var runningExecutable: String {
        guard let pid else { return "" }
        return (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/exe")) ?? ""
    }

    /// SIGKILL to every process of the host (its namespace's pids: master, workers, php-cgi),
    /// as when the machine dies; then reaps the master.
    func killAll() {
        for p in network.pids(in: namespace) { kill(p, SIGKILL) }
        child?.wait(timeout: 10)
        _ = TestSupport.waitUntil(timeout: 10) { network.pids(in: namespace).isEmpty }
    }

    func stop() {
        child?.stop()
        for p in network.pids(in: namespace) { kill(p, SIGKILL) }
    }

    deinit {
        stop()
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }
}
