// The fuzz build (mk/config.mk) compiles GearmanServerAddress.swift into this module instead.
#if canImport(Gearman)
import Gearman
#endif
/// One `[pool]` section, with php-fpm 8.2's defaults. Durations are whole seconds.
///
/// `==` compares values only; `source` (where things were written) is ignored.
public struct PoolConfiguration: Sendable, Equatable {
    /// php-fpm's default for `security.limit_extensions`, used by PHP-like handlers when unset.
    public static let phpDefaultLimitExtensions = [".php", ".phar"]
    /// The default `access.format`.
    public static let defaultAccessFormat = "%R - %u %t \"%m %r\" %s"

    /// The section name as first written (compared case-insensitively).
    public var name: String
    public var prefix: String? = nil
    public var user: String? = nil
    public var group: String? = nil
    /// `listen`: mandatory; a configuration that loaded always has it set.
    public var listen: ListenAddress = .tcp(host: "", port: 0)
    /// `listen.backlog`: -1 lets the kernel clamp to somaxconn.
    public var listenBacklog: Int = -1
    public var listenOwner: String? = nil
    public var listenGroup: String? = nil
    /// `listen.mode`, octal in the file.
    public var listenMode: UInt32 = 0o660
    /// `listen.acl_users` / `listen.acl_groups`: accepted; swift-fpm does not set POSIX ACLs (warns).
    public var listenACLUsers: String? = nil
    public var listenACLGroups: String? = nil
    /// `listen.allowed_clients`: IP literals (split on `,`, trimmed); nil = any client.
    public var allowedClients: [String]? = nil
    /// `listen.setfib`: FreeBSD only; accepted and ignored (warns when not -1).
    public var listenSetfib: Int = -1
    public var processPriority: Int? = nil
    public var processDumpable: Bool = false
    /// `pm`: mandatory; a configuration that loaded always has it set.
    public var pm: ProcessManagerStyle = .dynamic
    public var maxChildren: Int = 0
    /// `pm.start_servers`: when unset (or ≤ 0) with `pm = dynamic` the loader sets it to
    /// min_spare + (max_spare - min_spare) / 2, as php-fpm does. With ondemand it is forced to 0.
    public var startServers: Int = 0
    public var minSpareServers: Int = 0
    public var maxSpareServers: Int = 0
    public var maxSpawnRate: Int = 32
    public var processIdleTimeout: Int = 10
    public var maxRequests: Int = 0
    /// `pm.max_requests_jitter` (swift-fpm): each worker's limit is max_requests + random(0…N).
    public var maxRequestsJitter: Int = 0
    /// `pm.max_memory` (swift-fpm), bytes; 0 = no limit. A worker whose private memory passes it
    /// after a request is replaced (the replacement first), as `pm.max_requests` replaces one.
    public var maxMemory: Int = 0
    /// `pm.max_queue_wait` (swift-fpm), milliseconds; 0 = off. A connection that waited this
    /// long without a worker is answered 503 with Retry-After by the master (`AdmissionQueue`).
    public var maxQueueWait: Int = 0
    /// `pm.warm_template` (swift-fpm): workers are forked from a per-pool process that ran the
    /// handler's `warmUp` once, so what it built is shared copy-on-write (`WarmTemplate`).
    public var warmTemplate: Bool = false
    public var statusPath: String? = nil
    public var statusListen: ListenAddress? = nil
    public var pingPath: String? = nil
    public var pingResponse: String = "pong"
    public var accessLog: String? = nil
    public var accessFormat: String = PoolConfiguration.defaultAccessFormat
    public var accessSuppressPaths: [String] = []
    public var slowlog: String? = nil
    public var requestSlowlogTimeout: Int = 0
    public var requestSlowlogTraceDepth: Int = 20
    public var requestTerminateTimeout: Int = 0
    public var requestTerminateTimeoutTrackFinished: Bool = false
    /// How long a request's head may take to arrive once its first bytes are in, and how long
    /// its body may pause (swift-fpm; php-fpm has none, so one slow client holds a worker).
    /// 60 s like nginx's `fastcgi_send_timeout`, so nginx users see no surprise; 0 = none.
    public var requestReadTimeout: Int = 60
    /// How long a response may wait for the client to read it (no progress); 60 s like
    /// nginx's `fastcgi_read_timeout`; 0 = none.
    public var requestWriteTimeout: Int = 60
    public var rlimitFiles: Int? = nil
    public var rlimitCore: RLimitValue? = nil
    /// `cgi.rlimit_as` (swift-fpm), bytes; 0 = no limit. The address space each script of a
    /// `handler = cgi` pool may use (RLIMIT_AS, set in the script's process before exec): past
    /// it allocations fail, so a runaway script ends in its own error, answered 500.
    public var cgiRlimitAS: Int = 0
    /// `cgi.rlimit_cpu` (swift-fpm), seconds; 0 = no limit. The CPU time each script may use
    /// (RLIMIT_CPU): SIGXCPU when it is used up, SIGKILL a second later; answered 504.
    public var cgiRlimitCPU: Int = 0
    public var chroot: String? = nil
    public var chdir: String? = nil
    public var catchWorkersOutput: Bool = false
    public var decorateWorkersOutput: Bool = true
    public var clearEnv: Bool = true
    /// `security.limit_extensions`: nil = not set (php-fpm then uses `.php .phar`, see
    /// `phpDefaultLimitExtensions`; swift-fpm's cgi handler uses its own default). `[]` = allow all.
    public var securityLimitExtensions: [String]? = nil
    /// `apparmor_hat`: accepted; swift-fpm does not change AppArmor profiles (warns when set).
    public var apparmorHat: String? = nil
    /// `env[NAME] = value`, in the order first set (a later assignment replaces the value in place).
    public var environment: [EnvironmentVariable] = []
    /// `handler` (swift-fpm): the built-in or registered handler serving the pool. Ignored when `exec` is set.
    public var handler: String = "info"
    /// `exec` (swift-fpm): an external FastCGI program (argv) run as the pool's workers instead of a handler.
    public var exec: [String]? = nil
    /// `gearman.servers` (swift-fpm): the job servers (`host:port`) a job pool's workers take
    /// jobs from; set, the pool is a job pool (no `listen`). nil: a FastCGI pool.
    public var gearmanServers: [GearmanServerAddress]? = nil
    /// `gearman.functions` (swift-fpm): the functions a job pool's workers register; nil: the
    /// handler's name (a Swift handler pool; an exec job pool must name them).
    public var gearmanFunctions: [String]? = nil
    /// `php_value[…]`, `php_flag[…]`, `php_admin_value[…]`, `php_admin_flag[…]`: kept, never used.
    public var phpSettings: [PHPSetting] = []
    /// Where the section and its directives were written (ignored by `==`).
    public var source: SourceMap

    public init(name: String, source: SourceLocation = SourceLocation(file: nil, line: 0)) {
        self.name = name
        self.source = SourceMap(section: source)
    }

    /// A job pool: Gearman workers, no FastCGI listener (docs/JOBS.md).
    public var isJobPool: Bool { gearmanServers != nil }
    /// The functions a job pool's workers register: `gearman.functions`, else the handler's name.
    public var effectiveGearmanFunctions: [String] { gearmanFunctions ?? (exec == nil ? [handler] : []) }

    /// The file of the pool's (first) section header.
    public var sourceFile: String? { source.section.file }
    /// The line of the pool's (first) section header.
    public var sourceLine: Int { source.section.line }

    /// The limit extensions in force for PHP-compatible handlers: the configured ones or php-fpm's default.
    public var effectiveLimitExtensions: [String] {
        securityLimitExtensions ?? Self.phpDefaultLimitExtensions
    }

    /// The value of `env[name]`, if set.
    public func environmentValue(_ name: String) -> String? {
        environment.first { $0.name == name }?.value
    }
}

/// `pm`.
public enum ProcessManagerStyle: String, Sendable, Equatable, CaseIterable, CustomStringConvertible {
    case `static`, dynamic, ondemand

    public init?(configValue: String) {
        self.init(rawValue: configValue.lowercased())
    }

    public var description: String { rawValue }
}

/// One `env[NAME] = value`.
public struct EnvironmentVariable: Sendable, Equatable {
    public var name: String
    /// The value workers get (for `$VAR`, the master's value at load time; "" when unset).
    public var value: String
    /// For `env[NAME] = $VAR`: `VAR`, the master variable the value was copied from.
    public var copiedFrom: String?

    public init(name: String, value: String, copiedFrom: String? = nil) {
        self.name = name
        self.value = value
        self.copiedFrom = copiedFrom
    }
}

/// One php.ini override line, kept only so `-tt` can show it and the warning can count it.
public struct PHPSetting: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case value = "php_value"
        case flag = "php_flag"
        case adminValue = "php_admin_value"
        case adminFlag = "php_admin_flag"
    }

    public var kind: Kind
    public var key: String
    public var value: String

    public init(kind: Kind, key: String, value: String) {
        self.kind = kind
        self.key = key
        self.value = value
    }
}
