import FastCGI
import Foundation
import Testing

/// Helpers for tests that run the real binaries: temp dirs, free ports, processes started and
/// stopped by pid, and waiting on conditions with deadlines.
enum TestSupport {
    /// The folder holding the built `fpm` and `fpmctl` (the test bundle's build folder).
    static let binDirectory: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // .../debug/swift-fpmPackageTests.xctest (a file on Linux) → .../debug
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("fpm").path) && url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
        }
        return url
    }()

    static var fpmPath: String { binDirectory.appendingPathComponent("fpm").path }
    static var testAppPath: String { binDirectory.appendingPathComponent("fpm-testapp").path }
    static var fpmctlPath: String { binDirectory.appendingPathComponent("fpmctl").path }

    static func makeTempDirectory(_ name: String = "fpm-test") -> String {
        let path = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    /// A TCP port nothing listens on right now (the kernel picks it).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Polls `condition` until it holds or `timeout` passes.
    @discardableResult
    static func waitUntil(timeout: Double = 10, interval: Double = 0.02, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: interval)
        }
        return try condition()
    }

    static func write(_ path: String, _ text: String) {
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func read(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    static func canConnect(port: Int, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr(host)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    /// Children of `pid` (from /proc), for counting workers.
    static func childPIDs(of pid: Int32) -> [Int32] {
        let text = read("/proc/\(pid)/task/\(pid)/children")
        return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    static func threadCount(of pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? 0
    }

    static func isAlive(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0
    }

    static func isZombieOrGone(_ pid: Int32) -> Bool {
        let stat = read("/proc/\(pid)/stat")
        if stat.isEmpty { return true }
        guard let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(close, offsetBy: 2)]
        return state == "Z" || state == "X"
    }

    /// A standard nginx-like set of params for a request to `uri`.
    static func params(uri: String, method: String = "GET", script: String? = nil, extra: [(String, String)] = []) -> [(String, String)] {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        var p: [(String, String)] = [
            ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "swift-fpm-tests"),
            ("QUERY_STRING", parts.count > 1 ? String(parts[1]) : ""), ("REQUEST_METHOD", method),
            ("CONTENT_TYPE", ""), ("CONTENT_LENGTH", ""),
            ("SCRIPT_NAME", path), ("SCRIPT_FILENAME", script ?? "/srv" + path), ("REQUEST_URI", uri),
            ("DOCUMENT_URI", path), ("DOCUMENT_ROOT", "/srv"), ("SERVER_PROTOCOL", "HTTP/1.1"),
            ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "50000"), ("SERVER_ADDR", "127.0.0.1"),
            ("SERVER_PORT", "80"), ("SERVER_NAME", "localhost"), ("HTTP_HOST", "localhost"),
        ]
        p.append(contentsOf: extra)
        return p
    }
}

/// A process started by a test; stopped by pid when the test ends.
final class ChildProcess {
    let process: Process
    let stdoutPath: String
    let stderrPath: String

    /// `standardInput`: what the process gets as descriptor 0 (default /dev/null); a test passes
    /// a socket this way (a shell then moves it where the program expects it).
    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String,
         standardInput: FileHandle? = nil) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        stdoutPath = directory + "/\(URL(fileURLWithPath: executable).lastPathComponent).\(UUID().uuidString.prefix(6)).out"
        stderrPath = stdoutPath.replacingOccurrences(of: ".out", with: ".err")
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = standardInput ?? FileHandle.nullDevice
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var stdout: String { TestSupport.read(stdoutPath) }
    var stderr: String { TestSupport.read(stderrPath) }

    func signal(_ sig: Int32) { kill(pid, sig) }

    /// Waits for exit; SIGKILLs after `timeout`. Returns the exit status.
    @discardableResult
    func wait(timeout: Double = 15) -> Int32 {
        if !TestSupport.waitUntil(timeout: timeout, { !process.isRunning }) {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Stops the process (SIGTERM, then SIGKILL) and its descendants that remain.
    func stop() {
        guard process.isRunning else { return }
        let children = TestSupport.childPIDs(of: pid)
        kill(pid, SIGTERM)
        if !TestSupport.waitUntil(timeout: 10, { !process.isRunning }) {
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
        for c in children where TestSupport.isAlive(c) { kill(c, SIGKILL) }
    }

    deinit { stop() }
}

/// Runs a command to completion and returns (status, stdout, stderr).
@discardableResult
func runCommand(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                timeout: Double = 60) throws -> (status: Int32, stdout: String, stderr: String) {
    let dir = TestSupport.makeTempDirectory("cmd")
    let child = try ChildProcess(executable, arguments, environment: environment, directory: dir)
    let status = child.wait(timeout: timeout)
    let result = (status, child.stdout, child.stderr)
    try? FileManager.default.removeItem(atPath: dir)
    return result
}

/// Runs `body` on its own thread (blocking clients must not starve a small GCD pool).
final class BackgroundTask: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    init(_ body: @escaping @Sendable () -> Void) {
        let sem = done
        let t = Thread { body(); sem.signal() }
        t.start()
    }
    /// Waits for the task to end; false on timeout.
    @discardableResult
    func wait(timeout: Double = 60) -> Bool { done.wait(timeout: .now() + timeout) == .success }
}
