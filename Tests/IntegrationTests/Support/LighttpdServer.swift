import Foundation
import Testing

/// A real lighttpd (mod_fastcgi) in front of swift-fpm: its own config, error log and upload
/// dir in a temp dir, in the foreground (`-D`), stopped by pid.
///
/// Each of `sites` is the body of one `$SERVER["socket"]` block on its own 127.0.0.1 port
/// (`ports[i]`), typically a `fastcgi.server = (…)`, so one lighttpd serves several setups.
final class LighttpdServer: FrontEndServer {
    let dir: String
    let ports: [Int]
    var child: ChildProcess!

    static var binary: String? {
        ["/usr/sbin/lighttpd", "/usr/bin/lighttpd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why the lighttpd tests cannot run here, or nil when they can.
    static var missing: String? {
        binary == nil ? "lighttpd is not installed: run `make deps` (CI installs it)" : nil
    }

    init(documentRoot: String, sites: [String]) throws {
        guard let binary = LighttpdServer.binary else { throw FPMServer.ServerError(LighttpdServer.missing!) }
        dir = TestSupport.makeTempDirectory("fronts-lighttpd")
        ports = distinctFreePorts(sites.count)
        try FileManager.default.createDirectory(atPath: dir + "/upload", withIntermediateDirectories: true)
        // The first site is the server's own port; the others are extra sockets.
        var conf = """
        server.document-root = "\(documentRoot)"
        server.bind = "127.0.0.1"
        server.port = \(ports[0])
        server.errorlog = "\(dir)/error.log"
        server.upload-dirs = ( "\(dir)/upload" )
        server.max-request-size = 65536
        server.modules += ( "mod_fastcgi" )

        """
        for (i, (site, port)) in zip(sites, ports).enumerated() {
            conf += i == 0 ? "\(site)\n" : "$SERVER[\"socket\"] == \"127.0.0.1:\(port)\" {\n\(site)\n}\n"
        }
        TestSupport.write(dir + "/lighttpd.conf", conf)
        child = try startForeground(binary, ["-D", "-f", dir + "/lighttpd.conf"]) { "\(errorLog)\nconfig:\n\(conf)" }
    }

    var errorLog: String { TestSupport.read(dir + "/error.log") }

    deinit { stopAndClean(child) }
}
