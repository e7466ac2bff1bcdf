import Foundation
import Testing

/// The three balancers of the multi-host suite, each in the test's namespace on 127.0.0.1,
/// in front of every host's two pools: `*.php` to the PHP pools (:9001), the rest to the
/// Swift pools (:9000). The settings are the ones docs/DEPLOYMENT.md recommends (the patterns
/// of examples/haproxy and examples/caddy, spread over several servers).
enum MultiHostFrontEndKind: String, CaseIterable {
    case nginx, haproxy, caddy
}

final class MultiHostFrontEnd {
    let kind: MultiHostFrontEndKind
    let dir: String
    let port: Int
    var child: ChildProcess!

    /// `addresses`: the application hosts. `statusListeners`: HAProxy's health checks ask the
    /// pools' status listeners for /ready (false: php-fpm, which has none: plain TCP checks).
    init(_ kind: MultiHostFrontEndKind, addresses: [String], www: String, statusListeners: Bool = true) throws {
        self.kind = kind
        dir = TestSupport.makeTempDirectory("multihost-\(kind.rawValue)")
        port = TestSupport.freePort()
        let binary: String?
        let arguments: [String]
        var environment: [String: String]? = nil
        switch kind {
        case .nginx:
            binary = NginxServer.binary
            for sub in ["tmp", "logs"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
            TestSupport.write(dir + "/nginx.conf", MultiHostFrontEnd.nginx(addresses: addresses, www: www, port: port, dir: dir))
            arguments = ["-p", dir, "-c", dir + "/nginx.conf"]
        case .haproxy:
            binary = HAProxyServer.binary
            TestSupport.write(dir + "/haproxy.cfg", MultiHostFrontEnd.haproxy(addresses: addresses, www: www, port: port,
                                                                                     readiness: statusListeners))
            arguments = ["-db", "-f", dir + "/haproxy.cfg"]
        case .caddy:
            binary = CaddyServer.binary
            TestSupport.write(dir + "/Caddyfile", MultiHostFrontEnd.caddy(addresses: addresses, www: www, port: port))
            arguments = ["run", "--config", dir + "/Caddyfile", "--adapter", "caddyfile"]
            environment = CaddyServer.environment(dir)
        }
        guard let binary else { throw FPMServer.ServerError("\(kind) is not installed: `make test-multihost` installs it") }
        child = try withDefaultSignalMask { try ChildProcess(binary, arguments, environment: environment, directory: dir) }
        let port = self.port
        guard TestSupport.waitUntil(timeout: 10, { TestSupport.canConnect(port: port) || !child.process.isRunning }),
              child.process.isRunning
        else { throw FPMServer.ServerError("\(kind) did not start: \(log)") }
    }

    /// What the front end logged (stderr, nginx's error log).
    var log: String { (child?.stderr ?? "") + TestSupport.read(dir + "/logs/error.log") }

    static func nginx(addresses: [String], www: String, port: Int, dir: String) -> String {
        // max_fails/fail_timeout: a host that refused or timed out is left alone for 5 s;
        // keepalive + fastcgi_keep_conn: connections to the pools are reused;
        // fastcgi_next_upstream: a refused connection, a timeout or a 503 goes to the next host
        // (nginx never sends a POST again once it reached a host: only idempotent requests are
        // retried after an error mid-request).
        // The PHP pools (`exec = php-cgi8.2`) get a connection per request: an external
        // program cannot hand its kept connections on at a reload as Swift workers do, and one
        // that exits (SIGTERM after its request) would close a kept connection nginx may be
        // sending the next request on (docs/DEPLOYMENT.md).
        func upstream(_ name: String, _ p: Int, keepalive: Bool) -> String {
            "upstream \(name) {\n" + addresses.map { "        server \($0):\(p) max_fails=1 fail_timeout=5s;\n" }.joined()
                + (keepalive ? "        keepalive 16;\n" : "") + "    }"
        }
        func common(keepConn: Bool) -> String { """
                    include /etc/nginx/fastcgi_params;
                    fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
                    fastcgi_keep_conn \(keepConn ? "on" : "off");
                    fastcgi_next_upstream error timeout http_503;
                    fastcgi_next_upstream_tries 3;
                    fastcgi_connect_timeout 1s;
                    fastcgi_read_timeout 10s;
        """
        }
        return NginxConfiguration.main(dir: dir, workerConnections: 1024, http: """
            \(upstream("swift", AppHost.swiftPort, keepalive: true))
            \(upstream("php", AppHost.phpPort, keepalive: false))
            server {
                listen 127.0.0.1:\(port);
                root \(www);
                location ~ \\.php$ {
                    fastcgi_pass php;
        \(common(keepConn: false))
                }
                location / {
                    fastcgi_pass swift;
        \(common(keepConn: true))
                }
            }
        """)
    }

    static func haproxy(addresses: [String], www: String, port: Int, readiness: Bool = true) -> String {
        // Health checks ask each pool's status listener (`check port`) for /ready over FastCGI:
        // a host that drains or stops is taken out within inter × fall. maxconn = the pool's
        // workers: HAProxy queues the rest. retry-on + redispatch: a refused connection, an
        // empty answer or a 503 is tried on another server (a POST only after a refused connection).
        func servers(_ p: Int, _ statusPort: Int) -> String {
            addresses.enumerated().map { i, a in
                "    server h\(i + 1) \(a):\(p) proto fcgi check\(readiness ? " port \(statusPort)" : "") inter 300ms fall 2 rise 2 maxconn 3\n"
            }.joined()
        }
        let check = readiness ? "    option httpchk GET /ready\n    http-check expect status 200" : ""
        return """
        global
            log stderr format raw local0 notice
            nbthread 1

        defaults
            mode http
            log global
            timeout connect 1s
            timeout client 30s
            timeout server 10s
            timeout queue 10s
            retries 3
            option redispatch 1
            retry-on conn-failure empty-response response-timeout 503

        frontend site
            bind 127.0.0.1:\(port)
            # A POST may have run before its answer was lost: retried only when it never
            # reached a host (a refused connection), never twice.
            http-request disable-l7-retry if METH_POST
            use_backend php if { path_end .php }
            default_backend swift

        backend swift
            use-fcgi-app swift_app
            balance roundrobin
        \(check)
        \(servers(AppHost.swiftPort, AppHost.swiftStatusPort))
        backend php
            use-fcgi-app php_app
            balance roundrobin
        \(check)
        \(servers(AppHost.phpPort, AppHost.phpStatusPort))
        fcgi-app swift_app
            docroot \(www)
            option keep-conn

        # No keep-conn for the PHP pools: a php-cgi process serves one connection at a time, so
        # an idle kept connection holds a whole worker (and one that exits after a reload's
        # SIGTERM closes it under a request in flight).
        fcgi-app php_app
            docroot \(www)
            index index.php
            path-info ^(/.+\\.php)(/.*)?$

        """
    }

    static func caddy(addresses: [String], www: String, port: Int) -> String {
        // Passive health checks only (active ones panic with the FastCGI transport in 2.6.2):
        // a host that failed is skipped for fail_duration; lb_try_duration retries a refused
        // connection on the next host.
        let php = addresses.map { "\($0):\(AppHost.phpPort)" }.joined(separator: " ")
        let swift = addresses.map { "\($0):\(AppHost.swiftPort)" }.joined(separator: " ")
        let balancing = """
        \t\t\tlb_policy round_robin
        \t\t\tlb_try_duration 5s
        \t\t\tlb_try_interval 100ms
        \t\t\tfail_duration 5s
        \t\t\tmax_fails 1
        \t\t\tunhealthy_status 503
        \t\t\theader_down -Status
        """
        return """
        {
        \tadmin off
        \tauto_https off
        }

        http://:\(port) {
        \tbind 127.0.0.1
        \troot * \(www)
        \t@php path *.php
        \thandle @php {
        \t\tphp_fastcgi \(php) {
        \(balancing)
        \t\t}
        \t}
        \thandle {
        \t\treverse_proxy \(swift) {
        \t\t\ttransport fastcgi {
        \t\t\t\troot \(www)
        \t\t\t}
        \(balancing)
        \t\t}
        \t}
        }

        """
    }

    deinit {
        child?.stop()
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }
}
