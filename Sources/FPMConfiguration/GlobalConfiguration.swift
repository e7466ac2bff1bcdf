/// The `[global]` section: the master's own settings.
///
/// Defaults are php-fpm 8.2's, except `error_log` and `syslog.ident` (see the field notes).
/// Durations are whole seconds.
public struct GlobalConfiguration: Sendable, Equatable {
    /// `pid`: the pid file; relative paths are resolved against the prefix. `-g` overrides it.
    public var pid: String? = nil
    /// `error_log`: a path, `syslog`, or `/dev/stderr`. Default: `log/fpm.log` under the prefix when one
    /// is given, else `/dev/stderr` (php-fpm uses its build's localstatedir).
    public var errorLog: String = "/dev/stderr"
    /// `syslog.ident` (php-fpm's default is `php-fpm`; ours names this server).
    public var syslogIdent: String = "swift-fpm"
    /// `syslog.facility`.
    public var syslogFacility: SyslogFacility = .daemon
    /// `log_buffering`.
    public var logBuffering: Bool = true
    /// `log_level`.
    public var logLevel: LogLevel = .notice
    /// `log_limit`: max characters per log line, ≥ 512.
    public var logLimit: Int = 1024
    /// `emergency_restart_threshold`: 0 = off.
    public var emergencyRestartThreshold: Int = 0
    /// `emergency_restart_interval`, seconds.
    public var emergencyRestartInterval: Int = 0
    /// `process_control_timeout`, seconds.
    public var processControlTimeout: Int = 0
    /// `graceful_sigterm` (swift-fpm's own): SIGTERM stops like SIGQUIT (in-flight requests
    /// finish, waiting connections are served). Default no: php-fpm's fast stop.
    public var gracefulSigterm: Bool = false
    /// `process.max`: 0 = no global cap on children.
    public var processMax: Int = 0
    /// `process.priority`: nice of the master (-19…20), nil = unchanged.
    public var processPriority: Int? = nil
    /// `daemonize`.
    public var daemonize: Bool = true
    /// `rlimit_files`, nil = system default.
    public var rlimitFiles: Int? = nil
    /// `status.group` (swift-fpm's own): the group that may read the master's runtime files
    /// (scoreboards and state file, so `fpmctl status`/`top`) besides their owner; nil = the
    /// owner alone. Like `listen.group` for a socket.
    public var statusGroup: String? = nil
    /// `rlimit_core`, nil = system default.
    public var rlimitCore: RLimitValue? = nil
    /// `events.mechanism`: accepted and checked; swift-fpm always uses its own poll loop.
    public var eventsMechanism: String? = nil
    /// `systemd_interval`, seconds (0 = off): how often the master sends systemd a STATUS= line
    /// (under Type=notify, when NOTIFY_SOCKET is set).
    public var systemdInterval: Int = 10

    public init() {}
}

/// `log_level`, ordered from the most to the least verbose.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case debug, notice, warning, error, alert

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses php-fpm's names, case-insensitively; `warn` means `warning`.
    public init?(configValue: String) {
        switch configValue.lowercased() {
        case "debug": self = .debug
        case "notice": self = .notice
        case "warning", "warn": self = .warning
        case "error": self = .error
        case "alert": self = .alert
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .debug: "debug"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        case .alert: "alert"
        }
    }
}

/// `syslog.facility`; `code` is the value syslog(3) expects (already shifted, e.g. LOG_DAEMON = 24).
public enum SyslogFacility: String, Sendable, CaseIterable, CustomStringConvertible {
    case auth, authpriv, cron, daemon, ftp, kern, lpr, mail, news, syslog, user, uucp
    case local0, local1, local2, local3, local4, local5, local6, local7

    public init?(configValue: String) {
        self.init(rawValue: configValue.lowercased())
    }

    public var code: Int32 {
        switch self {
        case .kern: 0 << 3
        case .user: 1 << 3
        case .mail: 2 << 3
        case .daemon: 3 << 3
        case .auth: 4 << 3
        case .syslog: 5 << 3
        case .lpr: 6 << 3
        case .news: 7 << 3
        case .uucp: 8 << 3
        case .cron: 9 << 3
        case .authpriv: 10 << 3
        case .ftp: 11 << 3
        case .local0: 16 << 3
        case .local1: 17 << 3
        case .local2: 18 << 3
        case .local3: 19 << 3
        case .local4: 20 << 3
        case .local5: 21 << 3
        case .local6: 22 << 3
        case .local7: 23 << 3
        }
    }

    public var description: String { rawValue.uppercased() }
}

/// A resource limit value (`rlimit_core`, `rlimit_files`).
public enum RLimitValue: Sendable, Equatable, CustomStringConvertible {
    case unlimited
    case limit(Int)

    public var description: String {
        switch self {
        case .unlimited: "unlimited"
        case .limit(let value): String(value)
        }
    }
}
