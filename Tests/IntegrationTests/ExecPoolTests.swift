import FastCGI
import FastCGIClient
import Foundation
import Glibc
import Testing

/// `exec = PROGRAM ARGS` pools: external FastCGI programs as workers (a libfcgi C program built
/// here from examples/libfcgi, and php-cgi).
@Suite(.serialized) struct ExecPoolTests {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// Builds examples/libfcgi/hello-fcgi.c into `dir` (cc -lfcgi, as its README says).
    static func buildLibfcgiExample(into dir: String) throws -> String {
        let output = dir + "/hello-fcgi"
        let r = try runCommand("/usr/bin/cc", ["-O2", "-o", output, repositoryRoot + "/examples/libfcgi/hello-fcgi.c", "-lfcgi"])
        guard r.status == 0 else {
            throw FPMServer.ServerError("cc failed (is libfcgi-dev installed? `make deps`): \(r.stderr)")
        }
        // The mode cc gave it depends on the umask cc inherited, and this test process's umask is
        // briefly narrowed while another test binds a unix socket (Socket.listenUnix): a cc forked
        // then writes a program without execute bits ("is not an executable file").
        chmod(output, 0o755)
        return output
    }

    static func execServer(pm: String = "pm = static\npm.max_children = 2", extra: String = "") throws -> FPMServer {
        let server = try FPMServer(name: "exec", pools: nil, binary: TestSupport.fpmPath, start: false)
        let program = try buildLibfcgiExample(into: server.dir)
        server.writeConfig(pools: """
        [lib]
        listen = 127.0.0.1:{{PORT}}
        listen.allowed_clients = 127.0.0.1
        \(pm)
        exec = \(program)
        \(extra)
        """)
        try server.start()
        return server
    }

    static func pid(of r: FastCGIResponse) -> Int32? { r.header("X-Worker-PID").flatMap { Int32($0) } }

    @Test func aLibfcgiProgramServesFromAStaticExecPool() throws {
        let server = try Self.execServer()
        #expect(server.waitForWorkers(2))
        let workers = Set(server.workers)
        // Forked workers become the program once they have exec'd.
        #expect(TestSupport.waitUntil { workers.allSatisfy { TestSupport.read("/proc/\($0)/comm").hasPrefix("hello-fcgi") } })
        for pid in workers {
            // Only 0 (the listening socket), 1 and 2, once the preloaded counter library has
            // mapped the scoreboard and closed its descriptor (it does so as the program loads).
            #expect(TestSupport.waitUntil {
                (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").sorted()) == ["0", "1", "2"]
            })
            let zero = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/0")) ?? ""
            #expect(zero.hasPrefix("socket:"))
            // Default signal dispositions (SIGPIPE is not ignored) and an empty mask, as exec'd.
            let status = TestSupport.read("/proc/\(pid)/status")
            #expect(status.contains("SigBlk:\t0000000000000000"))
        }
        var seen: Set<Int32> = []
        for i in 0..<20 {
            let body = Array(repeating: UInt8(ascii: "b"), count: 1000 + i)
            let r = try server.request("/hello?i=\(i)", method: "POST", body: body)
            #expect(r.status == 200)
            #expect(r.bodyText.contains("hello from libfcgi"))
            #expect(r.bodyText.contains("body \(1000 + i)\n"))
            #expect(r.bodyText.contains("web-server-addrs 127.0.0.1\n"))
            if let pid = Self.pid(of: r) { seen.insert(pid) }
        }
        #expect(seen.isSubset(of: workers))
    }

    @Test func aKilledExecWorkerIsReplaced() throws {
        let server = try Self.execServer()
        #expect(server.waitForWorkers(2))
        let victim = server.workers[0]
        kill(victim, SIGKILL)
        #expect(TestSupport.waitUntil { server.workers.count == 2 && !server.workers.contains(victim) })
        for _ in 0..<4 { #expect(try server.request("/after").status == 200) }
    }

    @Test func ondemandExecPoolStartsWorkersOnTheFirstConnection() throws {
        let server = try Self.execServer(pm: "pm = ondemand\npm.max_children = 2\npm.process_idle_timeout = 60s")
        #expect(server.workers.isEmpty)
        let r = try server.request("/first", timeout: 15)
        #expect(r.status == 200)
        #expect(server.workers.count >= 1)
    }

    @Test func dynamicExecPoolStartsItsStartServers() throws {
        let server = try Self.execServer(pm: "pm = dynamic\npm.max_children = 3\npm.start_servers = 2\npm.min_spare_servers = 1\npm.max_spare_servers = 2")
        #expect(server.waitForWorkers(2))
        for _ in 0..<6 { #expect(try server.request("/dyn").status == 200) }
        #expect(server.workers.count <= 3)
    }

    @Test func reloadReplacesExecWorkersAndKeepsServing() throws {
        let server = try Self.execServer()
        #expect(server.waitForWorkers(2))
        let before = Set(server.workers)
        server.child.signal(SIGUSR2)
        #expect(TestSupport.waitUntil(timeout: 20) {
            let now = Set(server.workers)
            return now.count == 2 && now.isDisjoint(with: before)
        })
        for _ in 0..<6 { #expect(try server.request("/reloaded").status == 200) }
        #expect(server.child.process.isRunning)
    }

    @Test func termStopsExecWorkersAndTheMaster() throws {
        let server = try Self.execServer()
        #expect(server.waitForWorkers(2))
        let workers = server.workers
        server.child.signal(SIGTERM)
        #expect(server.child.wait(timeout: 15) == 0 || !server.child.process.isRunning)
        #expect(TestSupport.waitUntil { workers.allSatisfy { TestSupport.isZombieOrGone($0) } })
    }

    @Test func anExecPoolOnAUnixSocketServesBehindNginx() throws {
        let server = try FPMServer(name: "exec-unix", pools: nil, binary: TestSupport.fpmPath, start: false)
        let program = try Self.buildLibfcgiExample(into: server.dir)
        let socket = server.dir + "/lib.sock"
        server.writeConfig(pools: """
        [lib]
        listen = \(socket)
        listen.mode = 0666
        pm = static
        pm.max_children = 2
        exec = \(program)
        """)
        try server.start()
        let nginx = try NginxServer(upstream: "unix:\(socket)", keepalive: 2)
        for i in 0..<5 {
            let r = try nginx.get("/via-nginx?n=\(i)", method: "POST", body: Array(repeating: 0x61, count: 50_000))
            #expect(r.status == 200)
            #expect(r.text.contains("body 50000\n"))
        }
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/php-cgi8.2"), "php8.2-cgi is not installed (make deps)"))
    func phpCgiServesPHPThroughAnExecPool() throws {
        let server = try FPMServer(name: "php", pools: """
        [php]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = 2
        exec = php-cgi8.2
        """, binary: TestSupport.fpmPath, start: false)
        let root = server.dir + "/www"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        TestSupport.write(root + "/index.php", """
        <?php
        header("X-Powered: swift-fpm");
        if ($_SERVER["REQUEST_METHOD"] === "POST") { http_response_code(201); }
        echo "php ", PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION, " pid ", getmypid(), " name=", $_POST["name"] ?? $_GET["name"] ?? "", "\\n";
        """)
        try server.start()
        #expect(server.waitForWorkers(2))
        func params(_ uri: String, _ method: String = "GET", _ extra: [(String, String)] = []) -> [(String, String)] {
            TestSupport.params(uri: uri, method: method, script: root + "/index.php").filter { $0.0 != "DOCUMENT_ROOT" }
                + [("DOCUMENT_ROOT", root)] + extra
        }
        let c = try server.client()
        let get = try c.request(params: params("/index.php?name=get"))
        c.close()
        #expect(get.status == 200)
        #expect(get.header("X-Powered") == "swift-fpm")
        #expect(get.bodyText.hasPrefix("php 8.2 pid "))
        #expect(get.bodyText.hasSuffix("name=get\n"))
        let body = Array("name=posted".utf8)
        let c2 = try server.client()
        let post = try c2.request(params: params("/index.php", "POST", [("CONTENT_TYPE", "application/x-www-form-urlencoded"),
                                                                         ("CONTENT_LENGTH", String(body.count))]), body: body)
        c2.close()
        #expect(post.status == 201)
        #expect(post.bodyText.hasSuffix("name=posted\n"))
    }
}
