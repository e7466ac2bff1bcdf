// The fuzz build (mk/config.mk) compiles GearmanServerAddress.swift into this module instead.
#if canImport(Gearman)
import Gearman
#endif

/// The directive table: every `[global]` and pool directive php-fpm 8.2 knows, plus swift-fpm's own
/// (`handler`, `exec`, `gearman.servers`, `gearman.functions`, `pm.max_requests_jitter`, `pm.max_memory`, `pm.max_queue_wait`,
/// `pm.warm_template`, `cgi.rlimit_as`, `cgi.rlimit_cpu`),
/// each read into its typed field.
///
/// Accepted but not acted on by swift-fpm (a warning is given when set away from the default):
/// `events.mechanism` (other than epoll), `listen.acl_users`,
/// `listen.acl_groups`, `listen.setfib`, `apparmor_hat`. `php_value[…]`, `php_flag[…]`,
/// `php_admin_value[…]` and `php_admin_flag[…]` are kept for `-tt` and warned about once per name.
enum Directives {
    enum Outcome {
        case applied
        case unknown
        /// A php.ini override: kept, but the caller warns once per directive name.
        case phpOnly
    }

    typealias Failure = ValueParsing.Failure
    typealias Assignment = INILexer.Assignment

    static let globalNames: [String] = [
        "pid", "error_log", "syslog.ident", "syslog.facility", "log_buffering", "log_level", "log_limit",
        "emergency_restart_threshold", "emergency_restart_interval", "process_control_timeout", "graceful_sigterm", "process.max",
        "process.priority", "daemonize", "rlimit_files", "rlimit_core", "events.mechanism", "systemd_interval",
        "status.group",
    ]

    static let poolNames: [String] = [
        "prefix", "user", "group", "listen", "listen.backlog", "listen.owner", "listen.group", "listen.mode",
        "listen.acl_users", "listen.acl_groups", "listen.allowed_clients", "listen.setfib", "process.priority",
        "process.dumpable", "pm", "pm.max_children", "pm.start_servers", "pm.min_spare_servers",
        "pm.max_spare_servers", "pm.max_spawn_rate", "pm.process_idle_timeout", "pm.max_requests",
        "pm.max_requests_jitter", "pm.max_memory", "pm.max_queue_wait", "pm.warm_template", "pm.status_path", "pm.status_listen", "ping.path", "ping.response", "access.log",
        "access.format", "access.suppress_path", "slowlog", "request_slowlog_timeout", "request_slowlog_trace_depth",
        "request_terminate_timeout", "request_terminate_timeout_track_finished", "request_read_timeout", "request_write_timeout", "rlimit_files", "rlimit_core",
        "cgi.rlimit_as", "cgi.rlimit_cpu",
        "chroot", "chdir", "catch_workers_output", "decorate_workers_output", "clear_env", "security.limit_extensions",
        "apparmor_hat", "env", "handler", "exec", "gearman.servers", "gearman.functions", "php_value", "php_flag", "php_admin_value", "php_admin_flag",
    ]

    static let arrayNames: Set<String> = [
        "env", "access.suppress_path", "php_value", "php_flag", "php_admin_value", "php_admin_flag",
    ]

    static let eventMechanisms = ["epoll", "poll", "select", "kqueue", "/dev/poll", "port"]

    // MARK: [global]

    static func applyGlobal(
        _ assignment: Assignment, to global: inout GlobalConfiguration
    ) throws(Failure) -> Outcome {
        let value = assignment.value
        if assignment.key != nil {
            if arrayNames.contains(assignment.name) { throw Failure("Array are not allowed in the global section") }
            return globalNames.contains(assignment.name) ? try noKey(assignment) : .unknown
        }
        switch assignment.name {
        case "pid": global.pid = try nonEmpty(value)
        case "status.group": global.statusGroup = try nonEmpty(value)
        case "error_log": global.errorLog = try nonEmpty(value)
        case "syslog.ident": global.syslogIdent = try nonEmpty(value)
        case "syslog.facility":
            guard let facility = SyslogFacility(configValue: value) else {
                throw Failure("unknown syslog facility (AUTH, AUTHPRIV, CRON, DAEMON, FTP, KERN, LPR, MAIL, NEWS, SYSLOG, USER, UUCP, LOCAL0-LOCAL7)")
            }
            global.syslogFacility = facility
        case "log_buffering": global.logBuffering = try ValueParsing.bool(value)
        case "log_level":
            guard let level = LogLevel(configValue: value) else {
                throw Failure("invalid log level (alert, error, warning, notice or debug)")
            }
            global.logLevel = level
        case "log_limit": global.logLimit = try ValueParsing.integer(value)
        case "emergency_restart_threshold": global.emergencyRestartThreshold = try ValueParsing.nonNegativeInteger(value)
        case "emergency_restart_interval": global.emergencyRestartInterval = try ValueParsing.seconds(value)
        case "process_control_timeout": global.processControlTimeout = try ValueParsing.seconds(value)
        case "graceful_sigterm": global.gracefulSigterm = try ValueParsing.bool(value)
        case "process.max": global.processMax = try ValueParsing.integer(value)
        case "process.priority": global.processPriority = try ValueParsing.integer(value)
        case "daemonize": global.daemonize = try ValueParsing.bool(value)
        case "rlimit_files": global.rlimitFiles = try rlimitFiles(value)
        case "rlimit_core": global.rlimitCore = try ValueParsing.rlimit(value, allowUnlimited: true)
        case "events.mechanism":
            let mechanism = value.lowercased()
            guard eventMechanisms.contains(mechanism) else {
                throw Failure("unknown event mechanism (epoll, poll, select, kqueue, /dev/poll or port)")
            }
            guard ["epoll", "poll", "select"].contains(mechanism) else {
                throw Failure("event mechanism '\(mechanism)' is not available on this system")
            }
            global.eventsMechanism = mechanism
        case "systemd_interval": global.systemdInterval = try ValueParsing.seconds(value)
        default: return .unknown
        }
        return .applied
    }

    // MARK: pools

    static func applyPool(
        _ assignment: Assignment, to pool: inout PoolConfiguration, environment: [String: String]
    ) throws(Failure) -> Outcome {
        let value = assignment.value
        if arrayNames.contains(assignment.name) {
            return try applyPoolArray(assignment, to: &pool, environment: environment)
        }
        if assignment.key != nil {
            return poolNames.contains(assignment.name) ? try noKey(assignment) : .unknown
        }
        switch assignment.name {
        case "prefix": pool.prefix = try nonEmpty(value)
        case "user": pool.user = try nonEmpty(value)
        case "group": pool.group = try nonEmpty(value)
        case "listen": pool.listen = try listen(value)
        case "listen.backlog": pool.listenBacklog = try ValueParsing.integer(value)
        case "listen.owner": pool.listenOwner = try nonEmpty(value)
        case "listen.group": pool.listenGroup = try nonEmpty(value)
        case "listen.mode": pool.listenMode = try ValueParsing.octalMode(value)
        case "listen.acl_users": pool.listenACLUsers = try nonEmpty(value)
        case "listen.acl_groups": pool.listenACLGroups = try nonEmpty(value)
        case "listen.allowed_clients": pool.allowedClients = try allowedClients(value)
        case "listen.setfib": pool.listenSetfib = try ValueParsing.integer(value)
        case "process.priority": pool.processPriority = try ValueParsing.integer(value)
        case "process.dumpable": pool.processDumpable = try ValueParsing.bool(value)
        case "pm":
            guard let style = ProcessManagerStyle(configValue: value) else {
                throw Failure("invalid process manager (static, dynamic or ondemand)")
            }
            pool.pm = style
        case "pm.max_children": pool.maxChildren = try ValueParsing.integer(value)
        case "pm.start_servers": pool.startServers = try ValueParsing.integer(value)
        case "pm.min_spare_servers": pool.minSpareServers = try ValueParsing.integer(value)
        case "pm.max_spare_servers": pool.maxSpareServers = try ValueParsing.integer(value)
        case "pm.max_spawn_rate": pool.maxSpawnRate = try ValueParsing.integer(value)
        case "pm.process_idle_timeout": pool.processIdleTimeout = try ValueParsing.seconds(value)
        case "pm.max_requests": pool.maxRequests = try ValueParsing.nonNegativeInteger(value)
        case "pm.max_requests_jitter": pool.maxRequestsJitter = try ValueParsing.nonNegativeInteger(value)
        case "pm.max_memory": pool.maxMemory = try ValueParsing.bytes(value)
        case "pm.max_queue_wait": pool.maxQueueWait = try ValueParsing.milliseconds(value)
        case "pm.warm_template": pool.warmTemplate = try ValueParsing.bool(value)
        case "pm.status_path": pool.statusPath = try nonEmpty(value)
        case "pm.status_listen": pool.statusListen = try listen(value)
        case "ping.path": pool.pingPath = try nonEmpty(value)
        case "ping.response": pool.pingResponse = value
        case "access.log": pool.accessLog = try nonEmpty(value)
        case "access.format": pool.accessFormat = try nonEmpty(value)
        case "slowlog": pool.slowlog = try nonEmpty(value)
        case "request_slowlog_timeout": pool.requestSlowlogTimeout = try ValueParsing.seconds(value)
        case "request_slowlog_trace_depth": pool.requestSlowlogTraceDepth = try ValueParsing.integer(value)
        case "request_terminate_timeout": pool.requestTerminateTimeout = try ValueParsing.seconds(value)
        case "request_read_timeout": pool.requestReadTimeout = try ValueParsing.seconds(value)
        case "request_write_timeout": pool.requestWriteTimeout = try ValueParsing.seconds(value)
        case "request_terminate_timeout_track_finished":
            pool.requestTerminateTimeoutTrackFinished = try ValueParsing.bool(value)
        case "rlimit_files": pool.rlimitFiles = try rlimitFiles(value)
        case "rlimit_core": pool.rlimitCore = try ValueParsing.rlimit(value, allowUnlimited: true)
        case "cgi.rlimit_as": pool.cgiRlimitAS = try ValueParsing.bytes(value)
        case "cgi.rlimit_cpu": pool.cgiRlimitCPU = try ValueParsing.seconds(value)
        case "chroot": pool.chroot = try nonEmpty(value)
        case "chdir": pool.chdir = try nonEmpty(value)
        case "catch_workers_output": pool.catchWorkersOutput = try ValueParsing.bool(value)
        case "decorate_workers_output": pool.decorateWorkersOutput = try ValueParsing.bool(value)
        case "clear_env": pool.clearEnv = try ValueParsing.bool(value)
        case "security.limit_extensions":
            pool.securityLimitExtensions = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        case "apparmor_hat": pool.apparmorHat = try nonEmpty(value)
        case "handler": pool.handler = try handlerName(value)
        case "exec":
            let words = try ValueParsing.words(value)
            guard let program = words.first, !program.isEmpty else { throw Failure("a program to run is required") }
            pool.exec = words
        case "gearman.servers": pool.gearmanServers = try gearmanServers(value)
        case "gearman.functions": pool.gearmanFunctions = try gearmanFunctions(value)
        default: return .unknown
        }
        return .applied
    }

    private static func applyPoolArray(
        _ assignment: Assignment, to pool: inout PoolConfiguration, environment: [String: String]
    ) throws(Failure) -> Outcome {
        let value = assignment.value
        switch assignment.name {
        case "access.suppress_path":
            if let key = assignment.key, !key.isEmpty { throw Failure("Keys provided to field 'access.suppress_path' are ignored") }
            guard value.hasPrefix("/") else { throw Failure("Values provided to field 'access.suppress_path' must begin with '/'") }
            if !pool.accessSuppressPaths.contains(value) { pool.accessSuppressPaths.append(value) }
            return .applied
        case "env":
            guard let name = assignment.key, !name.isEmpty else { throw Failure("You must provide a key for field 'env'") }
            guard !name.contains("=") else { throw Failure("an environment variable name cannot contain '='") }
            guard !value.isEmpty else { throw Failure("empty value") }
            var variable = EnvironmentVariable(name: name, value: value)
            let source = String(value.dropFirst())
            if assignment.startsWithVariable, isVariableName(source) {
                variable = EnvironmentVariable(name: name, value: environment[source] ?? "", copiedFrom: source)
            }
            if let index = pool.environment.firstIndex(where: { $0.name == name }) {
                pool.environment[index] = variable
            } else {
                pool.environment.append(variable)
            }
            return .applied
        default:
            guard let kind = PHPSetting.Kind(rawValue: assignment.name) else { return .unknown }
            guard let key = assignment.key, !key.isEmpty else {
                throw Failure("You must provide a key for field '\(assignment.name)'")
            }
            if kind == .flag || kind == .adminFlag { _ = try ValueParsing.bool(value) }
            if let index = pool.phpSettings.firstIndex(where: { $0.kind == kind && $0.key == key }) {
                pool.phpSettings[index].value = value
            } else {
                pool.phpSettings.append(PHPSetting(kind: kind, key: key, value: value))
            }
            return .phpOnly
        }
    }

    // MARK: value helpers

    /// `[A-Za-z_][A-Za-z0-9_]*`: what `env[X] = $NAME` copies (other `$…` values are taken literally).
    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(first >= 0x30 && first <= 0x39) else { return false }
        return name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
        }
    }

    private static func noKey(_ assignment: Assignment) throws(Failure) -> Outcome {
        throw Failure("'\(assignment.name)' does not take a key")
    }

    private static func nonEmpty(_ value: String) throws(Failure) -> String {
        guard !value.isEmpty else { throw Failure("empty value") }
        return value
    }

    private static func rlimitFiles(_ value: String) throws(Failure) -> Int {
        guard case .limit(let limit) = try ValueParsing.rlimit(value, allowUnlimited: false) else { return 0 }
        return limit
    }

    private static func listen(_ value: String) throws(Failure) -> ListenAddress {
        do {
            return try ListenAddress.parse(value)
        } catch {
            throw Failure(error.message)
        }
    }

    private static func handlerName(_ value: String) throws(Failure) -> String {
        let allowed = value.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-.:".unicodeScalars.contains(scalar))
        }
        guard !value.isEmpty, allowed else {
            throw Failure("a handler name may only contain letters, digits, '_', '-', '.' and ':'")
        }
        return value
    }

    /// `gearman.servers`: `HOST[:PORT]` entries separated by commas (gearmand's 4730 by default).
    private static func gearmanServers(_ value: String) throws(Failure) -> [GearmanServerAddress] {
        guard let list = GearmanServerAddress.list(value) else {
            throw Failure("expected HOST:PORT[, HOST:PORT…] ([IPv6]:PORT for an IPv6 address)")
        }
        return list
    }

    /// `gearman.functions`: names separated by commas; Gearman function names have no blanks.
    private static func gearmanFunctions(_ value: String) throws(Failure) -> [String] {
        let names = value.split(separator: ",").map { String($0.trimmingBlanks()) }
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty }) else { throw Failure("expected NAME[, NAME…]") }
        for name in names where name.contains(where: { $0 == " " || $0 == "\t" || $0 == "\0" }) {
            throw Failure("'\(name)' is not a function name (no blanks)")
        }
        return names
    }

    /// `listen.allowed_clients`: a comma-separated list of IPv4/IPv6 literals.
    private static func allowedClients(_ value: String) throws(Failure) -> [String]? {
        let entries = value.split(separator: ",").map { String($0.trimmingBlanks()) }.filter { !$0.isEmpty }
        guard !entries.isEmpty else { throw Failure("empty value") }
        for entry in entries where !SystemLookup.isIPAddress(entry) {
            throw Failure("'\(entry)' is not an IPv4 or IPv6 address")
        }
        return entries
    }
}

extension StringProtocol {
    func trimmingBlanks() -> SubSequence {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return slice
    }
}
