import Foundation
import Testing

/// A real Apache httpd (mod_proxy_fcgi) in front of swift-fpm: its own ServerRoot, pid file and
/// logs in a temp dir, a minimal module set loaded from the system's module folder, mpm_event
/// with one child process, in the foreground (not a daemon), stopped by pid.
///
/// Each of `sites` is the body of one `<VirtualHost>` on its own 127.0.0.1 port (`ports[i]`),
/// so one httpd serves several front-end setups at once.
final class ApacheServer: FrontEndServer {
    let dir: String
    let ports: [Int]
    var child: ChildProcess!

    static var binary: String? {
        ["/usr/sbin/apache2", "/usr/sbin/httpd"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var moduleDirectory: String {
        ["/usr/lib/apache2/modules", "/usr/lib64/httpd/modules", "/usr/lib/httpd/modules"]
            .first { FileManager.default.fileExists(atPath: $0 + "/mod_proxy_fcgi.so") } ?? "/usr/lib/apache2/modules"
    }

    /// Why the Apache tests cannot run here, or nil when they can.
    static var missing: String? {
        binary == nil ? "apache2 is not installed: run `make deps` (CI installs it)" : nil
    }

    static let modules = ["mpm_event", "authz_core", "proxy", "proxy_fcgi", "slotmem_shm", "proxy_balancer",
                          "lbmethod_byrequests"]

    init(documentRoot: String, sites: [String]) throws {
        guard let binary = ApacheServer.binary else { throw FPMServer.ServerError(ApacheServer.missing!) }
        dir = TestSupport.makeTempDirectory("fronts-apache")
        ports = distinctFreePorts(sites.count)
        try FileManager.default.createDirectory(atPath: dir + "/logs", withIntermediateDirectories: true)
        let modules = ApacheServer.modules.map { "LoadModule \($0)_module \(ApacheServer.moduleDirectory)/mod_\($0).so" }
        // httpd refuses to serve as root: its child then runs as nobody (the temp dirs are 0755).
        let identity = getuid() == 0 ? "User nobody\nGroup nogroup" : ""
        var conf = """
        ServerRoot \(dir)
        DefaultRuntimeDir \(dir)/logs
        PidFile \(dir)/httpd.pid
        ErrorLog \(dir)/logs/error.log
        LogLevel warn
        ServerName 127.0.0.1
        \(modules.joined(separator: "\n"))
        \(identity)
        StartServers 1
        ServerLimit 1
        ThreadLimit 16
        ThreadsPerChild 16
        MinSpareThreads 1
        MaxSpareThreads 16
        MaxRequestWorkers 16
        LimitRequestBody 0
        DocumentRoot \(documentRoot)
        <Directory \(documentRoot)>
            Require all granted
        </Directory>

        """
        for (site, port) in zip(sites, ports) {
            conf += "Listen 127.0.0.1:\(port)\n<VirtualHost 127.0.0.1:\(port)>\n\(site)\n</VirtualHost>\n"
        }
        TestSupport.write(dir + "/httpd.conf", conf)
        child = try startForeground(binary, ["-d", dir, "-f", dir + "/httpd.conf", "-DFOREGROUND"]) { "\(errorLog)\nconfig:\n\(conf)" }
    }

    var errorLog: String { TestSupport.read(dir + "/logs/error.log") }

    deinit { stopAndClean(child) }
}
