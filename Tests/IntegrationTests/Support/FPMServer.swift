import FastCGI
import FastCGIClient
import Foundation
import Testing

/// A real `fpm` master started on a temp config, for one test.
final class FPMServer {
    let dir: String
    let port: Int
    let configPath: String
    let logPath: String
    let pidPath: String
    var child: ChildProcess!
    let binary: String
    /// Variables added to the master's environment (NOTIFY_SOCKET, …) by the next `start`.
    var environment: [String: String] = [:]

    /// `pools` is the pool sections' text; `{{PORT}}`, `{{DIR}}` are substituted. When it is nil,
    /// one pool `www` on the port with `pool` extra lines is used.
    init(name: String = "fpm", global: String = "", pools: String? = nil, binary: String = TestSupport.testAppPath,
         pool extra: String = "", arguments: [String] = [], start: Bool = true,
         waitReady: Bool = true) throws {
        self.binary = binary
        dir = TestSupport.makeTempDirectory(name)
        port = TestSupport.freePort()
        configPath = dir + "/fpm.conf"
        logPath = dir + "/error.log"
        pidPath = dir + "/fpm.pid"
        let poolText = pools ?? FPMServer.pool(extra)
        writeConfig(global: global, pools: poolText)
        if start { try self.start(arguments: arguments, waitReady: waitReady) }
    }

    /// One pool `www` on the server's port; `extra` lines are added to its section.
    static func pool(_ extra: String = "", pm: String = "static", children: Int = 2, handler: String = "testapp") -> String {
        """
        [www]
        listen = 127.0.0.1:{{PORT}}
        pm = \(pm)
        pm.max_children = \(children)
        handler = \(handler)
        \(extra)
        """
    }

    func writeConfig(global: String = "", pools: String) {
        let text = """
        [global]
        pid = {{DIR}}/fpm.pid
        error_log = {{DIR}}/error.log
        log_level = debug
        \(global)

        \(pools)

        """
        TestSupport.write(configPath, substitute(text))
    }

    func substitute(_ s: String) -> String {
        s.replacingOccurrences(of: "{{PORT}}", with: String(port)).replacingOccurrences(of: "{{DIR}}", with: dir)
    }

    func start(arguments: [String] = [], waitReady: Bool = true) throws {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = dir
        env.merge(environment) { $1 }
        child = try ChildProcess(binary, ["-F", "-R", "-y", configPath] + arguments, environment: env, directory: dir)
        if waitReady {
            let ok = TestSupport.waitUntil(timeout: 20) { log.contains("ready to handle connections") || !child.process.isRunning }
            guard ok, child.process.isRunning else {
                throw ServerError("fpm did not start: status \(child.process.isRunning ? "running" : String(child.process.terminationStatus))\nlog:\n\(log)\nstderr:\n\(child.stderr)")
            }
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    var pid: Int32 { child.pid }
    var log: String { TestSupport.read(logPath) }
    var workers: [Int32] { TestSupport.childPIDs(of: pid) }

    func client(timeout: Double = 10, bind: String? = nil) throws -> FastCGIClient {
        try FastCGIClient(connectingTo: FastCGIAddress("127.0.0.1:\(port)")!, timeout: timeout, bindAddress: bind)
    }

    /// One request on a new connection.
    func request(_ uri: String, method: String = "GET", body: [UInt8] = [], extra: [(String, String)] = [],
                 timeout: Double = 10) throws -> FastCGIResponse {
        let c = try client(timeout: timeout)
        defer { c.close() }
        var extra = extra
        if !body.isEmpty { extra.append(("CONTENT_LENGTH", String(body.count))) }
        return try c.request(params: TestSupport.params(uri: uri, method: method, extra: extra), body: body)
    }

    /// Waits for the worker count to become `n`.
    @discardableResult
    func waitForWorkers(_ n: Int, timeout: Double = 10) -> Bool {
        TestSupport.waitUntil(timeout: timeout) { workers.count == n }
    }

    func waitForLog(_ text: String, timeout: Double = 10) -> Bool {
        TestSupport.waitUntil(timeout: timeout) { log.contains(text) }
    }

    func count(_ text: String) -> Int {
        log.components(separatedBy: text).count - 1
    }

    func fpmctl(_ arguments: [String], timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = dir
        return try runCommand(TestSupport.fpmctlPath, arguments, environment: env, timeout: timeout)
    }

    /// Waits until `fpmctl status` shows `n` active processes (summed over pools).
    @discardableResult
    func waitUntilActive(_ n: Int, timeout: Double = 10) -> Bool {
        TestSupport.waitUntil(timeout: timeout, interval: 0.05) {
            guard let out = try? fpmctl(["status", "--pid", pidPath]).stdout else { return false }
            let active = out.split(separator: "\n").filter { $0.hasPrefix("active processes:") }
                .compactMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }.reduce(0, +)
            return active == n
        }
    }

    func stop() {
        child?.stop()
    }

    deinit {
        stop()
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: dir)
        }
    }
}
