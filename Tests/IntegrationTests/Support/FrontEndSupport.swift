import Foundation

/// Runs `body` (which starts a child process) with no signal blocked on this thread.
///
/// Foundation's `Process` passes the spawning thread's signal mask on to the child, and test
/// threads block most signals. nginx and fpm set their own masks; lighttpd and httpd do not, so
/// started from a test thread they would never see the SIGTERM that stops them.
func withDefaultSignalMask<T>(_ body: () throws -> T) rethrows -> T {
    var empty = sigset_t()
    var saved = sigset_t()
    sigemptyset(&empty)
    pthread_sigmask(SIG_SETMASK, &empty, &saved)
    defer { pthread_sigmask(SIG_SETMASK, &saved, nil) }
    return try body()
}

/// `n` free ports, all different (the kernel may hand a just-freed port out again), none in `taken`.
func distinctFreePorts(_ n: Int, besides taken: Set<Int> = []) -> [Int] {
    var ports: [Int] = []
    while ports.count < n {
        let p = TestSupport.freePort()
        if !ports.contains(p) && !taken.contains(p) { ports.append(p) }
    }
    return ports
}

/// A web server in front of fpm (apache2, lighttpd, haproxy, caddy), one site per port on 127.0.0.1.
protocol FrontEndServer: AnyObject {
    var dir: String { get }
    var ports: [Int] { get }
}

extension FrontEndServer {
    /// Starts the server in the foreground (with the default signal mask) and waits until every
    /// port accepts; throws with `diagnostics()` (its logs, its config) when it does not.
    func startForeground(_ binary: String, _ arguments: [String], environment: [String: String]? = nil,
                         diagnostics: () -> String) throws -> ChildProcess {
        let child = try withDefaultSignalMask { try ChildProcess(binary, arguments, environment: environment, directory: dir) }
        let ports = self.ports
        let started = TestSupport.waitUntil(timeout: 10) { ports.allSatisfy { TestSupport.canConnect(port: $0) } || !child.process.isRunning }
        guard started, child.process.isRunning else {
            child.stop()
            throw FPMServer.ServerError("\((binary as NSString).lastPathComponent) did not start: \(child.stderr) \(diagnostics())")
        }
        return child
    }

    /// One request to the `site`th port.
    func get(_ path: String, site: Int = 0, method: String = "GET", body: [UInt8] = [],
             headers: [(String, String)] = []) throws -> HTTPResponse {
        try HTTPClient.request(port: ports[site], method: method, path: path, body: body, headers: headers)
    }

    /// Stops the server and removes its temp dir (kept with KEEP_TEST_DIRS=1).
    func stopAndClean(_ child: ChildProcess?) {
        child?.stop()
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: dir)
        }
    }
}
