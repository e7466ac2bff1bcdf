import FPM
import FPMConfiguration
import FPMSystem
import FastCGI
import FastCGIClient
import Foundation

extension TestClient {
    /// A client of the app's real binary: starts `executable` (`-F -R -y CONF`) as its own
    /// master on a unix socket in a temp folder, with one pool whose section is `pool`'s
    /// directives (`handler = app`, `ping.path = /ping`, `env[DB] = …`; `pm = static` with one
    /// worker unless they say otherwise), and sends each request over FastCGI as a web server
    /// would. For end-to-end tests of what only the binary does (fork, setUp in the worker,
    /// the status page, deadlines). ``close()`` stops it by its pid (so does the client's end).
    ///
    /// ```swift
    /// let client = try TestClient.live(executable: binary, pool: "handler = app")
    /// defer { client.close() }
    /// #expect(client.get("/hello").status == .ok)
    /// ```
    ///
    /// Throws when the binary does not answer on its socket within `timeout` seconds (with the
    /// server's log in the error). ``TestResponse/accessLogLine`` is nil here; ``liveLog``
    /// is the server's error log.
    public static func live(executable: URL, pool directives: String, poolName: String = "app",
                            arguments: [String] = [], timeout: Double = 20) throws -> TestClient {
        TestClient(server: try LiveServer(executable: executable, directives: directives, poolName: poolName,
                                          arguments: arguments, timeout: timeout))
    }

    /// The live server's master pid (nil in-process).
    public var livePID: Int32? { server?.pid }
    /// The live server's error log so far (nil in-process).
    public var liveLog: String? { server.map { (try? String(contentsOfFile: $0.directory + "/error.log", encoding: .utf8)) ?? "" } }
}

/// Why a live server or a client's pool could not be set up.
struct LiveServerError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A real app binary started as its own master for one ``TestClient``.
final class LiveServer {
    let directory: String
    let socketPath: String
    let configuration: PoolConfiguration
    let process = Process()
    var pid: Int32 { process.processIdentifier }
    let timeout: Double
    var stopped = false

    init(executable: URL, directives: String, poolName: String, arguments: [String], timeout: Double) throws {
        self.timeout = timeout
        // Short: a unix socket path has room for 107 bytes.
        directory = NSTemporaryDirectory() + "fpmtest-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/app.sock"
        let configPath = directory + "/fpm.conf"
        // A later line wins over an earlier one: the test's directives override these.
        let text = """
        [global]
        pid = \(directory)/fpm.pid
        error_log = \(directory)/error.log

        [\(poolName)]
        listen = \(socketPath)
        pm = static
        pm.max_children = 1
        \(directives)

        """
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        do {
            let loaded = try ConfigurationLoader.load(text: text, path: configPath, environment: [:])
            guard let pool = loaded.pools.first else { throw LiveServerError("no pool in \(configPath)") }
            configuration = pool
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        process.executableURL = executable
        process.arguments = ["-F", "-R", "-y", configPath] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_FPM_RUNTIME_DIR"] = directory
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        FileManager.default.createFile(atPath: directory + "/output.log", contents: nil)
        let output = FileHandle(forWritingAtPath: directory + "/output.log")
        process.standardOutput = output
        process.standardError = output
        process.standardInput = nil
        try process.run()
        try waitReady()
    }

    /// Waits until the socket accepts a connection (the master listens before it forks), or
    /// the process ended, or the deadline passed.
    func waitReady() throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            guard process.isRunning else { break }
            if let client = try? FastCGIClient(connectingTo: .unix(socketPath), timeout: 1) {
                client.close()
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let status = process.isRunning ? "still running" : "exited \(process.terminationStatus)"
        let log = (try? String(contentsOfFile: directory + "/error.log", encoding: .utf8)) ?? ""
        let output = (try? String(contentsOfFile: directory + "/output.log", encoding: .utf8)) ?? ""
        stop()
        throw LiveServerError("the app did not listen on \(socketPath) within \(timeout)s (\(status))\nlog:\n\(log)\noutput:\n\(output)")
    }

    /// One request on a new connection; a failure to talk to the server is a response with
    /// no output (status 500) and the failure in ``TestResponse/error``.
    func send(params: [(String, String)], body: [UInt8]) -> TestResponse {
        do {
            let client = try FastCGIClient(connectingTo: .unix(socketPath), timeout: timeout)
            defer { client.close() }
            let answer = try client.request(params: params, body: body)
            return TestResponse(output: answer.stdout, errors: answer.stderr, error: nil)
        } catch {
            return TestResponse(output: [], errors: [], error: error)
        }
    }

    /// SIGTERM to the master (it stops its workers), SIGKILL if it is still there after the
    /// timeout; then the temp folder goes.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
            if process.isRunning { _ = Processes.signal(pid, SIGKILL) }
            process.waitUntilExit()
        }
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}
