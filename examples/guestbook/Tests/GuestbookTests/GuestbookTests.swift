import FastCGI
import FastCGIClient
import Foundation
import Testing

/// Starts the built `guestbook` binary on a temp config and database.
final class GuestbookServer {
    let dir: String
    let port: Int
    let process = Process()

    static let binary: String = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while !FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("guestbook").path),
              url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("guestbook").path
    }()

    init(children: Int = 2) throws {
        dir = NSTemporaryDirectory() + "guestbook-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        port = GuestbookServer.freePort()
        try """
        [global]
        pid = \(dir)/fpm.pid
        error_log = \(dir)/error.log
        [guestbook]
        listen = 127.0.0.1:\(port)
        pm = static
        pm.max_children = \(children)
        handler = guestbook
        env[GUESTBOOK_DB] = \(dir)/guestbook.sqlite

        """.write(toFile: dir + "/fpm.conf", atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: GuestbookServer.binary)
        process.arguments = ["-F", "-R", "-y", dir + "/fpm.conf"]
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = dir
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard waitUntil(timeout: 20, { log.contains("ready to handle connections") || !process.isRunning }), process.isRunning else {
            throw Failure(description: "guestbook did not start:\n\(log)")
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A port nothing listens on now (the kernel picks it).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    var log: String { (try? String(contentsOfFile: dir + "/error.log", encoding: .utf8)) ?? "" }

    func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    func request(_ path: String, method: String = "GET", form: String? = nil, accept: String = "text/html") throws -> FastCGIResponse {
        let client = try FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 10)
        defer { client.close() }
        let body = form.map { Array($0.utf8) } ?? []
        return try client.request(params: [
            ("REQUEST_METHOD", method), ("SCRIPT_NAME", path), ("REQUEST_URI", path), ("QUERY_STRING", ""),
            ("CONTENT_TYPE", form == nil ? "" : "application/x-www-form-urlencoded"),
            ("CONTENT_LENGTH", body.isEmpty ? "" : String(body.count)), ("HTTP_ACCEPT", accept),
        ], body: body)
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            if !waitUntil(timeout: 10, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }
}

@Suite(.serialized) struct GuestbookTests {
    @Test func signingShowsUpInHTMLAndJSONEscaped() throws {
        let server = try GuestbookServer()
        let signed = try server.request("/", method: "POST", form: "name=Ada&message=%3Cscript%3Ehi%3C%2Fscript%3E")
        #expect(signed.status == 303)
        #expect(signed.header("Location") == "/")
        // Several requests: they reach both workers, each with its own connection to one file.
        for i in 0..<5 {
            let r = try server.request("/", method: "POST", form: "name=guest\(i)&message=line+\(i)", accept: "application/json")
            #expect(r.status == 201)
        }
        let page = try server.request("/")
        #expect(page.status == 200)
        #expect(page.bodyText.contains("<b>Ada</b>: &lt;script&gt;hi&lt;/script&gt;"))
        #expect(!page.bodyText.contains("<script>"))
        let json = try server.request("/entries.json")
        #expect(json.header("Content-Type") == "application/json")
        let list = try JSONSerialization.jsonObject(with: Data(json.body)) as? [[String: Any]]
        #expect(list?.count == 6)
        #expect(list?.last?["name"] as? String == "Ada")
    }

    /// The migration runs once per pool generation (the router's onPrepare), not in each
    /// worker's setUp: ten starts on a fresh database, four workers each, never a migration
    /// race (`UNIQUE constraint failed: grdb_migrations.identifier`) nor a worker that failed.
    @Test func tenFreshStartsMigrateOnce() throws {
        for start in 0..<10 {
            let server = try GuestbookServer(children: 4)
            #expect(server.waitUntil(timeout: 10) { server.log.components(separatedBy: " started").count - 1 >= 4 })
            let r = try server.request("/", method: "POST", form: "name=n\(start)&message=m", accept: "application/json")
            #expect(r.status == 201, "start \(start): \(r.bodyText)\n\(server.log)")
            let log = server.log
            #expect(log.components(separatedBy: "[pool guestbook] prepared in").count - 1 == 1, "start \(start):\n\(log)")
            #expect(!log.contains("UNIQUE constraint failed"), "start \(start):\n\(log)")
            #expect(!log.contains("setUp failed"), "start \(start):\n\(log)")
            #expect(!log.contains("exited with code"), "start \(start):\n\(log)")
        }
    }

    @Test func refusesAnEmptySignature() throws {
        let server = try GuestbookServer()
        #expect(try server.request("/", method: "POST", form: "name=&message=x").status == 400)
        #expect(try server.request("/nope").status == 404)
    }
}
