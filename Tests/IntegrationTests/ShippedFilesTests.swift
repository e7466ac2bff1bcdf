import Foundation
import Testing

/// The files swift-fpm ships say what is true: README's claim about which configuration
/// `swift run fpm` loads, and the logrotate snippet (examples/systemd/logrotate.conf), run by
/// the real logrotate against the real binaries.
@Suite(.serialized) struct ShippedFilesTests {
    /// The checkout this test was built from.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let logrotate = "/usr/sbin/logrotate"

    /// `fpm -t` started in `directory`: what it printed.
    static func testConfiguration(in directory: String) throws -> (status: Int32, output: String) {
        let r = try runCommand("/bin/sh", ["-c", "cd \"$1\" && exec \"$2\" -t 2>&1", "sh", directory, TestSupport.fpmPath])
        return (r.status, r.stdout + r.stderr)
    }

    @Test func swiftRunFpmLoadsTheCheckoutsConfAsTheReadmeSays() throws {
        let readme = TestSupport.read(Self.root + "/README.md")
        #expect(readme.contains("swift run fpm      # runs the server on conf/fpm.conf"), "README's claim changed: update this test")
        let checkout = try Self.testConfiguration(in: Self.root)
        #expect(checkout.status == 0 && checkout.output.contains("configuration file conf/fpm.conf test is successful"),
                "\(checkout.output)")
        let empty = TestSupport.makeTempDirectory("no-conf")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let elsewhere = try Self.testConfiguration(in: empty)
        let installed = FileManager.default.fileExists(atPath: "/etc/swift-fpm/fpm.conf")
        let expected = installed ? "/etc/swift-fpm/fpm.conf" : "(embedded default)"
        #expect(elsewhere.status == 0 && elsewhere.output.contains("configuration file \(expected) test is successful"),
                "\(elsewhere.output)")
    }

    /// The snippet with `make install`'s substitutions, the binaries and `sysconfdir` filled in,
    /// and (when `logs` is given) its log folder moved there.
    static func snippet(sysconfdir: String, logs: String? = nil) -> String {
        var text = TestSupport.read(root + "/examples/systemd/logrotate.conf")
            .replacingOccurrences(of: "@BINDIR@", with: TestSupport.binDirectory.path)
            .replacingOccurrences(of: "@SYSCONFDIR@", with: sysconfdir)
        if let logs { text = text.replacingOccurrences(of: "/var/log/swift-fpm/", with: logs + "/") }
        return text
    }

    @Test func theLogrotateSnippetIsValidAndMatchesTheShippedConfiguration() throws {
        let dir = TestSupport.makeTempDirectory("logrotate-d")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        TestSupport.write(dir + "/swift-fpm", Self.snippet(sysconfdir: "/etc/swift-fpm"))
        let r = try runCommand(Self.logrotate, ["-d", "-s", dir + "/state", dir + "/swift-fpm"])
        let output = r.stdout + r.stderr
        #expect(r.status == 0, "\(output)")
        #expect(output.contains("rotating pattern: /var/log/swift-fpm/*.log") && !output.lowercased().contains("error"), "\(output)")
        // Every log the shipped configuration writes is stderr, syslog, unset, or one the snippet rotates.
        let shipped = try runCommand(TestSupport.fpmPath, ["-tt", "-y", Self.root + "/conf/fpm.conf"])
        #expect(shipped.status == 0, "\(shipped.stderr)")
        let settings = (shipped.stdout + shipped.stderr).split(separator: "\n")
        let logs = settings.filter { $0.hasPrefix("error_log = ") || $0.hasPrefix("access.log = ") || $0.hasPrefix("slowlog = ") }
        #expect(logs.contains("error_log = /dev/stderr"), "\(settings)")
        for line in logs {
            let path = line.split(separator: "=", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
            #expect(path == "/dev/stderr" || path == "syslog" || (path.hasPrefix("/var/log/swift-fpm/") && path.hasSuffix(".log")),
                    "\(line) is not rotated by the snippet")
        }
    }

    @Test func logrotateReopensTheMastersLogAndExitsZeroWhenTheMasterIsStopped() throws {
        // The server's error log is its folder's error.log: the snippet rotates that folder's *.log.
        let server = try FPMServer(name: "logrotate", start: false)
        let logs = server.dir
        TestSupport.write(server.dir + "/swift-fpm", Self.snippet(sysconfdir: server.dir, logs: logs))
        var env = ProcessInfo.processInfo.environment
        env["SWIFT_FPM_RUNTIME_DIR"] = server.dir
        let arguments = ["-f", "-v", "-s", server.dir + "/state", server.dir + "/swift-fpm"]

        // Master stopped: the log is rotated, the postrotate script finds no master and exits 0.
        TestSupport.write(logs + "/error.log", "an old line\n")
        let stopped = try runCommand(Self.logrotate, arguments, environment: env)
        #expect(stopped.status == 0, "\(stopped.stdout)\(stopped.stderr)")
        #expect(FileManager.default.fileExists(atPath: logs + "/error.log.1"))

        // Master running: rotated, then reopened (the master writes a new error.log).
        try server.start()
        #expect(server.waitForWorkers(2))
        let running = try runCommand(Self.logrotate, arguments, environment: env)
        #expect(running.status == 0, "\(running.stdout)\(running.stderr)")
        #expect(TestSupport.read(logs + "/error.log.1").contains("ready to handle connections"))
        #expect(TestSupport.waitUntil(timeout: 5) {
            TestSupport.read(logs + "/error.log").contains("error log file re-opened")
        }, "the reopened error.log: \(TestSupport.read(logs + "/error.log"))")
        server.stop()
    }

    /// fpm.conf(5) lists every directive `fpm -tt` prints, and mandoc finds nothing to warn about.
    @Test func theDirectiveReferenceCoversEveryDirectiveAndLintsClean() throws {
        let dir = TestSupport.makeTempDirectory("fpm-conf-5")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let page = try runCommand("/bin/sh", ["-c", "\"$1\" --directive-reference \"$2\" > \"$3\"", "sh",
                                              TestSupport.fpmPath, Self.root + "/conf", dir + "/fpm.conf.5"])
        #expect(page.status == 0, "\(page.stderr)")
        let text = TestSupport.read(dir + "/fpm.conf.5")
        let lint = try runCommand("/usr/bin/mandoc", ["-T", "lint", "-W", "warning", dir + "/fpm.conf.5"])
        #expect(lint.status == 0 && lint.stdout.isEmpty, "\(lint.stdout)\(lint.stderr)")
        let settings = try runCommand(TestSupport.fpmPath, ["-tt", "-y", Self.root + "/conf/fpm.conf"])
        var names: Set<String> = []
        for line in (settings.stdout + settings.stderr).split(separator: "\n") {
            let body = line.hasPrefix(";") ? line.dropFirst() : line[...]
            guard let eq = body.firstRange(of: " = "), body.first?.isLetter == true else { continue }
            names.insert(String(body[..<eq.lowerBound].prefix { $0 != "[" }))
        }
        #expect(names.count > 40 && names.contains("pm.max_children") && names.contains("error_log"), "\(names)")
        for name in names { #expect(text.contains("\n.It Cm \(name)\n"), "fpm.conf(5) has no entry for \(name)") }
        #expect(!text.contains("As in php-fpm."), "a directive with no text")
        // The command line fpm(1) is made from: no `help` subcommand (fpm has none).
        let dump = try runCommand(TestSupport.fpmPath, ["--experimental-dump-help"])
        #expect(dump.status == 0 && dump.stdout.contains("\"commandName\" : \"fpm\"") && !dump.stdout.contains("subcommands"),
                "\(dump.stdout.prefix(400))")
    }
}
