import FastCGI
import FastCGIClient
import Foundation
import Testing

/// Starts the built `hello` binary on a temp config and talks FastCGI to it.
final class HelloServer {
    let dir: String
    let port: Int
    let process = Process()

    static let binary: String = {
        // The test bundle sits in the same build folder as the `hello` executable.
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while !FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("hello").path),
              url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("hello").path
    }()

    init(greeting: String = "Hello") throws {
        dir = NSTemporaryDirectory() + "hello-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = HelloServer.freePort()
        let config = """
        [global]
        pid = \(dir)/fpm.pid
        error_log = \(dir)/error.log

        [hello]
        listen = 127.0.0.1:\(port)
        pm = static
        pm.max_children = 2
        handler = hello
        env[HELLO_GREETING] = \(greeting)
        ping.path = /ping

        """
        try config.write(toFile: dir + "/hello.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: HelloServer.binary)
        process.arguments = ["-F", "-R", "-y", dir + "/hello.conf"]
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = dir
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ready = waitUntil(timeout: 20) { log.contains("ready to handle connections") || !process.isRunning }
        guard ready, process.isRunning else { throw Failure("hello did not start:\n\(log)") }
    }

    var log: String { (try? String(contentsOfFile: dir + "/error.log", encoding: .utf8)) ?? "" }

    var workers: [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/task/\(process.processIdentifier)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    func request(_ uri: String, method: String = "GET", body: [UInt8] = [], contentType: String = "") throws -> FastCGIResponse {
        let client = try FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 10)
        defer { client.close() }
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let params: [(String, String)] = [
            ("REQUEST_METHOD", method), ("SCRIPT_NAME", String(parts[0])), ("REQUEST_URI", uri),
            ("QUERY_STRING", parts.count > 1 ? String(parts[1]) : ""), ("CONTENT_TYPE", contentType),
            ("CONTENT_LENGTH", body.isEmpty ? "" : String(body.count)), ("REMOTE_ADDR", "127.0.0.1"),
            ("SERVER_PROTOCOL", "HTTP/1.1"), ("GATEWAY_INTERFACE", "CGI/1.1"),
        ]
        return try client.request(params: params, body: body)
    }

    func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    deinit {
        // Stopped by pid: SIGTERM, then SIGKILL if it lingers.
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            if !waitUntil(timeout: 10, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite(.serialized) struct HelloTests {
    @Test func greets() throws {
        let server = try HelloServer(greeting: "Howdy")
        let r = try server.request("/hello?name=Swift")
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(r.bodyText == "Howdy, Swift!\n")
    }

    @Test func setUpRanInEachWorkerAndStateLivesThere() throws {
        let server = try HelloServer()
        #expect(server.waitUntil(timeout: 10) { server.workers.count == 2 })
        let workers = Set(server.workers)
        var pids: Set<Int32> = []
        for _ in 0..<6 {
            let r = try server.request("/json")
            #expect(r.header("Content-Type") == "application/json")
            let object = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
            #expect(object?["pool"] as? String == "hello")
            if let pid = object?["pid"] as? Int { pids.insert(Int32(pid)) }
        }
        // The pid setUp recorded is the worker's own, not the master's.
        #expect(!pids.isEmpty && pids.isSubset(of: workers))
    }

    @Test func echoesABodyAndDecodesAForm() throws {
        let server = try HelloServer()
        let body = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let echo = try server.request("/echo", method: "POST", body: body)
        #expect(echo.body == body)
        let form = try server.request("/form", method: "POST", body: Array("a=1&b=two+words".utf8),
                                      contentType: "application/x-www-form-urlencoded")
        #expect(form.bodyText == "a=1\nb=two words\n")
    }

    @Test func errorsAndCrashesCostOneRequest() throws {
        let server = try HelloServer()
        #expect(try server.request("/throw").status == 500)
        #expect(server.waitUntil(timeout: 10) { server.log.contains("demo error from /throw") })
        #expect(server.waitUntil(timeout: 10) { server.workers.count == 2 })
        let before = Set(server.workers)
        // A crash still answers: the dying worker sends a complete 500 (nginx shows it and
        // does not retry the request on another worker).
        #expect(try server.request("/crash").status == 500)
        #expect(server.waitUntil(timeout: 10) { server.workers.count == 2 && Set(server.workers) != before })
        #expect(try server.request("/").bodyText == "Hello, world!\n")
        #expect(try server.request("/nowhere").status == 404)
    }
}
