import FastCGI
import FastCGIClient
import Foundation
import Glibc
import Testing

/// php-cgi under a reload and a graceful stop. php-cgi handles SIGTERM by finishing its request,
/// but the signal also interrupts the call the script is blocked in (its handler has no
/// SA_RESTART): a `usleep` returns early, a database read or opcache's lock fails. So the master
/// sends it only while the program waits in accept(), and, in a graceful stop, only once the
/// pool's listen queue is empty (`Master+ExecQuit`).
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/php-cgi8.2"), "php8.2-cgi is not installed (make deps)"))
struct PHPCGIStopTests {
    /// A one-process php-cgi pool with `sleep.php` (1.2 s, then whether the sleep was whole)
    /// and `echo.php`.
    static func server(_ name: String) throws -> (FPMServer, root: String) {
        let server = try FPMServer(name: name, pools: """
        [php]
        listen = 127.0.0.1:{{PORT}}
        exec = php-cgi8.2
        pm = static
        pm.max_children = 1
        """, binary: TestSupport.fpmPath, start: false)
        let root = server.dir + "/www"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        TestSupport.write(root + "/sleep.php", """
        <?php
        touch(__DIR__ . '/started');
        $t = microtime(true); usleep(1200000); $slept = microtime(true) - $t;
        echo $slept >= 1.15 ? "whole" : "cut short after " . round($slept, 3) . " s";
        """)
        TestSupport.write(root + "/echo.php", "<?php echo 'echo';\n")
        try server.start()
        #expect(server.waitForWorkers(1))
        return (server, root)
    }

    static func started(_ root: String) -> () -> Bool {
        { TestSupport.waitUntil(timeout: 10) { FileManager.default.fileExists(atPath: root + "/started") } }
    }

    @Test func aReloadLetsPHPCGIFinishItsRequestWhole() throws {
        let (server, root) = try Self.server("php-cgi-reload")
        let body = Box<String?>(nil)
        let address = "127.0.0.1:\(server.port)"
        let slow = BackgroundTask {
            guard let c = try? FastCGIClient(connectingTo: address, timeout: 30) else { return }
            defer { c.close() }
            if let r = try? c.request(params: TestSupport.params(uri: "/sleep.php", script: root + "/sleep.php")), r.status == 200 {
                body.value = r.bodyText
            }
        }
        #expect(Self.started(root)())
        let reload = try server.fpmctl(["reload"])
        #expect(reload.status == 0, "\(reload.stderr)")
        #expect(slow.wait(timeout: 20))
        // Before: SIGTERM at the reload cut the sleep short ("cut short after 0.0xx s").
        #expect(body.value == "whole")
        // The new generation serves.
        let c = try server.client()
        defer { c.close() }
        #expect(try c.request(params: TestSupport.params(uri: "/echo.php", script: root + "/echo.php")).bodyText == "echo")
    }

    @Test func aGracefulStopServesPHPCGIsWaitingConnections() throws {
        let (server, root) = try Self.server("php-cgi-quit")
        let outcome = GracefulStopTests.stopWithWaitingConnections(
            port: server.port, slow: TestSupport.params(uri: "/sleep.php", script: root + "/sleep.php"),
            quick: TestSupport.params(uri: "/echo.php", script: root + "/echo.php"),
            running: Self.started(root), stop: { server.child.signal(SIGQUIT) })
        print("swift-fpm, php-cgi pool, SIGQUIT: \(outcome)")
        #expect(outcome.inFlight == 200)
        #expect(outcome.waitingServed == outcome.waiting)
        #expect(server.child.wait(timeout: 15) == 0)
    }
}
