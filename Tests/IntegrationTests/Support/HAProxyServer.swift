import Foundation
import Testing

/// A real HAProxy (`fcgi-app`, `proto fcgi`) in front of swift-fpm: its config in a temp dir,
/// in the foreground (`-db`), its log on stderr, stopped by pid.
///
/// Each of `sites` is the body of one backend (typically `use-fcgi-app NAME` and a `server …
/// proto fcgi` line) behind its own frontend on a 127.0.0.1 port (`ports[i]`); `sections` are
/// added at the top level (the `fcgi-app` sections the backends use).
final class HAProxyServer: FrontEndServer {
    let dir: String
    let ports: [Int]
    var child: ChildProcess!

    static var binary: String? {
        ["/usr/sbin/haproxy", "/usr/bin/haproxy"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why the HAProxy tests cannot run here, or nil when they can.
    static var missing: String? {
        binary == nil ? "haproxy is not installed: run `make deps` (CI installs it)" : nil
    }

    /// The global and defaults sections every test configuration starts with: HTTP mode, the
    /// log on stderr (the test shows it when an expectation fails), timeouts a hung worker hits
    /// long before the test's own.
    static let preamble = """
    global
        log stderr format raw local0 info
        nbthread 1

    defaults
        mode http
        log global
        option httplog
        timeout connect 5s
        timeout client 30s
        timeout server 30s

    """

    init(sites: [String], sections: String) throws {
        guard let binary = HAProxyServer.binary else { throw FPMServer.ServerError(HAProxyServer.missing!) }
        dir = TestSupport.makeTempDirectory("fronts-haproxy")
        ports = distinctFreePorts(sites.count)
        var conf = HAProxyServer.preamble
        for (i, (site, port)) in zip(sites, ports).enumerated() {
            conf += "frontend site\(i)\n    bind 127.0.0.1:\(port)\n    default_backend site\(i)\n\n"
            conf += "backend site\(i)\n" + HAProxyServer.indent(site) + "\n"
        }
        conf += sections + "\n"
        try start(binary, conf)
    }

    /// A whole configuration (a shipped example with its addresses replaced) whose frontends
    /// listen on `ports`.
    init(configuration: String, ports: [Int]) throws {
        guard let binary = HAProxyServer.binary else { throw FPMServer.ServerError(HAProxyServer.missing!) }
        dir = TestSupport.makeTempDirectory("fronts-haproxy")
        self.ports = ports
        try start(binary, configuration)
    }

    private func start(_ binary: String, _ conf: String) throws {
        TestSupport.write(dir + "/haproxy.cfg", conf)
        child = try startForeground(binary, ["-db", "-f", dir + "/haproxy.cfg"]) { "config:\n\(conf)" }
    }

    /// `text`'s lines, each indented four spaces (a section's body).
    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "" : "    " + $0.drop { $0 == " " } }.joined(separator: "\n") + "\n"
    }

    /// What HAProxy logged (one line per request, health-check changes, warnings).
    var errorLog: String { child?.stderr ?? "" }

    deinit { stopAndClean(child) }
}
