import ArgumentParser
import FPMConfiguration
import FPMServer
import FPMStatus
import FPMSystem

/// The entry point that turns named handlers into a complete `fpm` executable: php-fpm's
/// flags, configuration, signals and process model. A user's app calls
/// `FPMMain.run(handlers: ["myapp": router])` from its `main.swift`.
public enum FPMMain {
    /// Parses the command line and runs; never returns. `handlers` are named as a pool's
    /// `handler =` names them (a ``Router`` or any ``Handler``); the built-in `info` and `cgi`
    /// are always there.
    public static func run(handlers: [String: any Handler] = [:], arguments: [String] = CommandLine.arguments) -> Never {
        run(handlers: handlers, jobs: [:], arguments: arguments)
    }

    /// As `run(handlers:arguments:)`, with job handlers as well: a job pool's `handler =`
    /// names one of `jobs` (docs/JOBS.md). A name may not be both a handler and a job handler.
    public static func run(handlers: [String: any Handler] = [:], jobs: [String: any JobHandler],
                           arguments: [String] = CommandLine.arguments) -> Never {
        var all = Launcher.builtInHandlers
        for (name, handler) in handlers { all[name] = AppHandler(app: handler) }
        for (name, handler) in jobs {
            precondition(handlers[name] == nil, "'\(name)' names both a handler and a job handler")
            all[name] = AppJobHandler(app: handler)
        }
        if arguments.dropFirst().contains("--experimental-dump-help") {
            print(HelpDump.rendered(FPMCommand.self))
            Processes.exit(0)
        }
        do {
            let command = try FPMCommand.parse(Array(arguments.dropFirst()))
            try command.launch(handlers: all)
            Processes.exit(0)
        } catch let code as LaunchExit {
            Processes.exit(code.code)
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
        discussion: """
        Without -y, the configuration is conf/fpm.conf, else /etc/swift-fpm/fpm.conf, else the \
        embedded default (pool www on 127.0.0.1:9000). Signals: TERM and INT stop now, QUIT stops \
        gracefully, USR1 reopens the logs, USR2 and HUP reload without dropping a request; \
        fpmctl(1) sends them and waits for the outcome. Under systemd, Type=notify and socket \
        activation (LISTEN_FDS) are understood. Exit codes: 0, 78 for a configuration error, 70 \
        when the master could not start.
        """,
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

    /// Internal: the master starts this binary so to run one pool's once-per-generation
    /// preparation (`PoolPreparing`) in a process of its own.
    @Option(name: .customLong("prepare-pool"), help: ArgumentHelp("Run a pool's preparation and exit (used by the master).", visibility: .private))
    var preparePool: String?

    /// Internal: prints fpm.conf(5), the directive reference, from the shipped files in the
    /// given `conf` folder (``DirectiveReference``); `make man` runs it.
    @Option(name: .customLong("directive-reference"), help: ArgumentHelp("Print fpm.conf(5) from a conf folder.", visibility: .private))
    var directiveReference: String?

    func launch(handlers: [String: any RequestHandler]) throws {
        if let folder = directiveReference {
            guard let global = FileIO.readFile(folder + "/fpm.conf"), let pool = FileIO.readFile(folder + "/pool.d/www.conf") else {
                printError("ERROR: \(folder) has no fpm.conf and pool.d/www.conf")
                throw LaunchExit(code: ExitCodes.usage)
            }
            print(DirectiveReference.manual(globalFile: String(decoding: global, as: UTF8.self),
                                            poolFile: String(decoding: pool, as: UTF8.self), date: "$Mdocdate$"), terminator: "")
            return
        }
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
        if let preparePool {
            throw LaunchExit(code: PoolPreparation.run(pool: preparePool, options: options, handlers: handlers))
        }
        let code = Launcher.launch(options: options, testLevel: test, handlers: handlers)
        throw LaunchExit(code: code)
    }
}

