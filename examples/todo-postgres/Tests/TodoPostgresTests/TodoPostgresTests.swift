import Foundation
import Testing

/// The todo API end to end: a real PostgreSQL (Debian's postgresql 15, initdb'd in a temp
/// directory, run as the `postgres` user on a unix socket there), the `todo-postgres` binary
/// (two workers, a connection each), and nginx in front, driven with curl.
@Suite(.serialized) struct TodoPostgresTests {
    @Test func theAPIThroughNginx() throws {
        let stack = try Stack()
        defer { stack.stop() }
        let empty = try stack.curl("GET", "/todos")
        #expect(empty.status == 200)
        #expect(try JSONDecoder().decode([TodoJSON].self, from: Data(empty.body.utf8)).isEmpty, "\(empty.body)")
        let created = try stack.curl("POST", "/todos", json: #"{"title":"write the tests"}"#)
        #expect(created.status == 201)
        let todo = try JSONDecoder().decode(TodoJSON.self, from: Data(created.body.utf8))
        #expect(todo.title == "write the tests" && !todo.done)
        // Several requests: they reach both workers, each with its own connection.
        for i in 0..<6 { #expect(try stack.curl("POST", "/todos", json: #"{"title":"t\#(i)"}"#).status == 201) }
        let list = try JSONDecoder().decode([TodoJSON].self, from: Data(try stack.curl("GET", "/todos").body.utf8))
        #expect(list.count == 7)
        #expect(list.first == todo)
        let patched = try stack.curl("PATCH", "/todos/\(todo.id)", json: #"{"done":true}"#)
        #expect(patched.status == 200)
        #expect(try JSONDecoder().decode(TodoJSON.self, from: Data(patched.body.utf8)).done)
        #expect(try JSONDecoder().decode(TodoJSON.self, from: Data(try stack.curl("GET", "/todos/\(todo.id)").body.utf8)).done)
        #expect(try stack.curl("DELETE", "/todos/\(todo.id)").status == 204)
        #expect(try stack.curl("GET", "/todos/\(todo.id)").status == 404)
        #expect(try stack.curl("DELETE", "/todos/\(todo.id)").status == 404)
        #expect(try stack.curl("GET", "/todos/abc").status == 400)
        #expect(try stack.curl("POST", "/todos", json: #"{"title":""}"#).status == 400)
        // One migration for the pool generation, a connection per worker, no worker failed.
        let log = stack.fpmLog
        #expect(log.components(separatedBy: "[pool todos] prepared in").count - 1 == 1, "\(log)")
        #expect(!log.contains("exited with code"), "\(log)")
    }
}

struct TodoJSON: Decodable, Equatable {
    var id: Int
    var title: String
    var done: Bool
}

/// PostgreSQL, the app and nginx, each on a temp directory and a free port; stopped by pid.
final class Stack {
    let dir: String
    let pgPort = Stack.freePort(), fpmPort = Stack.freePort(), httpPort = Stack.freePort()
    var processes: [Process] = []
    static let pgBin = "/usr/lib/postgresql/15/bin"

    static let binary: String = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while !FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("todo-postgres").path),
              url.pathComponents.count > 1 {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("todo-postgres").path
    }()

    struct Failure: Error, CustomStringConvertible { var description: String }

    init() throws {
        dir = NSTemporaryDirectory() + "todo-pg-\(UUID().uuidString.prefix(8))"
        for sub in ["pg", "nginx/logs", "nginx/tmp"] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
        }
        // PostgreSQL refuses to run as root: when we are root it runs as `postgres` (setpriv
        // execs it, so the pid we stop is the postmaster's) on a directory that user owns.
        let asPostgres = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"] : []
        if getuid() == 0 { try run("/bin/chown", ["-R", "postgres:postgres", dir + "/pg"]) }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir)
        try run(asPostgres.first ?? Stack.pgBin + "/initdb",
                Array(asPostgres.dropFirst()) + (asPostgres.isEmpty ? [] : [Stack.pgBin + "/initdb"]) +
                ["-D", dir + "/pg/data", "-U", "postgres", "-A", "trust", "--no-sync"])
        let postgres = try start(asPostgres.first ?? Stack.pgBin + "/postgres",
                                 Array(asPostgres.dropFirst()) + (asPostgres.isEmpty ? [] : [Stack.pgBin + "/postgres"]) +
                                 ["-D", dir + "/pg/data", "-k", dir + "/pg", "-p", String(pgPort), "-c", "listen_addresses=",
                                  "-c", "fsync=off"])
        guard waitUntil(timeout: 30, { FileManager.default.fileExists(atPath: "\(self.dir)/pg/.s.PGSQL.\(self.pgPort)") }),
              postgres.isRunning else { throw Failure(description: "postgres did not start") }

        try """
        [global]
        pid = \(dir)/fpm.pid
        error_log = \(dir)/fpm.log
        [todos]
        listen = 127.0.0.1:\(fpmPort)
        pm = static
        pm.max_children = 2
        handler = todos
        env[TODO_PG_HOST] = \(dir)/pg
        env[TODO_PG_PORT] = \(pgPort)
        env[TODO_PG_USER] = postgres

        """.write(toFile: dir + "/fpm.conf", atomically: true, encoding: .utf8)
        let fpm = try start(Stack.binary, ["-F", "-R", "-y", dir + "/fpm.conf"], environment: ["SWIFT_FPM_RUNTIME_DIR": dir])
        guard waitUntil(timeout: 30, { self.fpmLog.contains("ready to handle connections") || !fpm.isRunning }), fpm.isRunning else {
            throw Failure(description: "todo-postgres did not start:\n\(fpmLog)")
        }

        let n = dir + "/nginx"
        try """
        \(getuid() == 0 ? "user root;" : "")
        worker_processes 1;
        daemon off;
        error_log \(n)/logs/error.log warn;
        pid \(n)/nginx.pid;
        events { worker_connections 64; }
        http {
            access_log off;
            client_body_temp_path \(n)/tmp/body;
            fastcgi_temp_path \(n)/tmp/fastcgi;
            proxy_temp_path \(n)/tmp/proxy;
            uwsgi_temp_path \(n)/tmp/uwsgi;
            scgi_temp_path \(n)/tmp/scgi;
            upstream todos { server 127.0.0.1:\(fpmPort); keepalive 2; }
            server {
                listen 127.0.0.1:\(httpPort);
                location / {
                    include /etc/nginx/fastcgi_params;
                    fastcgi_pass todos;
                    fastcgi_keep_conn on;
                }
            }
        }
        """.write(toFile: n + "/nginx.conf", atomically: true, encoding: .utf8)
        let nginx = try start("/usr/sbin/nginx", ["-p", n + "/", "-c", n + "/nginx.conf"])
        guard waitUntil(timeout: 10, { (try? self.curl("GET", "/todos"))?.status == 200 || !nginx.isRunning }), nginx.isRunning else {
            throw Failure(description: "nginx did not start or the API does not answer:\n\(fpmLog)\n\((try? String(contentsOfFile: n + "/logs/error.log", encoding: .utf8)) ?? "")")
        }
    }

    var fpmLog: String { (try? String(contentsOfFile: dir + "/fpm.log", encoding: .utf8)) ?? "" }

    func run(_ path: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failure(description: "\(path) \(arguments) exited \(p.terminationStatus)") }
    }

    func start(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        processes.append(p)
        return p
    }

    /// One request through nginx with curl: the status and the body.
    func curl(_ method: String, _ path: String, json: String? = nil) throws -> (status: Int, body: String) {
        let p = Process()
        let out = Pipe()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "--max-time", "10"]
        if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", json] }
        p.arguments = arguments + ["http://127.0.0.1:\(httpPort)\(path)"]
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        let cut = text.lastIndex(of: "\n") ?? text.endIndex
        return (Int(text[text.index(after: cut)...]) ?? 0, String(text[..<cut]))
    }

    /// Stops nginx, the app (SIGTERM, then its workers' tearDown closes their connections)
    /// and PostgreSQL (fast shutdown), each by its pid, last started first.
    func stop() {
        for p in processes.reversed() where p.isRunning {
            kill(p.processIdentifier, p === processes.first ? SIGINT : SIGTERM)
            if !waitUntil(timeout: 15, { !p.isRunning }) { kill(p.processIdentifier, SIGKILL) }
            p.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

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
}
