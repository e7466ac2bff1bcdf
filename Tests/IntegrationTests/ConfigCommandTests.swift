import Foundation
import Testing

/// `fpm -t`, `-tt` and the command line, as php-fpm users run them.
@Suite struct ConfigCommandTests {
    func write(_ text: String) -> (dir: String, path: String) {
        let dir = TestSupport.makeTempDirectory("conf")
        let path = dir + "/fpm.conf"
        TestSupport.write(path, text)
        return (dir, path)
    }

    @Test func testFlagRejectsAPoolWithNeitherHandlerNorExec() throws {
        let dir = TestSupport.makeTempDirectory("conf")
        let path = dir + "/fpm.conf"
        TestSupport.write(path, """
        [global]
        error_log = /dev/stderr
        [www]
        listen = 127.0.0.1:9123
        pm = static
        pm.max_children = 1
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runCommand(TestSupport.fpmPath, ["-t", "-R", "-y", path])
        #expect(r.status == 78)
        #expect(r.stderr.contains("\(path):3: handler: the pool has neither 'handler' nor 'exec'"), "\(r.stderr)")
    }

    @Test func testFlagAcceptsAGoodFile() throws {
        let (dir, path) = write("""
        [global]
        error_log = /dev/stderr
        [www]
        listen = 127.0.0.1:9123
        pm = dynamic
        pm.max_children = 5
        pm.start_servers = 2
        pm.min_spare_servers = 1
        pm.max_spare_servers = 3
        handler = info
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runCommand(TestSupport.fpmPath, ["-t", "-R", "-y", path])
        #expect(r.status == 0)
        #expect(r.stderr.contains("configuration file \(path) test is successful"))
    }

    @Test func testFlagRejectsABrokenFileWithFileLineAndDirective() throws {
        let (dir, path) = write("""
        [global]
        error_log = /dev/stderr
        [www]
        listen = 127.0.0.1:9123
        pm = dynamic
        pm.max_children = 5
        pm.start_servers = 9
        pm.min_spare_servers = 1
        pm.max_spare_servers = 3
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runCommand(TestSupport.fpmPath, ["-t", "-y", path])
        #expect(r.status == 78)
        #expect(r.stderr.contains("\(path):7: pm.start_servers = 9"), "\(r.stderr)")
        #expect(r.stderr.contains("FPM initialization failed"))
    }

    @Test func unknownDirectiveRefusesToStart() throws {
        let (dir, path) = write("""
        [www]
        listen = 127.0.0.1:9124
        pm = static
        pm.max_children = 1
        bogus_directive = 1
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runCommand(TestSupport.fpmPath, ["-F", "-R", "-y", path], timeout: 20)
        #expect(r.status == 78)
        #expect(r.stderr.contains("\(path):5"))
        #expect(r.stderr.contains("bogus_directive"))
    }

    @Test func unknownHandlerIsAConfigurationError() throws {
        let (dir, path) = write("""
        [www]
        listen = 127.0.0.1:9125
        pm = static
        pm.max_children = 1
        handler = nosuchapp
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runCommand(TestSupport.fpmPath, ["-t", "-y", path])
        #expect(r.status == 78)
        #expect(r.stderr.contains("\(path):5: handler = nosuchapp"), "\(r.stderr)")
    }

    @Test func doubleTestPrintsAConfigurationThatReadsBackTheSame() throws {
        let (dir, path) = write("""
        [global]
        error_log = /dev/stderr
        log_level = warning
        [www]
        listen = 127.0.0.1:9126
        pm = ondemand
        pm.max_children = 7
        pm.process_idle_timeout = 5m
        env[FOO] = bar
        request_terminate_timeout = 30
        handler = info
        [api]
        listen = /tmp/api-\(UUID().uuidString.prefix(6)).sock
        pm = static
        pm.max_children = 3
        handler = cgi
        """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try runCommand(TestSupport.fpmPath, ["-tt", "-R", "-y", path])
        #expect(r.status == 0)
        #expect(r.stdout.contains("pm.process_idle_timeout = 5m"))
        #expect(r.stdout.contains("[api]"))
        let dumped = dir + "/dumped.conf"
        TestSupport.write(dumped, r.stdout)
        let again = try runCommand(TestSupport.fpmPath, ["-tt", "-R", "-y", dumped])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout == r.stdout)
    }

    @Test func usageErrorsExit64AndVersionPrints() throws {
        let bad = try runCommand(TestSupport.fpmPath, ["--no-such-flag"])
        #expect(bad.status == 64)
        let v = try runCommand(TestSupport.fpmPath, ["-v"])
        #expect(v.status == 0)
        #expect(v.stdout.hasPrefix("swift-fpm "))
        let h = try runCommand(TestSupport.fpmPath, ["-h"])
        #expect(h.status == 0)
        #expect(h.stdout.contains("--fpm-config"))
    }

    @Test func shippedConfLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let r = try runCommand(TestSupport.fpmPath, ["-t", "-y", root + "/conf/fpm.conf"])
        #expect(r.status == 0, "\(r.stderr)")
    }
}
