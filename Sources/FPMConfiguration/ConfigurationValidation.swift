/// The second pass: relative paths made absolute, defaults derived, and php-fpm's post-processing
/// checks, each reported at the line that set the offending directive (or the pool's header when
/// the directive was never set).
struct ConfigurationValidation {
    var configuration: FPMConfiguration
    let prefix: String?
    let fileSystem: ConfigurationFileSystem
    let globalSource: SourceMap
    let skipGlobal: Bool
    let skipPools: Set<Int>
    let accessFormatValidator: ConfigurationLoader.AccessFormatValidator?
    var diagnostics: [ConfigurationDiagnostic] = []

    init(
        configuration: FPMConfiguration, prefix: String?, fileSystem: ConfigurationFileSystem, globalSource: SourceMap,
        skipGlobal: Bool, skipPools: Set<Int>, accessFormatValidator: ConfigurationLoader.AccessFormatValidator?
    ) {
        self.configuration = configuration
        self.prefix = prefix
        self.fileSystem = fileSystem
        self.globalSource = globalSource
        self.skipGlobal = skipGlobal
        self.skipPools = skipPools
        self.accessFormatValidator = accessFormatValidator
    }

    mutating func run() {
        resolveGlobalPaths()
        if !skipGlobal { validateGlobal() }
        if configuration.pools.isEmpty {
            diagnostics.append(ConfigurationDiagnostic(
                file: configuration.path, line: nil, directive: nil,
                message: "No pool defined. at least one pool section must be specified in config file"))
            return
        }
        // `Self.` and a static function: an instance method called with `&configuration.pools[i]`
        // copies `self` first, so every pool's write copied the whole array (quadratic).
        for index in configuration.pools.indices {
            Self.resolvePoolPaths(&configuration.pools[index], prefix: prefix)
        }
        for index in configuration.pools.indices where !skipPools.contains(index) {
            validatePool(index)
        }
        validateUniqueListen()
    }

    // MARK: [global]

    private mutating func resolveGlobalPaths() {
        var global = configuration.global
        if let pid = global.pid { global.pid = PathResolution.resolve(pid, against: prefix) }
        if !globalSource.isSet("error_log"), let prefix {
            global.errorLog = PathResolution.resolve("log/fpm.log", against: prefix)
        } else if global.errorLog != "syslog" {
            global.errorLog = PathResolution.resolve(global.errorLog, against: prefix)
        }
        configuration.global = global
    }

    private mutating func globalError(_ directive: String, _ value: String?, _ message: String, severity: ConfigurationDiagnostic.Severity = .error) {
        let location = globalSource.directives[directive]
        diagnostics.append(ConfigurationDiagnostic(
            file: location?.file ?? configuration.path, line: location?.line, directive: directive, value: value,
            message: message, severity: severity))
    }

    private mutating func validateGlobal() {
        let global = configuration.global
        if global.logLimit < 512 {
            globalError("log_limit", String(global.logLimit), "log_limit must be greater than 512")
        }
        if let group = global.statusGroup, !fileSystem.groupExists(group) {
            globalError("status.group", group, "cannot get gid for group '\(group)'")
        }
        if global.processMax < 0 {
            globalError("process.max", String(global.processMax), "process_max can't be negative")
        }
        if let priority = global.processPriority, !(-19...20).contains(priority) {
            globalError("process.priority", String(priority), "process.priority must be included into [-19,20]")
        }
        if let mechanism = global.eventsMechanism, mechanism != "epoll" {
            globalError("events.mechanism", mechanism, "swift-fpm does not use events.mechanism; ignored", severity: .warning)
        }
    }

    // MARK: pools

    private func resolvedPrefix(of pool: PoolConfiguration) -> String? {
        pool.prefix.map { PathResolution.resolve($0, against: prefix) } ?? prefix
    }

    private static func resolvePoolPaths(_ pool: inout PoolConfiguration, prefix: String?) {
        if let poolPrefix = pool.prefix { pool.prefix = PathResolution.resolve(poolPrefix, against: prefix) }
        let base = pool.prefix ?? prefix
        if let chroot = pool.chroot, chroot.hasPrefix("$prefix") {
            pool.chroot = (base ?? "") + chroot.dropFirst("$prefix".count)
        }
        pool.listen = pool.listen.resolved(against: base)
        pool.statusListen = pool.statusListen?.resolved(against: base)
        pool.accessLog = pool.accessLog.map { PathResolution.resolve($0, against: base) }
        pool.slowlog = pool.slowlog.map { PathResolution.resolve($0, against: base) }
        if pool.chroot == nil { pool.chdir = pool.chdir.map { PathResolution.resolve($0, against: base) } }
    }

    mutating func poolDiagnostic(
        _ index: Int, _ directive: String, _ value: String?, _ message: String,
        severity: ConfigurationDiagnostic.Severity = .error
    ) {
        let pool = configuration.pools[index]
        let set = pool.source.isSet(directive)
        let location = pool.source.location(of: directive)
        diagnostics.append(ConfigurationDiagnostic(
            file: location.file, line: location.line, pool: pool.name, directive: directive,
            value: set ? value : nil, message: message, severity: severity))
    }

    private mutating func validatePool(_ index: Int) {
        var pool = configuration.pools[index]
        let source = pool.source
        func error(_ directive: String, _ value: String?, _ message: String) {
            poolDiagnostic(index, directive, value, message)
        }
        func warning(_ directive: String, _ value: String?, _ message: String, severity: ConfigurationDiagnostic.Severity = .warning) {
            poolDiagnostic(index, directive, value, message, severity: severity)
        }

        if pool.isJobPool || source.isSet("gearman.functions") {
            validateJobPool(index, pool)
        } else if !source.isSet("listen") {
            error("listen", nil, "no listen address have been defined!")
        }

        // Process manager.
        if !source.isSet("pm") {
            error("pm", nil, "the process manager is missing (static, dynamic or ondemand)")
        }
        if pool.maxChildren < 1 {
            error("pm.max_children", String(pool.maxChildren),
                  source.isSet("pm.max_children") ? "pm.max_children must be a positive value" : "must be set to a positive value")
        }
        if pool.maxSpawnRate < 1 {
            error("pm.max_spawn_rate", String(pool.maxSpawnRate), "pm.max_spawn_rate must be a positive value")
        }
        if source.isSet("pm") && pool.maxChildren >= 1 {
            switch pool.pm {
            case .static:
                break
            case .dynamic:
                validateDynamic(index, &pool)
            case .ondemand:
                if pool.processIdleTimeout <= 0 {
                    error("pm.process_idle_timeout", ValueParsing.renderSeconds(pool.processIdleTimeout),
                          "pm.process_idle_timeout(0s) must be greater than 0s")
                }
                pool.startServers = 0
                pool.minSpareServers = 0
                pool.maxSpareServers = 0
            }
        }
        if pool.maxQueueWait > 0 && pool.exec != nil {
            // The program accepts on the socket itself: the master cannot hold a connection
            // for it and hand it on, only answer it (which it does while the pool has no worker).
            error("pm.max_queue_wait", ValueParsing.renderMilliseconds(pool.maxQueueWait),
                  "needs a Swift handler pool: an exec program accepts connections itself")
        }
        if pool.warmTemplate && pool.exec != nil {
            // Only a Swift worker can be forked from a process that ran the app's warmUp.
            error("pm.warm_template", "yes", "needs a Swift handler pool: an exec program is its own process image")
        }
        if pool.maxRequestsJitter > 0 && pool.maxRequests == 0 {
            warning("pm.max_requests_jitter", String(pool.maxRequestsJitter), "has no effect while pm.max_requests is 0")
        }

        // Status and ping.
        if let path = pool.statusPath, let message = Self.uriPathProblem(path, kind: "status path") {
            error("pm.status_path", path, message)
        }
        if let path = pool.pingPath {
            if let message = Self.uriPathProblem(path, kind: "ping path") { error("ping.path", path, message) }
            if pool.pingResponse.isEmpty {
                error("ping.response", "\"\"", "the ping response page '' is not long enough")
            }
        }

        // Slow log and timeouts.
        if pool.requestSlowlogTimeout > 0 {
            if pool.slowlog == nil {
                error("request_slowlog_timeout", ValueParsing.renderSeconds(pool.requestSlowlogTimeout),
                      "'slowlog' must be specified for use with 'request_slowlog_timeout'")
            }
            if pool.requestTerminateTimeout > 0 && pool.requestSlowlogTimeout > pool.requestTerminateTimeout {
                error("request_slowlog_timeout", ValueParsing.renderSeconds(pool.requestSlowlogTimeout),
                      "can't be greater than request_terminate_timeout (\(ValueParsing.renderSeconds(pool.requestTerminateTimeout)))")
            }
        }
        if pool.requestSlowlogTraceDepth < 1 {
            error("request_slowlog_trace_depth", String(pool.requestSlowlogTraceDepth), "must be a positive value")
        }

        // Directories.
        if let poolPrefix = pool.prefix {
            if !poolPrefix.hasPrefix("/") {
                error("prefix", poolPrefix, "the prefix '\(poolPrefix)' must be an absolute path (or relative to -p)")
            } else if !fileSystem.isDirectory(poolPrefix) {
                error("prefix", poolPrefix, "the prefix '\(poolPrefix)' does not exist or is not a directory")
            }
        }
        for (directive, address) in [("listen", Optional(pool.listen)), ("pm.status_listen", pool.statusListen)] {
            if case .unix(let path)? = address, path.contains(":") {
                error(directive, path, "a unix socket path cannot contain ':'")
            }
        }
        if let chroot = pool.chroot {
            if !chroot.hasPrefix("/") {
                error("chroot", chroot, "the chroot path '\(chroot)' must start with a '/'")
            } else if !fileSystem.isDirectory(chroot) {
                error("chroot", chroot, "the chroot path '\(chroot)' does not exist or is not a directory")
            }
        }
        if let chdir = pool.chdir {
            if !chdir.hasPrefix("/") {
                error("chdir", chdir, "the chdir path '\(chdir)' must start with a '/'")
            } else {
                let full = pool.chroot.map { $0.hasSuffix("/") ? String($0.dropLast()) + chdir : $0 + chdir } ?? chdir
                if !fileSystem.isDirectory(full) {
                    error("chdir", chdir, "the chdir path '\(full)' does not exist or is not a directory")
                }
            }
        }

        if let priority = pool.processPriority, !(-19...20).contains(priority) {
            error("process.priority", String(priority), "process.priority must be included into [-19,20]")
        }

        // Accounts.
        for (directive, name) in [("user", pool.user), ("listen.owner", pool.listenOwner)] {
            if let name, !fileSystem.userExists(name) { error(directive, name, "cannot get uid for user '\(name)'") }
        }
        for (directive, name) in [("group", pool.group), ("listen.group", pool.listenGroup)] {
            if let name, !fileSystem.groupExists(name) { error(directive, name, "cannot get gid for group '\(name)'") }
        }

        // Handler or program. Neither is an error, not a silent `info`: a php-fpm pool file
        // would otherwise start and answer every `.php` URL with the request's params
        // (cookies and Authorization included).
        // A php-fpm pool file is told apart and pointed at php-cgi, the php-cgi actually installed.
        if pool.exec == nil && !source.isSet("handler") {
            if let evidence = PHPCGI.evidence(in: pool) {
                let program = fileSystem.phpCGIProgram() ?? "/path/to/php-cgi"
                error("handler", nil, "the pool has neither 'handler' nor 'exec' and looks like a php-fpm pool (\(evidence)): add 'exec = \(program)' to run PHP with php-cgi, one process per worker as php-fpm's (the php_* lines reach it as -d settings)")
            } else {
                error("handler", nil, "the pool has neither 'handler' nor 'exec': set 'handler = NAME' (a built-in handler such as info or cgi, or one the app registers) or 'exec = PROGRAM' (an external FastCGI program run as the workers)")
            }
        }
        // What the workers would answer: an exec'd program answers every request on the socket.
        if pool.exec != nil {
            for (directive, value) in [("pm.status_path", pool.statusPath), ("ping.path", pool.pingPath)] {
                if let value, pool.statusListen == nil {
                    warning(directive, value, "not served in an exec pool (its program answers every request on the pool's socket): use pm.status_listen for the status and ping pages")
                }
            }
            if let extensions = pool.securityLimitExtensions {
                warning("security.limit_extensions", extensions.joined(separator: " "), "not enforced in an exec pool (its program reads SCRIPT_FILENAME itself): keep the web server's guard, e.g. nginx's `try_files $uri =404` in the `.php` location")
            }
        }
        // php-cgi forking its own children would hide them from the master's process manager.
        if pool.runsPHPCGI, let children = pool.environment.first(where: { $0.name == "PHP_FCGI_CHILDREN" }),
            children.value != "0", !children.value.isEmpty
        {
            error("env[PHP_FCGI_CHILDREN]", children.value, "php-cgi would fork its own children behind the master: leave it unset and size the pool with pm.max_children")
        }
        if let exec = pool.exec {
            if source.isSet("handler") {
                let execLocation = source.location(of: "exec")
                error("handler", pool.handler, "cannot be used together with exec (set at \(execLocation))")
            }
            if let program = exec.first, program.contains("/"), !fileSystem.isExecutable(program) {
                error("exec", ValueParsing.renderWords(exec), "'\(program)' is not an executable file")
            }
        }

        // cgi script limits: below 1 MiB of address space not even /bin/sh starts.
        if pool.cgiRlimitAS > 0 && pool.cgiRlimitAS < 1 << 20 {
            error("cgi.rlimit_as", ValueParsing.renderBytes(pool.cgiRlimitAS), "must be 0 (no limit) or at least 1M")
        }
        if (pool.cgiRlimitAS > 0 || pool.cgiRlimitCPU > 0) && (pool.exec != nil || pool.handler != "cgi") {
            let directive = pool.cgiRlimitAS > 0 ? "cgi.rlimit_as" : "cgi.rlimit_cpu"
            let value = pool.cgiRlimitAS > 0 ? ValueParsing.renderBytes(pool.cgiRlimitAS) : ValueParsing.renderSeconds(pool.cgiRlimitCPU)
            warning(directive, value, "applies to the scripts of a 'handler = cgi' pool only; ignored")
        }

        // Access log format, checked by the logging code through the hook.
        if let validator = accessFormatValidator, pool.accessLog != nil || source.isSet("access.format"),
            let message = validator(pool.accessFormat)
        {
            error("access.format", ValueParsing.renderString(pool.accessFormat), message)
        }

        // Accepted, but not acted on by swift-fpm.
        if pool.listenACLUsers != nil || pool.listenACLGroups != nil {
            let directive = pool.listenACLUsers != nil ? "listen.acl_users" : "listen.acl_groups"
            warning(directive, pool.listenACLUsers ?? pool.listenACLGroups, "swift-fpm does not set POSIX ACLs on the socket; ignored")
        }
        if pool.listenSetfib != -1 {
            warning("listen.setfib", String(pool.listenSetfib), "only meaningful on FreeBSD; ignored")
        }
        if let hat = pool.apparmorHat {
            warning("apparmor_hat", hat, "swift-fpm does not change AppArmor hats; ignored")
        }

        configuration.pools[index] = pool
    }

    private mutating func validateDynamic(_ index: Int, _ pool: inout PoolConfiguration) {
        let source = pool.source
        func error(_ directive: String, _ value: Int, _ message: String) {
            poolDiagnostic(index, directive, String(value), message)
        }
        var valid = true
        if pool.minSpareServers <= 0 {
            error("pm.min_spare_servers", pool.minSpareServers, "pm.min_spare_servers(\(pool.minSpareServers)) must be a positive value")
            valid = false
        }
        if pool.maxSpareServers <= 0 {
            error("pm.max_spare_servers", pool.maxSpareServers, "pm.max_spare_servers(\(pool.maxSpareServers)) must be a positive value")
            valid = false
        }
        guard valid else { return }
        if pool.minSpareServers > pool.maxChildren {
            error("pm.min_spare_servers", pool.minSpareServers, "cannot be greater than pm.max_children (\(pool.maxChildren))")
            valid = false
        }
        if pool.maxSpareServers > pool.maxChildren {
            error("pm.max_spare_servers", pool.maxSpareServers, "cannot be greater than pm.max_children (\(pool.maxChildren))")
            valid = false
        }
        if pool.maxSpareServers < pool.minSpareServers {
            error("pm.max_spare_servers", pool.maxSpareServers, "must not be less than pm.min_spare_servers (\(pool.minSpareServers))")
            valid = false
        }
        guard valid else { return }
        if pool.startServers <= 0 {
            let start = pool.minSpareServers + (pool.maxSpareServers - pool.minSpareServers) / 2
            let message = source.isSet("pm.start_servers")
                ? "is not positive; it has been set to \(start)"
                : "pm.start_servers is not set. It's been set to \(start)."
            poolDiagnostic(index, "pm.start_servers", String(pool.startServers), message, severity: .notice)
            pool.startServers = start
        } else if pool.startServers < pool.minSpareServers || pool.startServers > pool.maxSpareServers {
            error("pm.start_servers", pool.startServers,
                  "must be between pm.min_spare_servers (\(pool.minSpareServers)) and pm.max_spare_servers (\(pool.maxSpareServers))")
        }
    }

    /// php-fpm's rules for `pm.status_path` and `ping.path`.
    static func uriPathProblem(_ path: String, kind: String) -> String? {
        guard path.hasPrefix("/") else { return "the \(kind) '\(path)' must start with a '/'" }
        guard path.utf8.count >= 2 else { return "the \(kind) '\(path)' is not long enough" }
        let allowed = path.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "/_-.~".unicodeScalars.contains(scalar))
        }
        guard allowed else { return "the \(kind) '\(path)' must contain only the following characters '[alphanum]/_-.~'" }
        return nil
    }

    // MARK: across pools

    private mutating func validateUniqueListen() {
        var seen: [String: String] = [:]
        for index in configuration.pools.indices where !skipPools.contains(index) {
            let pool = configuration.pools[index]
            var addresses: [(String, ListenAddress)] = []
            if pool.source.isSet("listen") { addresses.append(("listen", pool.listen)) }
            if let status = pool.statusListen { addresses.append(("pm.status_listen", status)) }
            for (directive, address) in addresses {
                let key = address.description
                if let owner = seen[key] {
                    poolDiagnostic(index, directive, key, "unable to set listen address as it's already used in another pool '\(owner)'")
                } else {
                    seen[key] = pool.name
                }
            }
        }
    }
}
