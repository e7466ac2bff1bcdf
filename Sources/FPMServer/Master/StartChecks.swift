import FPMConfiguration
import FPMSystem
import Glibc

/// Everything a start can fail on beyond the configuration's own rules, checked before
/// anything is touched: by `fpm -t`, by a start, and by a reload before the running
/// generation is asked to step aside. Each problem is a diagnostic naming file, line and
/// directive, like a configuration error.
///
/// What it checks: the error log, access logs and slowlogs can be opened for appending (which
/// creates them, as a start would); users and groups exist, and a pool does not run as root
/// without `-R`; `chdir` and `chroot` are directories; `listen.owner`/`listen.group` exist.
/// Binding is checked separately (`bindProblems`), since a reload binds for real and passes
/// the sockets over while `-t` only tries.
package enum StartChecks {
    package static func problems(in configuration: FPMConfiguration, allowRoot: Bool, forceStderr: Bool = false,
                                 isRoot: Bool = Processes.isRoot) -> [ConfigurationDiagnostic] {
        var out: [ConfigurationDiagnostic] = []
        let global = configuration.global
        if !forceStderr, let path = fileLog(global.errorLog), let problem = appendProblem(path) {
            out.append(ConfigurationDiagnostic(file: configuration.path, line: nil, directive: "error_log", value: global.errorLog,
                                               message: problem))
        }
        for pool in configuration.pools {
            func diagnostic(_ directive: String, _ value: String?, _ message: String) -> ConfigurationDiagnostic {
                let line = pool.source.isSet(directive) ? pool.source.location(of: directive).line : pool.sourceLine
                return ConfigurationDiagnostic(file: pool.sourceFile, line: line, pool: pool.name, directive: directive,
                                               value: value, message: message)
            }
            if let path = pool.accessLog, let problem = appendProblem(path) {
                out.append(diagnostic("access.log", path, problem))
            }
            if let path = pool.slowlog, let problem = appendProblem(path) {
                out.append(diagnostic("slowlog", path, problem))
            }
            if isRoot {
                if let user = pool.user {
                    if let account = Processes.user(user) {
                        let gid = pool.group.flatMap { Processes.group($0) } ?? account.gid
                        if (account.uid == 0 || gid == 0) && !allowRoot {
                            out.append(diagnostic("user", user, "please specify user and group other than root (or start with -R)"))
                        }
                    } else {
                        out.append(diagnostic("user", user, "cannot get uid for user '\(user)'"))
                    }
                } else if !allowRoot {
                    out.append(diagnostic("user", nil, "please specify user and group other than root (or start with -R)"))
                }
                if let group = pool.group, Processes.group(group) == nil {
                    out.append(diagnostic("group", group, "cannot get gid for group '\(group)'"))
                }
                if let dir = pool.chroot, !isDirectory(dir) {
                    out.append(diagnostic("chroot", dir, "not a directory"))
                }
            }
            if let dir = pool.chdir {
                // Under chroot, chdir is inside the new root.
                let path = isRoot && pool.chroot != nil ? (pool.chroot! + "/" + dir) : dir
                if !isDirectory(path) { out.append(diagnostic("chdir", dir, "not a directory")) }
            }
            // Without the counter library an exec pool still serves; its status counts nothing.
            if pool.exec != nil, pool.chroot == nil, ExecCounter.libraryPath() == nil {
                var warning = diagnostic("exec", pool.exec?.joined(separator: " "),
                                         "\(ExecCounter.libraryName) is neither beside this binary nor in ../lib/swift-fpm/: the status will not count this pool's requests (build it with `make exec-counter`)")
                warning.severity = .warning
                out.append(warning)
            }
            if case .unix = pool.listen {
                if let owner = pool.listenOwner, Processes.user(owner) == nil {
                    out.append(diagnostic("listen.owner", owner, "cannot get uid for user '\(owner)'"))
                }
                if let group = pool.listenGroup, Processes.group(group) == nil {
                    out.append(diagnostic("listen.group", group, "cannot get gid for group '\(group)'"))
                }
            }
        }
        return out
    }

    /// The path of a file error log, or nil for stderr and syslog.
    static func fileLog(_ value: String) -> String? {
        if value.isEmpty || value == "syslog" || value == "stderr" || value == "/dev/stderr" { return nil }
        return value
    }

    /// Why `path` cannot be opened for appending, or nil when it can.
    static func appendProblem(_ path: String) -> String? {
        do {
            let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
            FileIO.close(fd)
            return nil
        } catch {
            return "cannot open for appending: \(error.errno)"
        }
    }

    /// `-t`: try to bind each pool's address (and let it go). An address already in use is only
    /// a warning — the running master holding it is the normal case when `-t` precedes a reload.
    package static func bindProblems(in configuration: FPMConfiguration) -> [ConfigurationDiagnostic] {
        var out: [ConfigurationDiagnostic] = []
        for pool in configuration.pools where !pool.isJobPool {
            guard case .tcp(let host, let port) = pool.listen else { continue }
            let line = pool.source.isSet("listen") ? pool.source.location(of: "listen").line : pool.sourceLine
            do {
                let fd = try Socket.listenTCP(host: host, port: port, backlog: 1)
                FileIO.close(fd)
            } catch {
                let inUse = "\(error)".contains("in use")
                out.append(ConfigurationDiagnostic(file: pool.sourceFile, line: line, pool: pool.name, directive: "listen",
                                                   value: pool.listen.description,
                                                   message: inUse ? "address in use (by the running master?)" : "cannot bind: \(error)",
                                                   severity: inUse ? .warning : .error))
            }
        }
        return out
    }
}
