import Foundation
import Testing

/// php-fpm 8.2 on an application host's namespace, in place of swift-fpm, for the figures the
/// suite measures beside swift-fpm's (a stop under load, a saturated host): a static pool
/// of `children` on the host's PHP port serving the same pages.
final class PHPFPMHost {
    let host: AppHost
    let dir: String
    var child: ChildProcess!

    init(on host: AppHost, children: Int = 3) throws {
        self.host = host
        dir = TestSupport.makeTempDirectory("multihost-php-fpm")
        TestSupport.write(dir + "/php-fpm.conf", """
        [global]
        pid = \(dir)/php-fpm.pid
        error_log = \(dir)/php-fpm.log
        daemonize = no
        process_control_timeout = 10s
        [www]
        user = root
        group = root
        listen = \(host.address):\(AppHost.phpPort)
        listen.backlog = 511
        pm = static
        pm.max_children = \(children)

        """)
        child = try host.network.spawn(in: host.namespace, PHPFPMServer.binary, ["-R", "-F", "-y", dir + "/php-fpm.conf"],
                                       directory: dir)
        let ok = TestSupport.waitUntil(timeout: 10) {
            TestSupport.read(dir + "/php-fpm.log").contains("ready to handle connections") || !child.process.isRunning
        }
        guard ok, child.process.isRunning else {
            throw FPMServer.ServerError("php-fpm did not start on \(host.name): \(child.stderr) \(TestSupport.read(dir + "/php-fpm.log"))")
        }
    }

    func stop() {
        child?.stop()
        for p in host.network.pids(in: host.namespace) { kill(p, SIGKILL) }
    }

    deinit {
        stop()
        if ProcessInfo.processInfo.environment["KEEP_TEST_DIRS"] == nil { try? FileManager.default.removeItem(atPath: dir) }
    }
}
