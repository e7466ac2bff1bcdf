import Foundation
import FPMConfiguration
import Testing

@Suite struct RenderingTests {
    static let rich = """
        [global]
        pid = /run/fpm.pid
        error_log = syslog
        syslog.facility = local1
        log_level = warn
        emergency_restart_threshold = 3
        emergency_restart_interval = 90
        process.priority = 5
        rlimit_core = unlimited
        events.mechanism = epoll

        [api]
        listen = [::1]:9100
        listen.allowed_clients = 127.0.0.1,::1
        pm = ondemand
        pm.max_children = 8
        pm.process_idle_timeout = 2m
        pm.max_requests = 100
        pm.max_requests_jitter = 10
        ping.path = /ping
        ping.response = "it's ; $pool"
        access.log = /var/log/$pool.log
        access.format = "%R \\"%m %r\\" %s"
        access.suppress_path[] = /ping
        access.suppress_path[] = /health
        slowlog = /var/log/slow.log
        request_slowlog_timeout = 5s
        request_terminate_timeout = 1h
        security.limit_extensions = ""
        env[HOME] = $HOME
        env[SEMI] = "a;b"
        env[DOLLAR] = '$NOT_A_VAR'
        php_admin_value[memory_limit] = 64M
        exec = "/usr/bin/php-cgi -d \\"x=1 2\\" it\\'s"

        [web]
        listen = /run/web.sock
        listen.mode = 0600
        pm = dynamic
        pm.max_children = 10
        pm.min_spare_servers = 2
        pm.max_spare_servers = 6
        pm.status_path = /status
        pm.status_listen = 127.0.0.1:9101
        handler = echo
        security.limit_extensions = .php .cgi

        """

    @Test func renderedConfigurationReadsBackEqual() throws {
        let first = try load(Self.rich, environment: ["HOME": "/home/u"])
        let rendered = first.renderEffective()
        let second = try load(rendered, environment: ["HOME": "/home/u"])
        #expect(second.global == first.global)
        #expect(second.pools == first.pools)
        #expect(second.renderEffective() == rendered)
    }

    @Test func roundTripKeepsTrickyValues() throws {
        let pool = try load(Self.rich, environment: ["HOME": "/home/u"]).pool(named: "API")
        #expect(pool?.pingResponse == "it's ; api")
        #expect(pool?.exec == ["/usr/bin/php-cgi", "-d", "x=1 2", "it's"])
        #expect(pool?.environmentValue("DOLLAR") == "$NOT_A_VAR")
        #expect(pool?.securityLimitExtensions == [])
        #expect(pool?.accessFormat == "%R \"%m %r\" %s")
    }

    @Test func renderingIncludesDefaultsAndMarksUnsetOptionals() throws {
        let rendered = try load(minimalPool).renderEffective()
        #expect(rendered.hasPrefix("[global]\n;pid = ; not set\nerror_log = /dev/stderr\n"))
        #expect(rendered.contains("\n[www]\n;prefix = ; not set\n"))
        #expect(rendered.contains("\npm.max_spawn_rate = 32\n"))
        #expect(rendered.contains("\nlisten.mode = 0660\n"))
        #expect(rendered.contains("\npm.process_idle_timeout = 10s\n"))
        #expect(rendered.contains("\n;security.limit_extensions = ; not set: .php .phar (php-fpm's default)\n"))
        #expect(rendered.contains("\nhandler = info\n"))
    }

    @Test func theEmbeddedDefaultLoadsWithoutWarnings() {
        let configuration = ConfigurationLoader.loadEmbedded(environment: [:])
        #expect(configuration.path == nil)
        #expect(configuration.warnings.isEmpty)
        #expect(configuration.global.errorLog == "/dev/stderr")
        #expect(!configuration.global.daemonize)
        let pool = configuration.pools[0]
        #expect(configuration.pools.count == 1 && pool.name == "www")
        #expect(pool.listen == .tcp(host: "127.0.0.1", port: 9000))
        #expect(pool.pm == .dynamic)
        #expect([pool.maxChildren, pool.startServers, pool.minSpareServers, pool.maxSpareServers] == [5, 2, 1, 3] as [Int])
        #expect(pool.handler == "info")
        #expect(pool.statusPath == "/status" && pool.pingPath == "/ping")
    }

    /// The repository's conf/ directory, found from this source file.
    static var confDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("conf").path
    }

    @Test func shippedConfEqualsTheEmbeddedDefault() throws {
        let shipped = try ConfigurationLoader.load(path: Self.confDirectory + "/fpm.conf", environment: [:])
        let embedded = ConfigurationLoader.loadEmbedded(environment: [:])
        #expect(shipped.warnings.isEmpty)
        #expect(shipped.global == embedded.global)
        #expect(shipped.pools == embedded.pools)
        #expect(shipped.pools.first?.sourceFile == Self.confDirectory + "/pool.d/www.conf")
    }

    @Test func defaultConfigPathPrefersThePrefix() throws {
        let root = NSTemporaryDirectory() + "fpm-default-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(ConfigurationLoader.defaultConfigPath(prefix: root) == nil)
        _ = FileManager.default.createFile(atPath: root + "/etc/fpm.conf", contents: Data())
        #expect(ConfigurationLoader.defaultConfigPath(prefix: root) == root + "/etc/fpm.conf")
    }

    @Test func defaultErrorLogLivesUnderThePrefix() throws {
        #expect(try load(minimalPool, prefix: "/srv/fpm").global.errorLog == "/srv/fpm/log/fpm.log")
        #expect(try load("[global]\nerror_log = log/x.log\npid = run/fpm.pid\n" + minimalPool, prefix: "/srv").global.errorLog == "/srv/log/x.log")
        #expect(try load("[global]\npid = run/fpm.pid\n" + minimalPool, prefix: "/srv").global.pid == "/srv/run/fpm.pid")
    }

    @Test func pidOverrideReplacesPid() throws {
        let configuration = try ConfigurationLoader.load(
            text: "[global]\npid = /a.pid\n" + minimalPool, path: "t.conf", environment: [:], pidOverride: "/b.pid",
            fileSystem: .isolated)
        #expect(configuration.global.pid == "/b.pid")
    }

    @Test func diagnosticDescriptionFormat() {
        let diagnostic = ConfigurationDiagnostic(
            file: "conf/pool.d/www.conf", line: 12, directive: "pm.start_servers", value: "9",
            message: "must be between pm.min_spare_servers (1) and pm.max_spare_servers (3)")
        #expect(diagnostic.description == "conf/pool.d/www.conf:12: pm.start_servers = 9: must be between pm.min_spare_servers (1) and pm.max_spare_servers (3)")
    }
}

@Suite struct RenderedStringTests {
    static let trickyValues = [
        "a'b\"c", "$pool", "${HOME}", "$HOME", " lead", "trail ", "a\\b", "x;y", "#x", "tab\there", "é ü 漢字",
        "'", "\"", "''", "a=b!c~d&e|f^g(h)", "[x]", "\\\"", "$", "${", "$poolpool", "\u{0}",
    ]

    @Test(arguments: trickyValues) func stringValuesSurviveRenderAndReread(_ value: String) throws {
        var configuration = try load(minimalPool)
        configuration.pools[0].pingResponse = value
        configuration.pools[0].accessFormat = value
        configuration.pools[0].environment = [EnvironmentVariable(name: "V", value: value)]
        configuration.global.syslogIdent = value
        let rendered = configuration.renderEffective()
        let reread = try load(rendered, environment: ["HOME": "/home/u"])
        #expect(reread.pools[0].pingResponse == value)
        #expect(reread.pools[0].accessFormat == value)
        #expect(reread.pools[0].environment == configuration.pools[0].environment)
        #expect(reread.global.syslogIdent == value)
    }

    @Test func copiedEnvironmentVariablesRenderAsReferences() throws {
        let configuration = try load(minimalPool + "env[A] = $HOME\nenv[B] = $\"poolside\"\n", environment: ["HOME": "/h", "poolside": "p"])
        let rendered = configuration.renderEffective()
        #expect(rendered.contains("\nenv[A] = $HOME\n"))
        let reread = try load(rendered, environment: ["HOME": "/h", "poolside": "p"])
        #expect(reread.pools[0].environment == [
            EnvironmentVariable(name: "A", value: "/h", copiedFrom: "HOME"),
            EnvironmentVariable(name: "B", value: "p", copiedFrom: "poolside"),
        ])
    }
}
