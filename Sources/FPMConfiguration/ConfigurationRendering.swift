/// `-tt`: the effective configuration, defaults included, as INI text the loader reads back to an
/// equal configuration. Unset optional directives are written as commented-out lines.
extension FPMConfiguration {
    public func renderEffective() -> String {
        var out = ConfigurationWriter()
        out.section("global")
        let global = self.global
        out.optional("pid", global.pid.map(ValueParsing.renderString))
        out.line("error_log", ValueParsing.renderString(global.errorLog))
        out.line("syslog.ident", ValueParsing.renderString(global.syslogIdent))
        out.line("syslog.facility", global.syslogFacility.description)
        out.line("log_buffering", Self.yesNo(global.logBuffering))
        out.line("log_level", global.logLevel.description)
        out.line("log_limit", String(global.logLimit))
        out.line("emergency_restart_threshold", String(global.emergencyRestartThreshold))
        out.line("emergency_restart_interval", ValueParsing.renderSeconds(global.emergencyRestartInterval))
        out.line("process_control_timeout", ValueParsing.renderSeconds(global.processControlTimeout))
        out.line("graceful_sigterm", Self.yesNo(global.gracefulSigterm))
        out.line("process.max", String(global.processMax))
        out.optional("process.priority", global.processPriority.map { String($0) })
        out.line("daemonize", Self.yesNo(global.daemonize))
        out.optional("rlimit_files", global.rlimitFiles.map { String($0) })
        out.optional("rlimit_core", global.rlimitCore?.description)
        out.optional("events.mechanism", global.eventsMechanism.map(ValueParsing.renderString))
        out.line("systemd_interval", ValueParsing.renderSeconds(global.systemdInterval))
        out.optional("status.group", global.statusGroup.map(ValueParsing.renderString))
        for pool in pools {
            out.blank()
            Self.render(pool, into: &out)
        }
        return out.text
    }

    private static func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }

    private static func render(_ pool: PoolConfiguration, into out: inout ConfigurationWriter) {
        let string = ValueParsing.renderString
        out.section(pool.name)
        if let servers = pool.gearmanServers {
            out.comment("a job pool: no listen")
            out.line("gearman.servers", string(servers.map(\.description).joined(separator: ", ")))
            out.optional("gearman.functions", pool.gearmanFunctions.map { string($0.joined(separator: ", ")) },
                         unsetNote: "the handler's name")
            out.omitted = Set(["listen"] + ConfigurationValidation.directivesWithoutMeaningInJobPools)
        }
        out.optional("prefix", pool.prefix.map(string))
        out.optional("user", pool.user.map(string))
        out.optional("group", pool.group.map(string))
        out.line("listen", string(pool.listen.description))
        out.line("listen.backlog", String(pool.listenBacklog))
        out.optional("listen.owner", pool.listenOwner.map(string))
        out.optional("listen.group", pool.listenGroup.map(string))
        out.line("listen.mode", ValueParsing.renderOctal(pool.listenMode))
        out.optional("listen.acl_users", pool.listenACLUsers.map(string))
        out.optional("listen.acl_groups", pool.listenACLGroups.map(string))
        out.optional("listen.allowed_clients", pool.allowedClients.map { string($0.joined(separator: ",")) })
        out.line("listen.setfib", String(pool.listenSetfib))
        out.optional("process.priority", pool.processPriority.map { String($0) })
        out.line("process.dumpable", yesNo(pool.processDumpable))
        out.line("pm", pool.pm.description)
        out.line("pm.max_children", String(pool.maxChildren))
        out.line("pm.start_servers", String(pool.startServers))
        out.line("pm.min_spare_servers", String(pool.minSpareServers))
        out.line("pm.max_spare_servers", String(pool.maxSpareServers))
        out.line("pm.max_spawn_rate", String(pool.maxSpawnRate))
        out.line("pm.process_idle_timeout", ValueParsing.renderSeconds(pool.processIdleTimeout))
        out.line("pm.max_requests", String(pool.maxRequests))
        out.line("pm.max_requests_jitter", String(pool.maxRequestsJitter))
        out.line("pm.max_memory", ValueParsing.renderBytes(pool.maxMemory))
        out.line("pm.max_queue_wait", ValueParsing.renderMilliseconds(pool.maxQueueWait))
        out.line("pm.warm_template", yesNo(pool.warmTemplate))
        out.optional("pm.status_path", pool.statusPath.map(string))
        out.optional("pm.status_listen", pool.statusListen.map { string($0.description) })
        out.optional("ping.path", pool.pingPath.map(string))
        out.line("ping.response", string(pool.pingResponse))
        out.optional("access.log", pool.accessLog.map(string))
        out.line("access.format", string(pool.accessFormat))
        for path in pool.accessSuppressPaths { out.line("access.suppress_path[]", string(path)) }
        out.optional("slowlog", pool.slowlog.map(string))
        out.line("request_slowlog_timeout", ValueParsing.renderSeconds(pool.requestSlowlogTimeout))
        out.line("request_slowlog_trace_depth", String(pool.requestSlowlogTraceDepth))
        out.line("request_terminate_timeout", ValueParsing.renderSeconds(pool.requestTerminateTimeout))
        out.line("request_terminate_timeout_track_finished", yesNo(pool.requestTerminateTimeoutTrackFinished))
        out.line("request_read_timeout", ValueParsing.renderSeconds(pool.requestReadTimeout))
        out.line("request_write_timeout", ValueParsing.renderSeconds(pool.requestWriteTimeout))
        out.optional("rlimit_files", pool.rlimitFiles.map { String($0) })
        out.optional("rlimit_core", pool.rlimitCore?.description)
        out.line("cgi.rlimit_as", ValueParsing.renderBytes(pool.cgiRlimitAS))
        out.line("cgi.rlimit_cpu", ValueParsing.renderSeconds(pool.cgiRlimitCPU))
        out.optional("chroot", pool.chroot.map(string))
        out.optional("chdir", pool.chdir.map(string))
        out.line("catch_workers_output", yesNo(pool.catchWorkersOutput))
        out.line("decorate_workers_output", yesNo(pool.decorateWorkersOutput))
        out.line("clear_env", yesNo(pool.clearEnv))
        out.optional("security.limit_extensions", pool.securityLimitExtensions.map { string($0.joined(separator: " ")) },
                     unsetNote: PoolConfiguration.phpDefaultLimitExtensions.joined(separator: " ") + " (php-fpm's default)")
        out.optional("apparmor_hat", pool.apparmorHat.map(string))
        if let exec = pool.exec {
            out.comment("handler = \(pool.handler) (not used: exec is set)")
            out.line("exec", string(ValueParsing.renderWords(exec)))
        } else {
            out.line("handler", string(pool.handler))
            out.optional("exec", nil)
        }
        out.omitted = []
        for variable in pool.environment {
            // `$NAME` re-reads as a copy of the master's NAME; `$"pool…"` keeps `$pool` from expanding.
            let value = variable.copiedFrom.map { $0.hasPrefix("pool") ? "$\"\($0)\"" : "$" + $0 } ?? string(variable.value)
            out.line("env[\(variable.name)]", value)
        }
        for setting in pool.phpSettings {
            out.line("\(setting.kind.rawValue)[\(setting.key)]", string(setting.value))
        }
    }
}

/// Accumulates INI lines.
struct ConfigurationWriter {
    var text = ""

    mutating func section(_ name: String) { text += "[\(name)]\n" }
    mutating func blank() { text += "\n" }
    mutating func comment(_ comment: String) { text += "; \(comment)\n" }
    /// Directives that mean nothing in the section being written (a job pool's listen.*…):
    /// left out, so the text reads back as the same configuration.
    var omitted: Set<String> = []

    mutating func line(_ name: String, _ value: String) {
        guard !omitted.contains(name) else { return }
        text += "\(name) = \(value)\n"
    }

    /// A set optional directive, or a commented-out line saying it is not set.
    mutating func optional(_ name: String, _ value: String?, unsetNote: String? = nil) {
        if omitted.contains(name) {
            return
        } else if let value {
            line(name, value)
        } else if let unsetNote {
            text += ";\(name) = ; not set: \(unsetNote)\n"
        } else {
            text += ";\(name) = ; not set\n"
        }
    }
}
