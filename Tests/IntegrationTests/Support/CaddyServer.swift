import Foundation
import Testing

/// A real Caddy (`reverse_proxy` + `transport fastcgi`, `php_fastcgi`) in front of swift-fpm:
/// its Caddyfile, HOME and XDG folders in a temp dir (Caddy writes its autosave and storage
/// there), no admin endpoint, no automatic HTTPS, in the foreground (`caddy run`), stopped by pid.
///
/// Each of `sites` is the body of one `http://127.0.0.1:PORT` site (`ports[i]`), bound to
/// 127.0.0.1. Caddy matches a site on the Host header: `get` sends `Host: 127.0.0.1:PORT`.
final class CaddyServer: FrontEndServer {
    let dir: String
    let ports: [Int]
    var child: ChildProcess!

    static var binary: String? {
        ["/usr/bin/caddy", "/usr/local/bin/caddy"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why the Caddy tests cannot run here, or nil when they can.
    static var missing: String? {
        binary == nil ? "caddy is not installed: run `make deps` (CI installs it)" : nil
    }

    /// HOME and XDG folders inside `dir`: Caddy writes its config autosave and its storage under
    /// them even with `admin off`, and the test's HOME may not be writable.
    static func environment(_ dir: String) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["HOME"] = dir
        env["XDG_CONFIG_HOME"] = dir + "/config"
        env["XDG_DATA_HOME"] = dir + "/data"
        return env
    }

    /// The global options every test Caddyfile starts with.
    static let globalOptions = """
    {
    \tadmin off
    \tauto_https off
    }

    """

    init(sites: [String]) throws {
        guard let binary = CaddyServer.binary else { throw FPMServer.ServerError(CaddyServer.missing!) }
        dir = TestSupport.makeTempDirectory("fronts-caddy")
        ports = distinctFreePorts(sites.count)
        var conf = CaddyServer.globalOptions
        for (site, port) in zip(sites, ports) {
            conf += "http://127.0.0.1:\(port) {\n\tbind 127.0.0.1\n\(site)\n}\n\n"
        }
        TestSupport.write(dir + "/Caddyfile", conf)
        child = try startForeground(binary, ["run", "--config", dir + "/Caddyfile", "--adapter", "caddyfile"],
                                    environment: CaddyServer.environment(dir)) { "config:\n\(conf)" }
    }

    /// One request to the `site`th port, with the Host its site address matches.
    func request(_ path: String, site: Int = 0, method: String = "GET", body: [UInt8] = [],
                 headers: [(String, String)] = []) throws -> HTTPResponse {
        try get(path, site: site, method: method, body: body, headers: [("Host", "127.0.0.1:\(ports[site])")] + headers)
    }

    /// What Caddy logged (JSON lines on stderr).
    var errorLog: String { child?.stderr ?? "" }

    deinit { stopAndClean(child) }
}
