import FPMSystem
import FPMConfiguration
import Glibc
import Logging

package func isDirectory(_ path: String) -> Bool {
    FileSystem.isDirectory(path)
}

package func printError(_ s: String) {
    try? FileIO.writeAll(2, s + "\n")
}

/// Loading, checking and starting, shared by `fpm` and the reload path.
package enum Launcher {
    /// The handlers every build has.
    package static var builtInHandlers: [String: any RequestHandler] {
        ["info": InfoHandler(), "cgi": CGIHandler()]
    }

    /// The configuration file in force: -y, else the prefix's etc/fpm.conf, else none (embedded).
    static func configPath(options: LaunchOptions) -> String? {
        if let p = options.configPath { return p }
        return ConfigurationLoader.defaultConfigPath(prefix: options.prefix)
    }

    /// Loads and validates everything `-t` checks, including what only this binary knows (its
    /// handlers).
    static func loadConfiguration(options: LaunchOptions, environment: [String: String],
                                  handlers: [String: any RequestHandler]) throws -> FPMConfiguration {
        var configuration: FPMConfiguration
        if let path = configPath(options: options) {
            configuration = try ConfigurationLoader.load(path: path, prefix: options.prefix, environment: environment,
                                                         pidOverride: options.pidOverride,
                                                         accessFormatValidator: { AccessLogFormat.validate($0) })
        } else {
            configuration = ConfigurationLoader.loadEmbedded(environment: environment)
        }
        try checkHandlers(configuration, handlers: handlers)
        return configuration
    }

    /// What only this binary can check: every pool's `handler` is one it has.
    static func checkHandlers(_ configuration: FPMConfiguration, handlers: [String: any RequestHandler]) throws(ConfigurationError) {
        var problems: [ConfigurationDiagnostic] = []
        for pool in configuration.pools where pool.exec == nil {
            func problem(_ message: String) {
                problems.append(ConfigurationDiagnostic(
                    file: pool.sourceFile, line: pool.source.isSet("handler") ? pool.source.location(of: "handler").line : pool.sourceLine, pool: pool.name,
                    directive: "handler", value: pool.handler, message: message, severity: .error))
            }
            guard let handler = handlers[pool.handler] else {
                problem("unknown handler '\(pool.handler)' (this binary has: \(handlers.keys.sorted().joined(separator: ", ")))")
                continue
            }
            // A job handler runs jobs, a request handler answers FastCGI requests: not the other's pool.
            let runsJobs = handler is any JobRunner
            if pool.isJobPool && !runsJobs {
                problem("'\(pool.handler)' is a request handler, and this is a job pool (gearman.servers): name a job handler (this binary has: \(names(handlers, jobs: true)))")
            } else if !pool.isJobPool && runsJobs {
                problem("'\(pool.handler)' is a job handler: it needs a job pool (gearman.servers, no listen)")
            }
        }
        if !problems.isEmpty { throw ConfigurationError(diagnostics: problems) }
    }

    /// The names of the job handlers (or of the request handlers), sorted, for a message.
    static func names(_ handlers: [String: any RequestHandler], jobs: Bool) -> String {
        let names = handlers.filter { ($0.value is any JobRunner) == jobs }.keys.sorted()
        return names.isEmpty ? "none" : names.joined(separator: ", ")
    }

    /// A re-executed master's configuration: exactly the one its previous image validated
    /// (rendered in the inheritance), never the files again.
    static func inheritedConfiguration(_ inheritance: ReloadInheritance, options: LaunchOptions,
                                       environment: [String: String], handlers: [String: any RequestHandler]) throws -> FPMConfiguration {
        let configuration = try ConfigurationLoader.load(
            text: inheritance.configuration, path: inheritance.configurationPath, prefix: options.prefix,
            environment: environment, fileSystem: inheritance.configurationPath == nil ? .isolated : .system)
        try checkHandlers(configuration, handlers: handlers)
        return configuration
    }

    package static func launch(options: LaunchOptions, testLevel: Int, handlers: [String: any RequestHandler]) -> Int32 {
        // A reload re-executes this binary: what the previous image handed over comes first.
        let inheritance: ReloadInheritance?
        do {
            inheritance = try ReloadInheritance.receive()
        } catch {
            printError("ERROR: \(error)")
            inheritance = nil
        }
        let environment = Processes.environment()
        let configuration: FPMConfiguration
        do {
            if let inheritance {
                configuration = try inheritedConfiguration(inheritance, options: options, environment: environment, handlers: handlers)
            } else {
                configuration = try loadConfiguration(options: options, environment: environment, handlers: handlers)
            }
        } catch {
            for line in "\(error)".split(separator: "\n") { printError("ERROR: \(line)") }
            // A reload's new image must not exit under its inherited workers.
            if let inheritance { Master.fallBack(inheritance, because: "\(error)", options: options, log: .bootstrap()) }
            printError("ERROR: FPM initialization failed")
            return ExitCodes.config
        }
        // What a start could still fail on (files, accounts, directories; binding under -t).
        var startProblems = StartChecks.problems(in: configuration, allowRoot: options.allowRoot, forceStderr: options.forceStderr)
        if testLevel > 0 { startProblems += StartChecks.bindProblems(in: configuration) }
        for warning in configuration.warnings + startProblems.filter({ $0.severity != .error }) {
            printError("\(warning.severity == .notice ? "NOTICE" : "WARNING"): \(warning)")
        }
        let startErrors = startProblems.filter { $0.severity == .error }
        if testLevel > 0 && !startErrors.isEmpty {
            for problem in startErrors { printError("ERROR: \(problem)") }
            printError("ERROR: FPM initialization failed")
            return ExitCodes.config
        }
        if testLevel > 0 {
            if testLevel > 1 { print(configuration.renderEffective(), terminator: "") }
            printError("NOTICE: configuration file \(configuration.path ?? "(embedded default)") test is successful")
            return ExitCodes.ok
        }
        // Logging.
        let global = configuration.global
        let destination: ErrorLog.Destination
        if options.forceStderr {
            destination = .stderr
        } else if global.errorLog == "syslog" {
            destination = .syslog(ident: global.syslogIdent, facility: global.syslogFacility.code)
        } else if global.errorLog == "/dev/stderr" || global.errorLog == "stderr" || global.errorLog.isEmpty {
            destination = .stderr
        } else {
            destination = .file(global.errorLog)
        }
        let log: ErrorLog
        do {
            log = try ErrorLog(destination: destination, level: LogSeverity(level: global.logLevel), limit: global.logLimit)
        } catch {
            printError("ERROR: failed to open error_log (\(global.errorLog)): \(error)")
            if let inheritance {
                Master.fallBack(inheritance, because: "failed to open error_log (\(global.errorLog)): \(error)",
                                options: options, log: .bootstrap())
            }
            return ExitCodes.config
        }
        // A start refuses what `-t` refuses, in the error log like php-fpm. (A reload's new
        // image was checked by its previous one; what still fails there falls back.)
        if !startErrors.isEmpty && inheritance == nil {
            for problem in startErrors { log.error("\(problem)") }
            log.error("FPM initialization failed")
            return ExitCodes.config
        }
        // The log object lives as long as the process; a worker inherits it through fork.
        LoggingSystem.bootstrap { ErrorLogHandler(label: $0, log: log) }
        // A re-executed master (reload) is already detached: never fork again, the pid must stay.
        let daemonize = (options.daemonize ?? global.daemonize) && inheritance == nil
        var readyPipe: Int32? = nil
        if daemonize {
            switch Launcher.daemonize(log: log) {
            case .parent(let code): return code
            case .child(let pipe): readyPipe = pipe
            }
        }
        do {
            let master = try Master(configuration: configuration, options: options, handlers: handlers, log: log,
                                    inheritance: inheritance)
            master.daemonReadyPipe = readyPipe
            return master.run()
        } catch {
            log.error("\(error)")
            return ExitCodes.software
        }
    }

    enum DaemonRole { case parent(Int32), child(Int32) }

    /// php-fpm's -D: the launcher waits (10 s at most) for the master to say it started.
    static func daemonize(log: ErrorLog) -> DaemonRole {
        guard let (r, w) = try? FileIO.pipe() else { return .parent(ExitCodes.software) }
        let pid: pid_t
        do { pid = try Processes.fork() } catch { return .parent(ExitCodes.software) }
        if pid > 0 {
            FileIO.close(w)
            var byte: UInt8 = 0
            let ready = (try? Poll.wait(r, for: Poll.readable, timeoutMillis: 10_000)) ?? 0
            let read = ready == 0 ? 0 : (try? withUnsafeMutableBytes(of: &byte) { b throws(SystemError) in try FileIO.read(r, into: b) }) ?? 0
            return .parent(read == 1 && byte == UInt8(ascii: "1") ? ExitCodes.ok : ExitCodes.software)
        }
        FileIO.close(r)
        try? Processes.setsid()
        // Drop descriptors inherited from whoever launched us (a supervisor may wait for them
        // to close to learn that the launcher exited); keep the log and the ready pipe.
        Descriptors.closeAll(from: 3, except: [w, log.fd])
        if let null = try? FileIO.open("/dev/null", O_RDWR) {
            try? FileIO.dup2(null, 0)
            try? FileIO.dup2(null, 1)
            if log.destination != .stderr { try? FileIO.dup2(null, 2) }
            FileIO.close(null)
        }
        return .child(w)
    }
}
