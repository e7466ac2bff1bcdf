import FastCGI
import FastCGIClient
import Foundation
import Glibc
import Testing

/// Helpers for the fault-tolerance suite (FaultSuiteTests): a bounded load that counts what
/// failed, and what /proc tells about a process (CPU, resident memory, descriptors).
enum FaultSuite {
    /// The suite takes about a minute (a hundred reloads, two kill schedules, loads of seconds): it runs only when asked,
    /// `make test-faults` (FPM_FAULTS=1 swift test --filter FaultSuite).
    static var enabled: Bool { ProcessInfo.processInfo.environment["FPM_FAULTS"] == "1" }
}

/// What /proc says about one process.
enum ProcInfo {
    static let clockTicks = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime in seconds (/proc/PID/stat fields 14 and 15), nil when the process is gone.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        let stat = TestSupport.read("/proc/\(pid)/stat")
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (field 3); utime is field 14, stime field 15.
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / clockTicks
    }

    /// VmRSS in KiB (/proc/PID/status), nil when the process is gone.
    static func rssKiB(_ pid: Int32) -> Int? {
        for line in TestSupport.read("/proc/\(pid)/status").split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }

    /// Open descriptors (/proc/PID/fd entries).
    static func descriptorCount(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1
    }

    /// Live (not zombie) children of `pid`.
    static func liveChildren(of pid: Int32) -> [Int32] {
        TestSupport.childPIDs(of: pid).filter { !TestSupport.isZombieOrGone($0) }
    }
}

/// Clients sending requests in a loop until stopped (or `limit` requests each), counting
/// successes and keeping every failure's description. `attempt` makes one request and returns
/// nil when the answer was right, else what was wrong.
final class FaultLoad: @unchecked Sendable {
    private let lock = NSLock()
    private var _ok = 0
    private var _failures: [String] = []
    private var _stop = false
    private var tasks: [BackgroundTask] = []

    init(clients: Int, limit: Int = 200_000, _ attempt: @escaping @Sendable (_ client: Int, _ n: Int) -> String?) {
        for client in 0..<clients {
            tasks.append(BackgroundTask { [self] in
                var n = 0
                while !lock.withLock({ _stop }) && n < limit {
                    n += 1
                    let failure = attempt(client, n)
                    lock.withLock {
                        if let failure { _failures.append(failure) } else { _ok += 1 }
                    }
                }
            })
        }
    }

    var ok: Int { lock.withLock { _ok } }
    var failures: [String] { lock.withLock { _failures } }

    /// Stops the clients and waits for them (each finishes the request it is in).
    func finish(timeout: Double = 60) {
        lock.withLock { _stop = true }
        for t in tasks { t.wait(timeout: timeout) }
    }

    /// Waits until `n` more requests than now have succeeded.
    @discardableResult
    func waitForProgress(_ n: Int, timeout: Double = 10) -> Bool {
        let target = ok + n
        return TestSupport.waitUntil(timeout: timeout, interval: 0.005) { ok >= target }
    }

    /// FastCGI GET /pid on a new connection per request, straight to the pool's port.
    static func fastCGI(port: Int, clients: Int, uri: String = "/pid", timeout: Double = 30) -> FaultLoad {
        FaultLoad(clients: clients) { _, _ in
            do {
                let c = try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: timeout)
                defer { c.close() }
                let r = try c.request(params: TestSupport.params(uri: uri))
                return r.status == 200 && r.bodyText.hasPrefix("pid ") ? nil : "status \(r.status): \(r.bodyText.prefix(80))"
            } catch {
                return "transport: \(error)"
            }
        }
    }

    /// HTTP POST /echo through nginx with a body of 1–16 KiB that must come back unchanged;
    /// `pause` seconds between a client's requests (0: back to back); a request unanswered
    /// after `timeout` seconds fails.
    static func httpEcho(port: Int, clients: Int, path: String = "/echo", pause: Double = 0, timeout: Int = 30) -> FaultLoad {
        FaultLoad(clients: clients) { client, n in
            if pause > 0 { Thread.sleep(forTimeInterval: pause) }  // the load's rhythm
            let size = 1024 + ((client * 7919 + n * 104_729) % (15 * 1024))
            let body = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ n &+ client) }
            do {
                let r = try HTTPClient.request(port: port, method: "POST", path: "\(path)?n=\(n)", body: body,
                                               headers: [("Content-Type", "application/octet-stream")], timeout: timeout)
                if r.status != 200 { return "status \(r.status): \(r.text.prefix(120))" }
                return r.body == body ? nil : "body of \(r.body.count) bytes, sent \(body.count)"
            } catch {
                return "transport: \(error)"
            }
        }
    }
}

extension FPMServer {
    /// Writes a configuration whose [global] section is exactly `global` (pid and, unless
    /// given there, the error log in the test folder) and pools `pools`.
    func writeConfig(errorLog: String, global: String = "", pools: String) {
        TestSupport.write(configPath, substitute("""
        [global]
        pid = {{DIR}}/fpm.pid
        error_log = \(errorLog)
        log_level = debug
        \(global)

        \(pools)

        """))
    }

    /// The runtime files (`swift-fpm.*`) in the test's runtime folder.
    var runtimeFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasPrefix("swift-fpm.") }.sorted()
    }

    /// The pids `fpmctl status --full` shows in state `Running`.
    func runningWorkers() -> [Int32] {
        guard let out = try? fpmctl(["status", "--pid", pidPath, "--full", "--format", "json"]).stdout,
              let json = try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any],
              let processes = json["processes"] as? [[String: Any]] else { return [] }
        return processes.compactMap { p in
            guard (p["state"] as? String) == "Running", let pid = p["pid"] as? Int else { return nil }
            return Int32(pid)
        }
    }
}

/// A pool's scoreboard as the file holds it (Scoreboard.swift's layout), read by the tests
/// just before a kill: was the worker serving?
enum ScoreboardFile {
    static let headerSize = 512, slotSize = 1536
    static let slotCount = 16, slotPID = 8, slotStage = 16, slotConnection = 120
    static let idleStage = 1

    /// Whether `pid`'s slot says it is reading or answering a request (its stage is not idle,
    /// or it marked a connection as the one it serves); nil when no slot is `pid`'s.
    static func isServing(path: String, pid: Int32) -> Bool? {
        guard let data = FileManager.default.contents(atPath: path), data.count >= headerSize else { return nil }
        return data.withUnsafeBytes { raw -> Bool? in
            let count = Int(raw.loadUnaligned(fromByteOffset: slotCount, as: UInt32.self))
            for i in 0..<count {
                let base = headerSize + i * slotSize
                guard base + slotSize <= raw.count else { break }
                guard raw.loadUnaligned(fromByteOffset: base + slotPID, as: Int.self) == Int(pid) else { continue }
                let stage = raw.loadUnaligned(fromByteOffset: base + slotStage, as: Int.self)
                let connection = raw.loadUnaligned(fromByteOffset: base + slotConnection, as: Int.self)
                return stage != idleStage || connection != 0
            }
            return nil
        }
    }
}

/// php-fpm 8.2 (when installed), for figures measured beside swift-fpm's in the same run.
final class PHPFPMServer {
    static let binary = "/usr/sbin/php-fpm8.2"
    static var installed: Bool { FileManager.default.isExecutableFile(atPath: binary) }
    let dir: String
    let port: Int
    let child: ChildProcess

    /// A static pool of `children` serving `dir`, where `echo.php` sends the request body back.
    init(children: Int) throws {
        dir = TestSupport.makeTempDirectory("php-fpm")
        port = TestSupport.freePort()
        TestSupport.write(dir + "/echo.php", "<?php echo file_get_contents('php://input');\n")
        let root = getuid() == 0
        TestSupport.write(dir + "/php-fpm.conf", """
        [global]
        pid = \(dir)/php-fpm.pid
        error_log = \(dir)/php-fpm.log
        daemonize = no
        [www]
        \(root ? "user = root\ngroup = root" : "")
        listen = 127.0.0.1:\(port)
        pm = static
        pm.max_children = \(children)
        pm.max_requests = 0

        """)
        child = try ChildProcess(Self.binary, (root ? ["-R"] : []) + ["-F", "-n", "-y", dir + "/php-fpm.conf"], directory: dir)
        let port = self.port
        guard TestSupport.waitUntil(timeout: 10, { TestSupport.canConnect(port: port) }) else {
            throw FPMServer.ServerError("php-fpm did not start: \(child.stderr) \(TestSupport.read(dir + "/php-fpm.log"))")
        }
    }

    var pid: Int32 { child.process.processIdentifier }

    deinit {
        child.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
