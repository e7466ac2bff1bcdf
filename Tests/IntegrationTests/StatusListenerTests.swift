import FastCGI
import FastCGIClient
import Foundation
import Testing

/// `pm.status_listen` served by the master itself, health endpoints and `fpmctl health`,
/// OpenMetrics parsed by a real parser, and the truthfulness of the status figures, all
/// through the real `fpm` binary.
@Suite(.serialized) struct StatusListenerTests {
    /// One request to a status listener (TCP `host:port` or a unix socket path).
    static func get(_ address: String, _ uri: String, method: String = "GET", timeout: Double = 5) throws -> FastCGIResponse {
        let c = try FastCGIClient(connectingTo: address, timeout: timeout)
        defer { c.close() }
        return try c.request(params: TestSupport.params(uri: uri, method: method))
    }

    /// The integer after `label:` on the text status page.
    static func field(_ page: String, _ label: String) -> Int? {
        for line in page.split(separator: "\n") where line.hasPrefix(label + ":") {
            return Int(line.dropFirst(label.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// One request to a pool's TCP port on a new connection; the answer is not needed.
    static func fire(port: Int, _ uri: String, script: String? = nil) {
        guard let c = try? FastCGIClient(connectingTo: "127.0.0.1:\(port)", timeout: 20) else { return }
        defer { c.close() }
        _ = try? c.request(params: TestSupport.params(uri: uri, script: script))
    }

    @Test func theMasterAnswersStatusPingAndHealthWhileEveryWorkerSleeps() throws {
        let statusPort = TestSupport.freePort()
        let status = "127.0.0.1:\(statusPort)"
        let server = try FPMServer(name: "status-listen", pool: """
        pm.status_path = /status
        ping.path = /ping
        pm.status_listen = \(status)
        """)
        #expect(server.waitForWorkers(2))
        #expect(try Self.get(status, "/ready").status == 200)
        // Both workers sleep...
        let port = server.port
        let sleepers = (0..<2).map { _ in BackgroundTask { Self.fire(port: port, "/sleep?ms=2500") } }
        var page = ""
        #expect(TestSupport.waitUntil(timeout: 5) {
            page = (try? Self.get(status, "/status"))?.bodyText ?? ""
            return Self.field(page, "active processes") == 2
        })
        // ...and three more requests wait in the (static) pool's listen queue.
        let waiting = (0..<3).map { _ in BackgroundTask { Self.fire(port: port, "/") } }
        #expect(TestSupport.waitUntil(timeout: 5) {
            page = (try? Self.get(status, "/status"))?.bodyText ?? ""
            return Self.field(page, "listen queue") == 3
        }, "the kernel's accept queue at the moment of the request: \(page)")
        #expect(Self.field(page, "idle processes") == 0)
        #expect(Self.field(page, "max listen queue") ?? 0 >= 3)
        #expect(Self.field(page, "listen queue len") == 4096)

        // Every format answers at once, though no worker is free.
        let start = Date()
        let r = try Self.get(status, "/status?json&full")
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed < 1, "status took \(elapsed) s under saturation")
        #expect(r.status == 200)
        #expect(r.header("Content-Type") == "application/json")
        let json = r.bodyText
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let processes = parsed?["processes"] as? [[String: Any]] ?? []
        #expect(processes.count == 2)
        #expect(processes.allSatisfy { $0["state"] as? String == "Running" && $0["request uri"] as? String == "/sleep?ms=2500" })
        for format in ["xml", "html", "openmetrics"] {
            #expect(try Self.get(status, "/status?\(format)&full").status == 200)
        }
        let ping = try Self.get(status, "/ping")
        #expect(ping.status == 200 && ping.bodyText == "pong")
        #expect(try Self.get(status, "/ping", method: "HEAD").body.isEmpty)

        // Health: live, not ready (no idle worker and more waiting than max_children).
        let live = try Self.get(status, "/live")
        #expect(live.status == 200 && live.bodyText.hasPrefix("live ("))
        let ready = try Self.get(status, "/ready")
        #expect(ready.status == 503)
        #expect(ready.bodyText.hasPrefix("not ready: no idle worker and 3 connections wait"))
        #expect(try Self.get(status, "/index.php").status == 404)
        // fpmctl health reads the queue the master's tick stored: exit 1 within a tick.
        var health = (status: Int32(-1), stdout: "", stderr: "")
        #expect(TestSupport.waitUntil(timeout: 3, interval: 0.1) {
            health = (try? server.fpmctl(["health", "--pid", server.pidPath])) ?? health
            return health.status == 1
        }, "fpmctl health: \(health)")
        #expect(health.stderr.contains("[pool www] not ready"))
        #expect(try server.fpmctl(["health", "--live", "--pid", server.pidPath]).status == 0)

        // A client that sends half a record and stalls, and one that sends garbage, hold up no one.
        let stalled = try FastCGIClient(connectingTo: status, timeout: 5)
        defer { stalled.close() }
        try stalled.sendRaw([1, 1, 0, 1, 0])
        let garbage = try FastCGIClient(connectingTo: status, timeout: 5)
        defer { garbage.close() }
        try garbage.sendRaw(Array("GET /status HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        #expect(try garbage.readAll().isEmpty, "garbage gets the connection closed, no answer")
        let again = Date()
        #expect(try Self.get(status, "/status").status == 200)
        let whileStalled = Date().timeIntervalSince(again)
        #expect(whileStalled < 1, "status took \(whileStalled) s beside a stalled client")

        for task in sleepers + waiting { #expect(task.wait(timeout: 20)) }
        #expect(TestSupport.waitUntil(timeout: 3) { (try? Self.get(status, "/ready"))?.status == 200 })
        #expect(TestSupport.waitUntil(timeout: 3, interval: 0.1) {
            (try? server.fpmctl(["health", "--pid", server.pidPath]))?.status == 0
        })
        // The master's own answers are not requests of the pool: only the workers' 5 count.
        #expect(Self.field(try Self.get(status, "/status").bodyText, "accepted conn") == 5)
        server.stop()
        let gone = try server.fpmctl(["health", "--pid", server.pidPath])
        #expect(gone.status == 2, "no master: \(gone)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/php-cgi8.2"), "php8.2-cgi is not installed (make deps)"))
    func anExecPoolGetsStatusAndHealthOnAUnixStatusSocket() throws {
        let server = try FPMServer(name: "status-exec", pools: """
        [php]
        listen = 127.0.0.1:{{PORT}}
        pm = static
        pm.max_children = 2
        exec = php-cgi8.2
        pm.status_listen = {{DIR}}/status.sock
        """, binary: TestSupport.fpmPath, start: false)
        let root = server.dir + "/www"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        TestSupport.write(root + "/sleep.php", "<?php usleep(((int)($_GET['ms'] ?? 100)) * 1000); echo 'slept';\n")
        try server.start()
        #expect(server.waitForWorkers(2))
        let status = server.dir + "/status.sock"
        let port = server.port
        let script = root + "/sleep.php"
        // No status_path: the status pool answers at "/", as php-fpm's does.
        var page = ""
        #expect(TestSupport.waitUntil(timeout: 5) {
            page = (try? Self.get(status, "/"))?.bodyText ?? ""
            return Self.field(page, "idle processes") == 2
        }, "\(page)")
        #expect(page.hasPrefix("pool:                 php\n"))
        let sleepers = (0..<2).map { _ in BackgroundTask { Self.fire(port: port, "/sleep.php?ms=2000", script: script) } }
        // php-cgi writes no scoreboard: the master sees its workers busy (not blocked in accept).
        #expect(TestSupport.waitUntil(timeout: 5) {
            page = (try? Self.get(status, "/"))?.bodyText ?? ""
            return Self.field(page, "active processes") == 2
        }, "\(page)")
        #expect(Self.field(page, "idle processes") == 0)
        let waiting = (0..<3).map { _ in BackgroundTask { Self.fire(port: port, "/sleep.php?ms=1", script: script) } }
        #expect(TestSupport.waitUntil(timeout: 5) { Self.field((try? Self.get(status, "/"))?.bodyText ?? "", "listen queue") == 3 })
        #expect(try Self.get(status, "/ready").status == 503)
        #expect(try Self.get(status, "/live").status == 200)
        #expect(try Self.get(status, "/index.php").status == 404, "the status socket runs no script")
        for task in sleepers + waiting { #expect(task.wait(timeout: 20)) }
        #expect(TestSupport.waitUntil(timeout: 3) { (try? Self.get(status, "/ready"))?.status == 200 })
        server.stop()
        #expect(!FileManager.default.fileExists(atPath: status), "the status socket is removed at exit")
    }

    @Test func listenQueueOfAUnixSocketPoolIsTheKernelsFromTheStart() throws {
        let server = try FPMServer(name: "status-unix", pools: """
        [www]
        listen = {{DIR}}/www.sock
        listen.backlog = 77
        pm = static
        pm.max_children = 1
        handler = testapp
        pm.status_listen = {{DIR}}/status.sock
        """)
        #expect(server.waitForWorkers(1))
        let socket = server.dir + "/www.sock"
        let status = server.dir + "/status.sock"
        @Sendable func request(_ uri: String) {
            guard let c = try? FastCGIClient(connectingTo: socket, timeout: 20) else { return }
            defer { c.close() }
            _ = try? c.request(params: TestSupport.params(uri: uri))
        }
        let sleeper = BackgroundTask { request("/sleep?ms=1500") }
        #expect(TestSupport.waitUntil(timeout: 5) { Self.field((try? Self.get(status, "/"))?.bodyText ?? "", "active processes") == 1 })
        let waiting = (0..<2).map { _ in BackgroundTask { request("/") } }
        var page = ""
        #expect(TestSupport.waitUntil(timeout: 5) {
            page = (try? Self.get(status, "/"))?.bodyText ?? ""
            return Self.field(page, "listen queue") == 2
        }, "\(page)")
        #expect(Self.field(page, "listen queue len") == 77)
        // fpmctl status (no listener of its own) shows what the master's tick stored.
        #expect(TestSupport.waitUntil(timeout: 3, interval: 0.1) {
            Self.field((try? server.fpmctl(["status", "--pid", server.pidPath]))?.stdout ?? "", "listen queue") == 2
        })
        for task in [sleeper] + waiting { #expect(task.wait(timeout: 20)) }
    }

    @Test func openMetricsParsesWithPrometheusClientAndCountsEveryRequest() throws {
        let statusPort = TestSupport.freePort()
        let status = "127.0.0.1:\(statusPort)"
        let server = try FPMServer(name: "status-metrics", pool: """
        pm.status_path = /status
        pm.status_listen = \(status)
        pm.max_requests = 1000
        """)
        #expect(server.waitForWorkers(2))
        let sent = 7
        for i in 0..<sent { #expect(try server.request(i == 0 ? "/sleep?ms=30" : "/?i=\(i)").status == 200) }
        // Requests end in the worker after the response is written: wait until all 7 are counted.
        var strict = ""
        #expect(TestSupport.waitUntil(timeout: 3) {
            strict = (try? Self.get(status, "/status?openmetrics&full&strict"))?.bodyText ?? ""
            return strict.contains("phpfpm_request_duration_seconds_count \(sent)\n")
        }, "\(strict)")
        let plain = try Self.get(status, "/status?openmetrics&full")
        #expect(plain.header("Content-Type") == "application/openmetrics-text; version=1.0.0; charset=utf-8")
        TestSupport.write(server.dir + "/strict.txt", strict)
        TestSupport.write(server.dir + "/plain.txt", plain.bodyText)
        TestSupport.write(server.dir + "/parse.py", """
        import json, sys
        from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
        from prometheus_client.parser import text_string_to_metric_families as prometheus
        out = {}
        for family in openmetrics(open(sys.argv[1]).read()):
            out[family.name] = {"type": family.type, "samples": [[s.name, s.labels, s.value] for s in family.samples]}
        # php-fpm's own page (counters without _total) with the Prometheus text parser.
        out["plain_types"] = {f.name: f.type for f in prometheus(open(sys.argv[2]).read())}
        print(json.dumps(out))
        """)
        let r = try runCommand("/usr/bin/env", ["python3", server.dir + "/parse.py", server.dir + "/strict.txt", server.dir + "/plain.txt"])
        #expect(r.status == 0, "the parser refused the page: \(r.stderr)")
        let families = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] ?? [:]
        func family(_ name: String) -> (type: String, samples: [[Any]]) {
            let f = families[name] as? [String: Any]
            return (f?["type"] as? String ?? "", f?["samples"] as? [[Any]] ?? [])
        }
        let histogram = family("phpfpm_request_duration_seconds")
        #expect(histogram.type == "histogram")
        let count = histogram.samples.first { $0[0] as? String == "phpfpm_request_duration_seconds_count" }?[2] as? Double
        #expect(count == Double(sent))
        let infinity = histogram.samples.first { ($0[1] as? [String: String])?["le"] == "+Inf" }?[2] as? Double
        #expect(infinity == Double(sent))
        // php-fpm's gauges keep their types; strict counters are `_total` families (see OpenMetricsRendering).
        for (name, type) in [("phpfpm_up", "gauge"), ("phpfpm_accepted_connections_total", "unknown"), ("phpfpm_listen_queue", "gauge"),
                             ("phpfpm_max_listen_queue_total", "unknown"), ("phpfpm_max_active_processes_total", "unknown"),
                             ("phpfpm_slow_requests_total", "unknown"), ("phpfpm_max_children", "gauge"), ("phpfpm_max_requests", "gauge"),
                             ("phpfpm_process_state", "gauge"), ("phpfpm_process_requests_total", "unknown")] {
            #expect(family(name).type == type, "\(name)")
        }
        #expect(family("phpfpm_accepted_connections_total").samples.first?[2] as? Double == Double(sent))
        #expect(family("phpfpm_max_requests").samples.first?[2] as? Double == 1000)
        #expect(family("phpfpm_process_state").samples.count == 2)
        let perWorker = family("phpfpm_process_requests_total").samples.compactMap { $0[2] as? Double }.reduce(0, +)
        #expect(perWorker == Double(sent))
        let plainTypes = families["plain_types"] as? [String: String] ?? [:]
        #expect(plainTypes["phpfpm_max_listen_queue"] == "counter" && plainTypes["phpfpm_max_active_processes"] == "counter")
        #expect(plainTypes["phpfpm_request_duration_seconds"] == "histogram")
    }

    @Test func nginxKeepsConnectionsToTheMastersStatusListener() throws {
        let statusPort = TestSupport.freePort()
        let server = try FPMServer(name: "status-nginx", pools: FPMServer.pool("""
        pm.status_path = /status
        ping.path = /ping
        pm.status_listen = 127.0.0.1:\(statusPort)
        """, children: 1))
        #expect(server.waitForWorkers(1))
        let nginx = try NginxServer(upstream: "127.0.0.1:\(statusPort)", keepalive: 2)
        let port = server.port
        let sleeper = BackgroundTask { Self.fire(port: port, "/sleep?ms=1500") }
        #expect(TestSupport.waitUntil(timeout: 5) { ((try? nginx.get("/status"))?.text).flatMap { Self.field($0, "active processes") } == 1 })
        let waiting = (0..<2).map { _ in BackgroundTask { Self.fire(port: port, "/") } }
        #expect(TestSupport.waitUntil(timeout: 5) { (try? nginx.get("/ready"))?.status == 503 })
        for _ in 0..<10 {
            let json = try nginx.get("/status?json")
            #expect(json.status == 200 && json.header("Content-Type") == "application/json")
            #expect(try nginx.get("/ping").text == "pong")
            #expect(try nginx.get("/live").status == 200)
        }
        #expect(try nginx.get("/index.php").status == 404)
        for task in [sleeper] + waiting { #expect(task.wait(timeout: 20)) }
        #expect(TestSupport.waitUntil(timeout: 3) { (try? nginx.get("/ready"))?.status == 200 })
    }

    @Test func aRespawnedWorkersSlotShowsNothingOfItsPredecessor() throws {
        let statusPort = TestSupport.freePort()
        let status = "127.0.0.1:\(statusPort)"
        let server = try FPMServer(name: "status-respawn", pools: FPMServer.pool("""
        pm.max_requests = 1
        pm.status_listen = \(status)
        """, children: 1))
        #expect(server.waitForWorkers(1))
        let first = server.workers.first
        #expect(try server.request("/echo?marker=predecessor", method: "POST", body: Array("x".utf8)).status == 200)
        var page = ""
        #expect(TestSupport.waitUntil(timeout: 5) {
            page = (try? Self.get(status, "/?full"))?.bodyText ?? ""
            return Self.field(page, "pid") != nil && Self.field(page, "pid").map(Int32.init) != first
        }, "\(page)")
        #expect(!page.contains("predecessor"), "\(page)")
        #expect(page.contains("request method:       -\n"))
        #expect(Self.field(page, "requests") == 0)
        #expect(Self.field(page, "content length") == 0)
    }

    @Test func previousGenerationWorkersLogTheirWholeLifetime() throws {
        let server = try FPMServer(name: "status-lifetime")
        #expect(server.waitForWorkers(2))
        Thread.sleep(forTimeInterval: 1.2)  // the workers' age is the point: they must be old enough to tell
        server.child.signal(SIGUSR2)
        #expect(server.waitForLog("(previous generation) exited", timeout: 10))
        let lines = server.log.split(separator: "\n").filter { $0.contains("(previous generation) exited") }
        for line in lines {
            let seconds = line.components(separatedBy: " after ").last.flatMap { Double($0.components(separatedBy: " ").first ?? "") }
            #expect((seconds ?? 0) >= 1.2, "\(line)")
        }
    }
}
