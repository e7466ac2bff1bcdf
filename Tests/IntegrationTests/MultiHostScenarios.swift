import Foundation
import Testing

/// The multi-host suite's scenarios (MultiHostTests runs them through each front end): each
/// starts the load, does something to the hosts, lets the load go on, stops it, checks the
/// shared table and records a line of figures.
final class MultiHostScenarios {
    let cluster: MultiHostCluster
    private(set) var figures: [String] = []
    let run = String(UUID().uuidString.prefix(6))
    /// Clients of the ordinary load (3 hosts × 3 workers per pool: busy, not saturated).
    static let clients = 6

    init(cluster: MultiHostCluster) { self.cluster = cluster }

    var hosts: [AppHost] { cluster.hosts }

    /// Every kind of request answers through `frontEnd` before the scenarios.
    func warmUp(_ frontEnd: MultiHostFrontEnd) throws {
        try #require(cluster.waitAllReady(), "hosts not ready before \(frontEnd.kind)")
        let answered = TestSupport.waitUntil(timeout: 15, interval: 0.2) {
            let php = try? HTTPClient.request(port: frontEnd.port, method: "GET", path: "/read.php", body: [], headers: [])
            let swift = try? HTTPClient.request(port: frontEnd.port, method: "GET", path: "/pid", body: [], headers: [])
            return php?.status == 200 && swift?.status == 200
        }
        try #require(answered, "\(frontEnd.kind) does not answer: \(frontEnd.log.suffix(3000))")
    }

    /// Runs the load through `frontEnd` around `action`, checks the table, records the figures.
    @discardableResult
    func measure(_ frontEnd: MultiHostFrontEnd, _ name: String, server: String = "swift-fpm", clients: Int = clients,
                 query: String = "", onlyPHP: Bool = false, _ action: (MultiHostLoad) throws -> Void) throws -> MultiHostLoad.Outcome {
        let prefix = "\(run)-\(server.filter { $0.isLetter || $0.isNumber })-\(frontEnd.kind)-\(figures.count)"
        let load = MultiHostLoad(port: frontEnd.port, clients: clients, prefix: prefix, onlyPHP: onlyPHP, query: query)
        load.waitForProgress(40)
        do { try action(load) } catch {
            _ = load.finish()
            throw error
        }
        load.waitForProgress(80)
        let outcome = load.finish()
        let (problems, landed) = try MultiHostLoad.check(outcome, prefix: prefix, database: cluster.database)
        #expect(problems.isEmpty, "\(server) behind \(frontEnd.kind), \(name): \(problems)")
        figures.append("\(server) behind \(frontEnd.kind), \(name): \(outcome.requests) requests, \(outcome.failed) failed "
            + "(\(outcome.failedPosts) POST, \(outcome.failedGets) GET), \(outcome.writesAnswered.count) writes answered once, "
            + "\(landed) failed writes landed once, slowest \(Int(outcome.slowest * 1000)) ms "
            + "(PHP write, Swift relay, PHP read, Swift read: \(outcome.slowestByKind.map { String(Int($0 * 1000)) }.joined(separator: ", ")) ms)"
            + (outcome.failures.isEmpty ? "" : "; e.g. \(outcome.failures.prefix(ProcessInfo.processInfo.environment["FPM_MULTIHOST_VERBOSE"] == nil ? 2 : 20))"))
        if outcome.failed > 0 { print("multihost: \(frontEnd.kind) log after \(name):\n\(frontEnd.log.suffix(1500))") }
        return outcome
    }

    /// `fpmctl reload` of each host in turn, each once the previous one serves again.
    func rollingReload(_ frontEnd: MultiHostFrontEnd) throws {
        let outcome = try measure(frontEnd, "rolling reload") { load in
            for host in hosts {
                let r = try host.fpmctl(["reload"])
                #expect(r.status == 0, "\(host.name): fpmctl reload: \(r.stdout)\(r.stderr)")
                load.waitForProgress(20)
            }
        }
        if Self.asserts(frontEnd) { #expect(outcome.failed == 0, "\(frontEnd.kind) rolling reload: \(outcome.failures)") }
    }

    /// A new build at each host's binary path, then `fpmctl reload`: the master re-executes
    /// the new file (its /proc exe is no longer the deleted old one).
    func rollingUpgrade(_ frontEnd: MultiHostFrontEnd) throws {
        let outcome = try measure(frontEnd, "rolling upgrade") { load in
            for host in hosts {
                try host.install(build: TestSupport.testAppPath)
                #expect(host.runningExecutable.hasSuffix(" (deleted)"), "\(host.name) runs \(host.runningExecutable)")
                let r = try host.fpmctl(["reload"])
                #expect(r.status == 0, "\(host.name): fpmctl reload: \(r.stdout)\(r.stderr)")
                #expect(host.runningExecutable == host.binary, "\(host.name) runs \(host.runningExecutable) after the upgrade")
                load.waitForProgress(20)
            }
        }
        if Self.asserts(frontEnd) { #expect(outcome.failed == 0, "\(frontEnd.kind) rolling upgrade: \(outcome.failures)") }
    }

    /// SIGQUIT (php-fpm's graceful stop, what swift-fpm had before drains) of one host, then
    /// it starts again. Figures only: this is what the drain scenario improves on.
    func quitOneHost(_ frontEnd: MultiHostFrontEnd) throws {
        let host = hosts[0]
        try measure(frontEnd, "SIGQUIT of one host (no drain)") { load in
            host.child?.signal(SIGQUIT)
            #expect(host.child?.wait(timeout: 20) == 0, "\(host.name) after SIGQUIT: \(host.log.suffix(2000))")
            load.waitForProgress(40)
        }
        try restart(host)
    }

    /// `fpmctl drain`, then SIGTERM with `graceful_sigterm = yes`: 0 failed. Needs both
    /// features (h20-stops); without them the test records that they are missing.
    func drainAndStop(_ frontEnd: MultiHostFrontEnd) throws {
        let host = hosts[0]
        let probe = host.accepts(global: "graceful_sigterm = yes")
        guard probe.ok else {
            Issue.record("graceful_sigterm is missing from this build (fpm -t: \(probe.output.prefix(300))): the drain-and-stop scenario did not run")
            figures.append("swift-fpm behind \(frontEnd.kind), drain then SIGTERM: NOT RUN (graceful_sigterm missing)")
            return
        }
        host.configure(global: "graceful_sigterm = yes")
        let reloaded = try host.fpmctl(["reload"])
        #expect(reloaded.status == 0, "\(reloaded.stderr)")
        /// Whether HAProxy's last word on `server` is that it is DOWN (it may still have been
        /// down from the previous scenario's restart when the drain began).
        func isDown(in log: String, _ server: String) -> Bool {
            guard let down = log.range(of: "Server \(server) is DOWN", options: .backwards) else { return false }
            guard let up = log.range(of: "Server \(server) is UP", options: .backwards) else { return true }
            return down.lowerBound > up.lowerBound
        }
        let outcome = try measure(frontEnd, "drain then SIGTERM") { load in
            let drain = try host.fpmctl(["drain"])
            #expect(drain.status == 0, "fpmctl drain: \(drain.stdout)\(drain.stderr)")
            #expect(TestSupport.waitUntil(timeout: 5) { !cluster.isReady(host) }, "/ready still 200 while draining")
            // As an operator would (docs/DEPLOYMENT.md): the stop comes once the balancer has
            // taken the host out. HAProxy does on its health checks (inter × fall); nginx and
            // Caddy check nothing and learn it from the refused connections of the stop.
            if frontEnd.kind == .haproxy {
                #expect(TestSupport.waitUntil(timeout: 5) {
                    let log = frontEnd.log
                    return ["swift", "php"].allSatisfy { isDown(in: log, "\($0)/h1") }
                }, "HAProxy did not take h1 out after the drain: \(frontEnd.log.suffix(1000))")
            }
            load.waitForProgress(40)
            host.child?.signal(SIGTERM)
            #expect(host.child?.wait(timeout: 20) == 0, "\(host.name) after SIGTERM: \(host.log.suffix(2000))")
            load.waitForProgress(40)
        }
        if Self.asserts(frontEnd) { #expect(outcome.failed == 0, "\(frontEnd.kind) drain then SIGTERM: \(outcome.failures)") }
        host.configure()
        try restart(host)
    }

    /// One host with one worker per pool and `pm.max_queue_wait`, at about twice what it can
    /// serve (12 clients, 100 ms a request): its excess is answered 503 at once and served
    /// elsewhere. Needs pm.max_queue_wait (h20-admit); without it the test records that.
    func saturate(_ frontEnd: MultiHostFrontEnd) throws {
        let host = hosts[2]
        let limit = "pm.max_queue_wait = 150ms"
        let probe = host.accepts(swiftPool: limit)
        guard probe.ok else {
            Issue.record("pm.max_queue_wait is missing from this build (fpm -t: \(probe.output.prefix(300))): the saturation scenario did not run")
            figures.append("swift-fpm behind \(frontEnd.kind), one host saturated: NOT RUN (pm.max_queue_wait missing)")
            return
        }
        // The PHP pool's external program accepts on its own: pm.max_queue_wait is a Swift
        // pool's (an exec pool refuses it), so the PHP pool queues as php-fpm's would.
        host.configure(swiftChildren: 1, phpChildren: 1, swiftPool: limit)
        let reloaded = try host.fpmctl(["reload"])
        #expect(reloaded.status == 0, "\(reloaded.stderr)")
        let outcome = try measure(frontEnd, "one host saturated, pm.max_queue_wait = 150ms", clients: 12, query: "ms=100") { load in
            load.waitForProgress(300, timeout: 40)
        }
        // Every GET the saturated host could not take in time went elsewhere. A POST it answered
        // 503 is not sent again: nginx, HAProxy and Caddy resend a request that reached a host only
        // for idempotent methods (nginx's `non_idempotent` would, for every error, at the price of
        // writes done twice). What may fail is that 503, and nothing else: no 502, 504 or timeout.
        // Caddy 2.6 retries only what it could not connect to: a 503 answer goes back to the client.
        if frontEnd.kind == .nginx {
            #expect(outcome.failedGets == 0, "\(frontEnd.kind) saturated host: GETs failed: \(outcome.failures)")
            // The slowest request of each kind is printed, not bounded: the Swift reads a 503
            // sends elsewhere land on hosts near their own capacity (12 clients, 100 ms each),
            // whose Swift workers also wait on their PHP pools for the relays, which have no
            // limit (an exec pool cannot: its program accepts on its own). Measured: 150–811 ms.
        }
        if Self.asserts(frontEnd) {
            #expect(outcome.failures.allSatisfy { $0.contains(": 503 ") }, "\(frontEnd.kind) saturated host: \(outcome.failures)")
        }
        host.configure()
        _ = try host.fpmctl(["reload"])
    }

    /// Whether a scenario's bounds are asserted behind this front end. Behind HAProxy 2.6
    /// (fcgi-app) the figures are printed, not asserted: POSTs still fail there in reloads,
    /// stops and kills (502 "invalid or incomplete response" from the PHP pools, 504 on /relay;
    /// a SIGKILL once cost 32 POSTs where other runs cost 4), an open problem docs/DEPLOYMENT.md
    /// describes, not yet understood.
    static func asserts(_ frontEnd: MultiHostFrontEnd) -> Bool { frontEnd.kind != .haproxy }

    /// SIGKILL to every process of one host: only what it was serving fails (at most its six
    /// workers' requests, POSTs: a balancer does not send those twice); GETs are retried.
    func killOneHost(_ frontEnd: MultiHostFrontEnd) throws {
        let host = hosts[1]
        let outcome = try measure(frontEnd, "SIGKILL of one host") { load in
            host.killAll()
            load.waitForProgress(100)
        }
        if Self.asserts(frontEnd) {
            #expect(outcome.failedGets == 0, "\(frontEnd.kind): GETs failed after a host died: \(outcome.failures)")
            #expect(outcome.failedPosts <= 6, "\(frontEnd.kind): more POSTs failed than the dead host was serving: \(outcome.failures)")
        }
        try restart(host)
    }

    func restart(_ host: AppHost) throws {
        try host.start()
        try #require(TestSupport.waitUntil(timeout: 20) { cluster.isReady(host) }, "\(host.name) not ready after restart")
    }

    /// php-fpm 8.2 on the same hosts behind each front end (PHP pages only): SIGTERM and
    /// SIGQUIT of one host, one host saturated (one worker, no queue limit), measured as above.
    func phpFPMFigures() throws {
        for host in hosts { host.stop() }
        var servers = try hosts.map { try PHPFPMHost(on: $0) }
        for kind in MultiHost.frontEnds {
            let frontEnd = try MultiHostFrontEnd(kind, addresses: cluster.addresses, www: cluster.www, statusListeners: false)
            for (signal, name) in [(SIGTERM, "SIGTERM"), (SIGQUIT, "SIGQUIT")] {
                try measure(frontEnd, "\(name) of one host", server: "php-fpm 8.2", onlyPHP: true) { load in
                    servers[0].child.signal(signal)
                    servers[0].child.wait(timeout: 20)
                    load.waitForProgress(40)
                }
                servers[0].stop()
                servers[0] = try PHPFPMHost(on: hosts[0])
            }
            servers[2].stop()
            servers[2] = try PHPFPMHost(on: hosts[2], children: 1)
            try measure(frontEnd, "one host saturated (no queue limit)", server: "php-fpm 8.2", clients: 12, query: "ms=100",
                        onlyPHP: true) { load in
                load.waitForProgress(300, timeout: 40)
            }
            servers[2].stop()
            servers[2] = try PHPFPMHost(on: hosts[2])
        }
        for s in servers { s.stop() }
    }
}
