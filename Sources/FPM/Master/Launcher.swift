import ArgumentParser
import FPMConfiguration
import Glibc
import Logging

/// php-fpm's exit codes (sysexits).
public enum ExitCodes {
    public static let ok: Int32 = 0
    public static let usage: Int32 = 64
    public static let software: Int32 = 70
    public static let config: Int32 = 78
}

public let swiftFPMVersion = "0.1.0"

/// The entry point that turns named handlers into a complete `fpm` executable: php-fpm's
/// flags, configuration, signals and process model. A user's app calls
/// `FPMMain.run(handlers: ["myapp": MyApp()])` from its `main.swift`.
public enum FPMMain {
    /// The handlers every build has: `info` (and `cgi` when available).
    public static var builtInHandlers: [String: any Handler] {
        var h: [String: any Handler] = ["info": InfoHandler(), "cgi": CGIHandler()]
        for (name, handler) in extraBuiltIns { h[name] = handler }
        return h
    }

    nonisolated(unsafe) static var extraBuiltIns: [String: any Handler] = [:]

    /// Parses the command line and runs; never returns.
    public static func run(handlers: [String: any Handler] = [:], arguments: [String] = CommandLine.arguments) -> Never {
        var all = builtInHandlers
        for (name, handler) in handlers { all[name] = handler }
        Launcher.handlers = all
        do {
            var command = try FPMCommand.parseAsRoot(Array(arguments.dropFirst()))
            try command.run()
            exit(0)
        } catch let code as LaunchExit {
            exit(code.code)
        } catch {
            FPMCommand.exit(withError: error)
        }
    }
}

struct LaunchExit: Error { var code: Int32 }

struct FPMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fpm",
        abstract: "swift-fpm: a FastCGI process manager for Swift handlers, compatible with php-fpm's configuration.",
        helpNames: [.short, .long, .customShort("?")])

    @Option(name: [.customShort("y"), .customLong("fpm-config")], help: "Configuration file.")
    var fpmConfig: String?

    @Option(name: [.customShort("p"), .customLong("prefix")], help: "Prefix for relative paths.")
    var prefix: String?

    @Option(name: [.customShort("g"), .customLong("pid")], help: "PID file (overrides the configuration's pid).")
    var pid: String?

    @Flag(name: [.customShort("t"), .customLong("test")], help: "Test the configuration and exit; twice (-tt) also prints it.")
    var test: Int

    @Flag(name: [.customShort("D"), .customLong("daemonize")], help: "Run in the background (overrides daemonize).")
    var daemonize = false

    @Flag(name: [.customShort("F"), .customLong("nodaemonize")], help: "Stay in the foreground (overrides daemonize).")
    var nodaemonize = false

    @Flag(name: [.customShort("O"), .customLong("force-stderr")], help: "Log to stderr even when it is not a terminal.")
    var forceStderr = false

    @Flag(name: [.customShort("R"), .customLong("allow-to-run-as-root")], help: "Allow pools to run as root.")
    var allowRoot = false

    @Flag(name: [.customShort("v"), .customLong("version")], help: "Print the version and exit.")
    var version = false

    @Option(name: [.customShort("c"), .customLong("php-ini")], help: ArgumentHelp("Accepted for php-fpm compatibility; ignored.", visibility: .hidden))
    var phpIni: String?

    @Flag(name: [.customShort("n"), .customLong("no-php-ini")], help: ArgumentHelp("Accepted for php-fpm compatibility; ignored.", visibility: .hidden))
    var noPHPIni = false

    @Option(name: [.customShort("d"), .customLong("define")], help: ArgumentHelp("Accepted for php-fpm compatibility; ignored.", visibility: .hidden))
    var defines: [String] = []

    mutating func run() throws {
        if version {
            print("swift-fpm \(swiftFPMVersion) (fpm-fcgi)")
            return
        }
        var options = LaunchOptions()
        options.configPath = fpmConfig
        options.prefix = prefix
        options.pidOverride = pid
        options.daemonize = daemonize ? true : (nodaemonize ? false : nil)
        options.forceStderr = forceStderr
        options.allowRoot = allowRoot
        if let prefix, !isDirectory(prefix) {
            printError("ERROR: the prefix '\(prefix)' does not exist or is not a directory")
            throw LaunchExit(code: ExitCodes.usage)
        }
        let code = Launcher.launch(options: options, testLevel: test)
        throw LaunchExit(code: code)
    }
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

func printError(_ s: String) {
    try? FileIO.writeAll(2, s + "\n")
}

/// Loading, checking and starting, shared by `fpm` and the reload path.
enum Launcher {
    nonisolated(unsafe) static var handlers: [String: any Handler] = FPMMain.builtInHandlers

    /// The configuration file in force: -y, else the prefix's etc/fpm.conf, else none (embedded).
    static func configPath(options: LaunchOptions) -> String? {
        if let p = options.configPath { return p }
        return ConfigurationLoader.defaultConfigPath(prefix: options.prefix)
    }

    /// Loads and validates everything `-t` checks, including what only this binary knows (its
    /// handlers).
    static func loadConfiguration(options: LaunchOptions, environment: [String: String],
                                  handlers: [String: any Handler]) throws -> FPMConfiguration {
        var configuration: FPMConfiguration
        if let path = configPath(options: options) {
            configuration = try ConfigurationLoader.load(path: path, prefix: options.prefix, environment: environment,
                                                         pidOverride: options.pidOverride,
                                                         accessFormatValidator: { AccessLogFormat.validate($0) })
        } else {
            configuration = ConfigurationLoader.loadEmbedded(environment: environment)
        }
        var problems: [ConfigurationDiagnostic] = []
        for pool in configuration.pools where pool.exec == nil && handlers[pool.handler] == nil {
            problems.append(ConfigurationDiagnostic(
                file: pool.sourceFile, line: pool.source.isSet("handler") ? pool.source.location(of: "handler").line : pool.sourceLine, pool: pool.name,
                directive: "handler", value: pool.handler,
                message: "unknown handler '\(pool.handler)' (this binary has: \(handlers.keys.sorted().joined(separator: ", ")))",
                severity: .error))
        }
        if !problems.isEmpty { throw ConfigurationError(diagnostics: problems) }
        return configuration
    }

    static func launch(options: LaunchOptions, testLevel: Int) -> Int32 {
        let environment = Processes.environment()
        let configuration: FPMConfiguration
        do {
            configuration = try loadConfiguration(options: options, environment: environment, handlers: handlers)
        } catch {
            for line in "\(error)".split(separator: "\n") { printError("ERROR: \(line)") }
            printError("ERROR: FPM initialization failed")
            return ExitCodes.config
        }
        for warning in configuration.warnings {
            printError("\(warning.severity == .notice ? "NOTICE" : "WARNING"): \(warning)")
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
            return ExitCodes.config
        }
        ProcessLog.current = log
        LoggingSystem.bootstrap { ErrorLogHandler(label: $0) }
        // A re-executed master (reload) is already detached: never fork again, the pid must stay.
        let reloading = environment[Inheritance.generation] != nil
        let daemonize = (options.daemonize ?? global.daemonize) && !reloading
        var readyPipe: Int32 = -1
        if daemonize {
            switch Launcher.daemonize(log: log) {
            case .parent(let code): return code
            case .child(let pipe): readyPipe = pipe
            }
        }
        do {
            let master = try Master(configuration: configuration, options: options, handlers: handlers, log: log)
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
            var p = pollfd(fd: r, events: Int16(POLLIN), revents: 0)
            var byte: UInt8 = 0
            if Glibc.poll(&p, 1, 10_000) > 0, Glibc.read(r, &byte, 1) == 1, byte == UInt8(ascii: "1") {
                return .parent(ExitCodes.ok)
            }
            return .parent(ExitCodes.software)
        }
        FileIO.close(r)
        try? Processes.setsid()
        // Drop descriptors inherited from whoever launched us (a supervisor may wait for them
        // to close to learn that the launcher exited); keep the log and the ready pipe.
        for fd in Int32(3)..<Int32(1024) where fd != w && fd != log.fd { _ = Glibc.close(fd) }
        if let null = try? FileIO.open("/dev/null", O_RDWR) {
            try? FileIO.dup2(null, 0)
            try? FileIO.dup2(null, 1)
            if log.destination != .stderr { try? FileIO.dup2(null, 2) }
            FileIO.close(null)
        }
        return .child(w)
    }
}
