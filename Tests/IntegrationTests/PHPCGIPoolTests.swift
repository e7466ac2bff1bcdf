import FastCGI
import FastCGIClient
import Foundation
import Testing

/// A php-fpm pool moved to `exec = php-cgi8.2`: the php_* lines reach PHP as -d settings,
/// pm.max_requests alone recycles php-cgi (its own 500-request limit is lifted), and the status
/// counts an exec pool's requests exactly (libFPMExecCounter.so, preloaded into the program).
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/php-cgi8.2"), "php8.2-cgi is not installed (make deps)"))
struct PHPCGIPoolTests {
    /// A php-cgi pool on the server's port serving `dir/www/info.php`, which prints the ini
    /// values and environment variables named in its query string.
    static func phpServer(_ lines: String) throws -> (FPMServer, script: String) {
        let server = try FPMServer(name: "php-cgi", pools: """
        [php]
        listen = 127.0.0.1:{{PORT}}
        exec = php-cgi8.2
        \(lines)
        """, binary: TestSupport.fpmPath, start: false)
        let root = server.dir + "/www"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        TestSupport.write(root + "/info.php", """
        <?php
        foreach (explode(",", $_GET["ini"] ?? "") as $k) { if ($k !== "") echo "ini ", $k, "=", var_export(ini_get($k), true), "\\n"; }
        foreach (explode(",", $_GET["env"] ?? "") as $k) { if ($k !== "") echo "env ", $k, "=", var_export(getenv($k), true), "\\n"; }
        echo "pid ", getmypid(), "\\n";
        """)
        try server.start()
        return (server, root + "/info.php")
    }

    static func get(_ server: FPMServer, _ script: String, query: String = "", keep client: FastCGIClient? = nil) throws -> FastCGIResponse {
        let params = TestSupport.params(uri: "/info.php?" + query, script: script)
        if let client { return try client.request(params: params, keepConnection: true) }
        let c = try server.client()
        defer { c.close() }
        return try c.request(params: params)
    }

    static func pid(_ r: FastCGIResponse) -> Int32? {
        r.bodyText.split(separator: "\n").first { $0.hasPrefix("pid ") }.flatMap { Int32($0.dropFirst(4)) }
    }

    @Test func phpSettingsReachPHPAsDefinesAndThePHPCGIEnvironmentIsSet() throws {
        let (server, script) = try Self.phpServer("""
        pm = static
        pm.max_children = 1
        php_value[memory_limit] = 77M
        php_admin_value[error_reporting] = E_ALL & ~E_NOTICE
        php_flag[display_errors] = off
        php_admin_flag[log_errors] = on
        php_value[include_path] = .:/usr/share/php:/srv/lib
        """)
        #expect(server.waitForWorkers(1))
        let r = try Self.get(server, script, query: "ini=memory_limit,error_reporting,display_errors,log_errors,include_path&env=PHP_FCGI_MAX_REQUESTS,PHP_FCGI_CHILDREN,SWIFT_FPM_EXEC_COUNTER,LD_PRELOAD")
        #expect(r.status == 200)
        let body = r.bodyText
        #expect(body.contains("ini memory_limit='77M'\n"), "\(body)")
        #expect(body.contains("ini error_reporting='\(32767 & ~8)'\n"))
        #expect(body.contains("ini display_errors='0'\n"))
        #expect(body.contains("ini log_errors='1'\n"))
        #expect(body.contains("ini include_path='.:/usr/share/php:/srv/lib'\n"))
        // pm.max_requests (0) governs, not php-cgi's default of 500.
        #expect(body.contains("env PHP_FCGI_MAX_REQUESTS='0'\n"))
        #expect(body.contains("env PHP_FCGI_CHILDREN=false\n"))
        // The counter library took its variable and itself out of what scripts see.
        #expect(body.contains("env SWIFT_FPM_EXEC_COUNTER=false\n"))
        #expect(body.contains("env LD_PRELOAD=false\n"))
        #expect(!server.log.contains("PHP-only directive"))
        // php-cgi's command line carries them.
        let worker = try #require(server.workers.first)
        let cmdline = TestSupport.read("/proc/\(worker)/cmdline").split(separator: "\0").map(String.init)
        #expect(cmdline.starts(with: ["php-cgi8.2", "-d", "memory_limit=77M"]))
        // The counter's scoreboard descriptor is closed once mapped (php-cgi opens its own).
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(worker)/fd")) ?? []
        #expect(!fds.isEmpty && fds.allSatisfy { fd in
            !((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(worker)/fd/\(fd)")) ?? "").hasSuffix(".scoreboard")
        })
    }

    /// pm.max_requests = 0: never recycled, not even past php-cgi's own 500 (kept FastCGI
    /// connections count too: php-cgi counts requests, not connections).
    @Test func phpCGIIsNotRespawnedWithMaxRequestsZero() throws {
        // One worker takes all 600, past php-cgi's own limit.
        let (server, script) = try Self.phpServer("pm = static\npm.max_children = 1\npm.max_requests = 0")
        #expect(server.waitForWorkers(1))
        let before = Set(server.workers)
        for _ in 0..<300 { #expect(try Self.get(server, script).status == 200) }
        // Opened only now: the one worker would otherwise take it first and wait on it.
        let client = try server.client()
        defer { client.close() }
        for _ in 0..<300 { #expect(try Self.get(server, script, keep: client).status == 200) }
        #expect(Set(server.workers) == before)
        #expect(Self.startedWorkers(server) == 1)
    }

    /// pm.max_requests = 50 recycles php-cgi after exactly 50 requests, then the master starts another.
    @Test func phpCGIIsRecycledAfterPMMaxRequests() throws {
        let (server, script) = try Self.phpServer("pm = static\npm.max_children = 1\npm.max_requests = 50")
        #expect(server.waitForWorkers(1))
        var served: [Int32: Int] = [:]
        var order: [Int32] = []
        for _ in 0..<120 {
            let r = try Self.get(server, script, query: "env=PHP_FCGI_MAX_REQUESTS")
            #expect(r.status == 200)
            #expect(r.bodyText.contains("env PHP_FCGI_MAX_REQUESTS='50'\n"))
            guard let pid = Self.pid(r) else { continue }
            if served[pid] == nil { order.append(pid) }
            served[pid, default: 0] += 1
        }
        #expect(order.count == 3)
        #expect(order.map { served[$0] ?? 0 } == [50, 50, 20])
        #expect(server.waitForLog("child \(order[1]) exited"))
    }

    /// N requests (new connections, a kept FastCGI connection, and nginx with keep-alive) →
    /// `accepted conn` N and the workers' `requests` summing to N.
    @Test func statusCountsAnExecPoolsRequestsExactly() throws {
        let (server, script) = try Self.phpServer("pm = static\npm.max_children = 3")
        #expect(server.waitForWorkers(3))
        for _ in 0..<40 { #expect(try Self.get(server, script).status == 200) }
        let client = try server.client()
        for _ in 0..<40 { #expect(try Self.get(server, script, keep: client).status == 200) }
        client.close()
        let nginx = try NginxServer(upstream: "127.0.0.1:\(server.port)", keepalive: 4,
                                    documentRoot: PHPCGIPoolTests.documentRoot(of: script))
        for _ in 0..<40 { #expect(try nginx.get("/info.php").status == 200) }
        let (accepted, perWorker) = try Self.counts(server)
        #expect(accepted == 120)
        #expect(perWorker.values.reduce(0, +) == 120)
        #expect(Set(perWorker.keys) == Set(server.workers))
        // The text page says the same.
        let text = try server.fpmctl(["status", "--pid", server.pidPath]).stdout
        #expect(text.split(separator: "\n").contains { $0.hasPrefix("accepted conn:") && $0.hasSuffix(" 120") }, "\(text)")
    }

    /// Not only php-cgi: a libfcgi program's pool is counted the same way.
    @Test func statusCountsALibfcgiExecPoolsRequestsExactly() throws {
        let server = try ExecPoolTests.execServer()
        #expect(server.waitForWorkers(2))
        for i in 0..<25 { #expect(try server.request("/count?i=\(i)").status == 200) }
        let (accepted, perWorker) = try Self.counts(server)
        #expect(accepted == 25)
        #expect(perWorker.values.reduce(0, +) == 25)
    }

    /// The master's "child N started" lines.
    static func startedWorkers(_ server: FPMServer) -> Int {
        server.log.split(separator: "\n").filter { $0.contains("] child ") && $0.hasSuffix(" started") }.count
    }

    static func documentRoot(of script: String) -> String {
        String(script[..<script.lastIndex(of: "/")!])
    }

    /// `accepted conn` and each worker's `requests`, from `fpmctl status --full --format json`.
    static func counts(_ server: FPMServer) throws -> (Int, [Int32: Int]) {
        let out = try server.fpmctl(["status", "--pid", server.pidPath, "--full", "--format", "json"]).stdout
        let json = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(out)")
        let accepted = try #require(json["accepted conn"] as? Int, "\(out)")
        var perWorker: [Int32: Int] = [:]
        for process in (json["processes"] as? [[String: Any]]) ?? [] {
            if let pid = process["pid"] as? Int, let requests = process["requests"] as? Int { perWorker[Int32(pid)] = requests }
        }
        return (accepted, perWorker)
    }
}
