import FPMConfiguration
import Testing

/// One row per directive: a good value and what it gives, a bad value and its message.
@Suite struct DirectiveTests {
    struct PoolCase: Sendable, CustomStringConvertible {
        var line: String
        var check: @Sendable (PoolConfiguration) -> Bool
        var description: String { line }
    }

    static let goodPoolValues: [PoolCase] = [
        .init(line: "prefix = /tmp") { $0.prefix == "/tmp" },
        .init(line: "user = nobody") { $0.user == "nobody" },
        .init(line: "group = nogroup") { $0.group == "nogroup" },
        .init(line: "listen = /run/www.sock") { $0.listen == .unix(path: "/run/www.sock") },
        .init(line: "listen = 9001") { $0.listen == .tcp(host: "", port: 9001) },
        .init(line: "listen = [::1]:9001") { $0.listen == .tcp(host: "::1", port: 9001) },
        .init(line: "listen = localhost:9001") { $0.listen == .tcp(host: "localhost", port: 9001) },
        .init(line: "listen.backlog = 511") { $0.listenBacklog == 511 },
        .init(line: "listen.owner = nobody") { $0.listenOwner == "nobody" },
        .init(line: "listen.group = 0") { $0.listenGroup == "0" },
        .init(line: "listen.mode = 0666") { $0.listenMode == 0o666 },
        .init(line: "listen.acl_users = a,b") { $0.listenACLUsers == "a,b" },
        .init(line: "listen.acl_groups = g") { $0.listenACLGroups == "g" },
        .init(line: "listen.allowed_clients = 127.0.0.1, ::1") { $0.allowedClients == ["127.0.0.1", "::1"] },
        .init(line: "listen.setfib = 2") { $0.listenSetfib == 2 },
        .init(line: "process.priority = -5") { $0.processPriority == -5 },
        .init(line: "process.dumpable = yes") { $0.processDumpable },
        .init(line: "pm = ONDEMAND") { $0.pm == .ondemand },
        .init(line: "pm.max_children = 7") { $0.maxChildren == 7 },
        .init(line: "request_read_timeout = 1m") { $0.requestReadTimeout == 60 },
        .init(line: "request_read_timeout = 0") { $0.requestReadTimeout == 0 },
        .init(line: "request_write_timeout = 5s") { $0.requestWriteTimeout == 5 },
        .init(line: "pm.start_servers = 1") { $0.startServers == 1 },
        .init(line: "pm.min_spare_servers = 1") { $0.minSpareServers == 1 },
        .init(line: "pm.max_spare_servers = 1") { $0.maxSpareServers == 1 },
        .init(line: "pm.max_spawn_rate = 4") { $0.maxSpawnRate == 4 },
        .init(line: "pm.process_idle_timeout = 1m") { $0.processIdleTimeout == 60 },
        .init(line: "pm.max_requests = 500") { $0.maxRequests == 500 },
        .init(line: "pm.max_requests_jitter = 50") { $0.maxRequestsJitter == 50 },
        .init(line: "pm.status_path = /fpm-status") { $0.statusPath == "/fpm-status" },
        .init(line: "pm.status_listen = 127.0.0.1:9009") { $0.statusListen == .tcp(host: "127.0.0.1", port: 9009) },
        .init(line: "ping.path = /ping") { $0.pingPath == "/ping" },
        .init(line: "ping.response = ok") { $0.pingResponse == "ok" },
        .init(line: "access.log = /var/log/a.log") { $0.accessLog == "/var/log/a.log" },
        .init(line: "access.format = \"%R %s\"") { $0.accessFormat == "%R %s" },
        .init(line: "access.suppress_path[] = /ping") { $0.accessSuppressPaths == ["/ping"] },
        .init(line: "slowlog = /var/log/s.log") { $0.slowlog == "/var/log/s.log" },
        .init(line: "request_slowlog_timeout = 0") { $0.requestSlowlogTimeout == 0 },
        .init(line: "request_slowlog_trace_depth = 5") { $0.requestSlowlogTraceDepth == 5 },
        .init(line: "request_terminate_timeout = 1h") { $0.requestTerminateTimeout == 3600 },
        .init(line: "request_terminate_timeout_track_finished = on") { $0.requestTerminateTimeoutTrackFinished },
        .init(line: "rlimit_files = 4096") { $0.rlimitFiles == 4096 },
        .init(line: "rlimit_core = unlimited") { $0.rlimitCore == .unlimited },
        .init(line: "rlimit_core = 0") { $0.rlimitCore == .limit(0) },
        .init(line: "chroot = /tmp") { $0.chroot == "/tmp" },
        .init(line: "chdir = /tmp") { $0.chdir == "/tmp" },
        .init(line: "catch_workers_output = yes") { $0.catchWorkersOutput },
        .init(line: "decorate_workers_output = no") { !$0.decorateWorkersOutput },
        .init(line: "clear_env = no") { !$0.clearEnv },
        .init(line: "security.limit_extensions = .php .cgi") { $0.securityLimitExtensions == [".php", ".cgi"] },
        .init(line: "security.limit_extensions = \"\"") { $0.securityLimitExtensions == [] },
        .init(line: "apparmor_hat = hat") { $0.apparmorHat == "hat" },
        .init(line: "env[A] = b") { $0.environment == [EnvironmentVariable(name: "A", value: "b")] },
        .init(line: "handler = echo") { $0.handler == "echo" },
        .init(line: #"exec = '/bin/prog -x "a b" c\ d'"#) { $0.exec == ["/bin/prog", "-x", "a b", "c d"] },
        .init(line: "php_value[memory_limit] = 128M") { $0.phpSettings == [PHPSetting(kind: .value, key: "memory_limit", value: "128M")] },
        .init(line: "php_admin_flag[log_errors] = on") { $0.phpSettings.first?.kind == .adminFlag },
    ]

    @Test(arguments: goodPoolValues) func poolDirectiveReadsItsValue(_ testCase: PoolCase) throws {
        let pool = try loadPool(testCase.line)
        #expect(testCase.check(pool))
    }

    @Test func poolDefaultsAreThoseOfPHPFPM() throws {
        let pool = try loadPool("")
        #expect(pool.prefix == nil && pool.user == nil && pool.group == nil)
        #expect(pool.listenBacklog == -1)
        #expect(pool.listenMode == 0o660)
        #expect(pool.allowedClients == nil)
        #expect(pool.listenSetfib == -1)
        #expect(!pool.processDumpable)
        #expect(pool.maxSpawnRate == 32)
        #expect(pool.processIdleTimeout == 10)
        #expect(pool.maxRequests == 0 && pool.maxRequestsJitter == 0)
        #expect(pool.pingResponse == "pong")
        #expect(pool.accessFormat == "%R - %u %t \"%m %r\" %s")
        #expect(pool.requestSlowlogTraceDepth == 20)
        #expect(pool.requestTerminateTimeout == 0 && pool.requestSlowlogTimeout == 0)
        #expect(!pool.catchWorkersOutput && pool.decorateWorkersOutput && pool.clearEnv)
        #expect(pool.securityLimitExtensions == nil)
        #expect(pool.effectiveLimitExtensions == [".php", ".phar"])
        #expect(pool.handler == "info" && pool.exec == nil)
    }

    static let badPoolValues: [(String, String)] = [
        ("listen = 127.0.0.1:70000", "listen = 127.0.0.1:70000: invalid port value '70000' (1-65535)"),
        ("listen = [::1:9000", "listen = [::1:9000: invalid host '[::1'"),
        ("listen = \"\"", "listen = : no listen address given"),
        ("listen.mode = 0668", "listen.mode = 0668: is not a valid octal mode (e.g. 0660)"),
        ("listen.allowed_clients = 10.0.0.0/8", "listen.allowed_clients = 10.0.0.0/8: '10.0.0.0/8' is not an IPv4 or IPv6 address"),
        ("pm = sometimes", "pm = sometimes: invalid process manager (static, dynamic or ondemand)"),
        ("pm.max_requests = -1", "pm.max_requests = -1: must be greater or equal than zero"),
        ("pm.max_requests_jitter = -1", "pm.max_requests_jitter = -1: must be greater or equal than zero"),
        ("rlimit_core = -1", "rlimit_core = -1: must be greater than zero or 'unlimited'"),
        ("rlimit_files = unlimited", "rlimit_files = unlimited: is not a valid number (greater or equal than zero)"),
        ("process.dumpable = 2", "process.dumpable = 2: invalid boolean value"),
        ("access.suppress_path[x] = /a", "access.suppress_path[x] = /a: Keys provided to field 'access.suppress_path' are ignored"),
        ("access.suppress_path[] = a", "access.suppress_path[] = a: Values provided to field 'access.suppress_path' must begin with '/'"),
        ("php_value = x", "php_value = x: You must provide a key for field 'php_value'"),
        ("php_admin_value[] = x", "php_admin_value[] = x: You must provide a key for field 'php_admin_value'"),
        ("php_flag[display_errors] = maybe", "php_flag[display_errors] = maybe: invalid boolean value"),
        ("handler = a b", "handler = a b: a handler name may only contain letters, digits, '_', '-', '.' and ':'"),
        ("exec = \"\"", "exec = : a program to run is required"),
        ("exec = '/bin/x \"a'", "exec = /bin/x \"a: unterminated \" in the command line"),
        ("pm[x] = static", "pm[x] = static: 'pm' does not take a key"),
        ("user = \"\"", "user = : empty value"),
    ]

    @Test(arguments: badPoolValues) func poolDirectiveRefusesABadValue(_ line: String, _ message: String) {
        #expect(poolErrors(line) == ["t.conf:6: " + message])
    }

    @Test func globalDirectivesReadTheirValues() throws {
        let text = """
            [global]
            pid = /run/fpm.pid
            error_log = syslog
            syslog.ident = app
            syslog.facility = LOCAL3
            log_buffering = no
            log_level = debug
            log_limit = 4096
            emergency_restart_threshold = 10
            emergency_restart_interval = 1m
            process_control_timeout = 10s
            graceful_sigterm = yes
            process.max = 128
            process.priority = -19
            daemonize = no
            rlimit_files = 1024
            rlimit_core = unlimited
            events.mechanism = epoll
            systemd_interval = 10

            """
        let global = try load(text + minimalPool).global
        #expect(global.pid == "/run/fpm.pid")
        #expect(global.errorLog == "syslog")
        #expect(global.syslogIdent == "app")
        #expect(global.syslogFacility == .local3 && global.syslogFacility.code == 19 << 3)
        #expect(!global.logBuffering)
        #expect(global.logLevel == .debug)
        #expect(global.logLimit == 4096)
        #expect(global.emergencyRestartThreshold == 10 && global.emergencyRestartInterval == 60)
        #expect(global.processControlTimeout == 10 && global.gracefulSigterm)
        #expect(global.processMax == 128 && global.processPriority == -19)
        #expect(!global.daemonize)
        #expect(global.rlimitFiles == 1024 && global.rlimitCore == .unlimited)
        #expect(global.eventsMechanism == "epoll" && global.systemdInterval == 10)
    }

    @Test func globalDefaults() throws {
        let global = try load(minimalPool).global
        #expect(global == GlobalConfiguration())
        #expect(global.errorLog == "/dev/stderr")
        #expect(global.syslogFacility == .daemon && global.syslogFacility.code == 24)
        #expect(global.logLevel == .notice && global.logLimit == 1024 && global.daemonize)
        #expect(global.systemdInterval == 10 && global.processControlTimeout == 0 && !global.gracefulSigterm)
    }

    static let badGlobalValues: [(String, String)] = [
        ("graceful_sigterm = maybe", "graceful_sigterm = maybe: invalid boolean value"),
        ("log_level = loud", "log_level = loud: invalid log level (alert, error, warning, notice or debug)"),
        ("syslog.facility = nowhere", "syslog.facility = nowhere: unknown syslog facility (AUTH, AUTHPRIV, CRON, DAEMON, FTP, KERN, LPR, MAIL, NEWS, SYSLOG, USER, UUCP, LOCAL0-LOCAL7)"),
        ("events.mechanism = kqueue", "events.mechanism = kqueue: event mechanism 'kqueue' is not available on this system"),
        ("events.mechanism = magic", "events.mechanism = magic: unknown event mechanism (epoll, poll, select, kqueue, /dev/poll or port)"),
        ("daemonize = perhaps", "daemonize = perhaps: invalid boolean value"),
        ("emergency_restart_interval = 1y", "emergency_restart_interval = 1y: unknown suffix used in time value"),
        ("rlimit_core = lots", "rlimit_core = lots: must be greater than zero or 'unlimited'"),
        ("pid = \"\"", "pid = : empty value"),
    ]

    @Test(arguments: badGlobalValues) func globalDirectiveRefusesABadValue(_ line: String, _ message: String) {
        #expect(errors("[global]\n\(line)\n" + minimalPool) == ["t.conf:2: " + message])
    }

    @Test func logLevelParsesWarn() {
        #expect(LogLevel(configValue: "warn") == .warning)
        #expect(LogLevel(configValue: "WARNING") == .warning)
        #expect(LogLevel.debug < LogLevel.alert)
    }

    @Test func phpOnlyDirectivesWarnOncePerNamePerPool() throws {
        let configuration = try load(minimalPool + """
            php_admin_value[error_log] = /var/log/a.log
            php_admin_value[error_log] = /var/log/b.log
            php_flag[display_errors] = off
            [other]
            listen = 9001
            pm = static
            pm.max_children = 1
            handler = info
            php_admin_value[error_log] = /x

            """)
        #expect(configuration.warnings.map(\.description) == [
            "t.conf:6: php_admin_value[error_log]: PHP-only directive ignored by swift-fpm",
            "t.conf:8: php_flag[display_errors]: PHP-only directive ignored by swift-fpm",
            "t.conf:14: php_admin_value[error_log]: PHP-only directive ignored by swift-fpm",
        ])
        #expect(configuration.pools[0].phpSettings.count == 2)
        #expect(configuration.pools[0].phpSettings[0].value == "/var/log/b.log")
    }

    @Test func ignoredDirectivesWarnWhenSetAwayFromTheirDefault() throws {
        let configuration = try load("[global]\nevents.mechanism = poll\nsystemd_interval = 0\n" + minimalPool
            + "listen.acl_users = a\nlisten.setfib = 1\napparmor_hat = h\n")
        #expect(configuration.warnings.map(\.description) == [
            "t.conf:2: events.mechanism = poll: swift-fpm does not use events.mechanism; ignored",
            "t.conf:9: listen.acl_users = a: swift-fpm does not set POSIX ACLs on the socket; ignored",
            "t.conf:10: listen.setfib = 1: only meaningful on FreeBSD; ignored",
            "t.conf:11: apparmor_hat = h: swift-fpm does not change AppArmor hats; ignored",
        ])
        #expect(try load("[global]\nevents.mechanism = epoll\nsystemd_interval = 10s\n" + minimalPool).warnings.isEmpty)
    }
}
