import Foundation
import Testing

/// A real Caddy (2.6, Debian's) in front of swift-fpm with its FastCGI transport, on its own
/// port, with its admin API off and its state in a temp folder.
final class CaddyServer {
    let dir: String
    let port: Int
    var child: ChildProcess!

    static var binary: String? {
        ["/usr/bin/caddy", "/usr/local/bin/caddy"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `upstream` is the FastCGI address (`127.0.0.1:9000`).
    init(upstream: String) throws {
        guard let binary = CaddyServer.binary else {
            throw FPMServer.ServerError("caddy is not installed: run `make test`, which installs it")
        }
        dir = TestSupport.makeTempDirectory("caddy")
        port = TestSupport.freePort()
        let conf = """
        {
            admin off
            auto_https off
            storage file_system \(dir)/data
        }
        http://:\(port) {
            bind 127.0.0.1
            root * /srv
            reverse_proxy \(upstream) {
                transport fastcgi
            }
        }
        """
        TestSupport.write(dir + "/Caddyfile", conf)
        let environment = ["HOME": dir, "XDG_DATA_HOME": dir + "/data", "XDG_CONFIG_HOME": dir + "/config",
                           "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        child = try ChildProcess(binary, ["run", "--config", dir + "/Caddyfile", "--adapter", "caddyfile"],
                                 environment: environment, directory: dir)
        let port = self.port
        guard TestSupport.waitUntil(timeout: 10, { TestSupport.canConnect(port: port) }) else {
            throw FPMServer.ServerError("caddy did not start: \(child.stderr)")
        }
    }

    func get(_ path: String) throws -> HTTPResponse {
        try HTTPClient.request(port: port, method: "GET", path: path, body: [], headers: [])
    }

    deinit {
        child?.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
