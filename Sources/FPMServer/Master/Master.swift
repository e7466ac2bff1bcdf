import FPMSystem
import CFPMShims
import FPMConfiguration
import FastCGI
import Glibc

/// How the master was launched: the command line, kept for re-exec on reload.
package struct LaunchOptions: Sendable {
    package var configPath: String?
    package var prefix: String?
    package var pidOverride: String?
    /// -D / -F: nil = the config's `daemonize`.
    package var daemonize: Bool?
    package var forceStderr = false
    package var allowRoot = false
    /// The full argv, re-used when the master re-executes itself.
    package var arguments: [String] = CommandLine.arguments

    package init() {}
}

/// The master's states, php-fpm's, plus the hand-over of a reload.
enum MasterPhase: Equatable {
    case running
    case finishing   // SIGQUIT: workers finish their request, then exit
    case terminating // SIGTERM/SIGINT: workers stop now
}

/// A child process as the master tracks it.
struct Child {
    var pid: pid_t
    var pool: String
    /// Its scoreboard slot; nil for a worker inherited from the previous generation.
    var slot: Int?
    var generation: Int
    /// The master's end of the worker's control channel (-1 for `exec` workers).
    var control: Int32
    var startedMono: Int
    var startEpoch: Int
    var isExec: Bool
    /// Escalation stamps (monotonic ns).
    var quitAt: Int? = nil
    var termAt: Int? = nil
    var killAt: Int? = nil
    /// Retired by the process manager (idle): not replaced.
    var retired = false
    /// Killed by request_terminate_timeout.
    var timedOutAt: Int? = nil
    var slowLogged = false
}

/// The master process: opens the pools' sockets, forks and watches workers through the
/// scoreboard, reacts to signals. Single-threaded: one epoll loop over a signalfd, the
/// ondemand listeners and a maintenance timer; nothing here may start a thread.
final class Master {
    var configuration: FPMConfiguration
    let options: LaunchOptions
    let handlers: [String: any RequestHandler]
    let log: ErrorLog
    var pools: [PoolRuntime] = []
    var children: [pid_t: Child] = [:]
    var epoll: Epoll
    var signalFD: Int32 = -1
    var state = MasterPhase.running
    var stateSince = 0
    var generation = 1
    let pid: pid_t
    let runtimeDirectory: String
    let executablePath: String
    var pidFile: String?
    /// Inherited listeners not (yet) claimed by a pool, by key.
    var inheritedListeners: [String: Int32] = [:]
    /// Set while old-generation workers still serve and the new ones are starting.
    var handoverDeadline: Int? = nil
    var reloadFailures = 0
    var lastReloadError = ""
    var crashTimes: [Int] = []
    var pendingRespawn: [String: Int] = [:]
    var daemonReadyPipe: Int32 = -1
    /// False until the pools are open and the first workers forked (the state file says "starting").
    var started = false

    static let tickNanos = 1_000_000_000

    init(configuration: FPMConfiguration, options: LaunchOptions, handlers: [String: any RequestHandler], log: ErrorLog) throws {
        self.configuration = configuration
        self.options = options
        self.handlers = handlers
        self.log = log
        self.epoll = try Epoll()
        self.pid = getpid()
        self.runtimeDirectory = Master.findRuntimeDirectory()
        var path = Processes.executablePath() ?? CommandLine.arguments[0]
        if path.hasSuffix(" (deleted)") { path.removeLast(" (deleted)".count) }
        self.executablePath = path
    }

    static func findRuntimeDirectory() -> String {
        if let dir = getenv("SWIFT_FPM_RUNTIME_DIR") { return String(cString: dir) }
        if access("/dev/shm", W_OK) == 0 { return "/dev/shm" }
        if let tmp = getenv("TMPDIR") { return String(cString: tmp) }
        return "/tmp"
    }

    var statePath: String { "\(runtimeDirectory)/swift-fpm.\(pid).state" }

    // MARK: start

    /// Opens sockets and scoreboards, forks the initial workers, and runs the loop. Returns the
    /// process exit code.
    func run() -> Int32 {
        do {
            try Signals.block(Signals.masterSignals)
            signalFD = try Signals.makeSignalFD(Signals.masterSignals)
            try epoll.add(signalFD, events: Epoll.input, data: 1)
            Signals.ignore(SIGPIPE)
            let inherited = adoptInheritance()
            try checkRoot()
            try openPools()
            closeUnusedInheritedListeners()
            try writePidFile()
            if !inherited {
                log.notice("fpm is running, pid \(pid)")
            } else {
                log.notice("reloaded: generation \(generation), pid \(pid)")
            }
            for pool in pools {
                for _ in 0..<pool.settings.initialChildren { _ = spawn(pool) }
            }
            if children.values.contains(where: { $0.generation < generation }) {
                handoverDeadline = SystemClock.monotonicNanos() + 15 * 1_000_000_000
            }
            started = true
            writeState()
            log.notice("ready to handle connections")
            signalDaemonParent(ok: true)
        } catch {
            log.error("\(error)")
            log.error("FPM initialization failed")
            signalDaemonParent(ok: false)
            cleanupFiles()
            return 78
        }
        return loop()
    }

    func checkRoot() throws {
        guard Processes.isRoot else {
            for pool in configuration.pools where pool.user != nil || pool.group != nil {
                log.notice("[pool \(pool.name)] 'user' directive is ignored when FPM is not running as root")
            }
            return
        }
        for pool in configuration.pools {
            guard let user = pool.user else {
                if options.allowRoot { continue }
                throw StartError("[pool \(pool.name)] please specify user and group other than root")
            }
            guard let account = Processes.user(user) else {
                throw StartError("[pool \(pool.name)] cannot get uid for user '\(user)'")
            }
            let gid = pool.group.flatMap { Processes.group($0) } ?? account.gid
            if (account.uid == 0 || gid == 0) && !options.allowRoot {
                throw StartError("[pool \(pool.name)] please specify user and group other than root")
            }
        }
    }

    struct StartError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// Opens (or takes over) each pool's socket, scoreboard and access log.
    func openPools() throws {
        var opened: [PoolRuntime] = []
        for (index, config) in configuration.pools.enumerated() {
            let key = config.listen.description
            let fd: Int32
            if let inheritedFD = inheritedListeners.removeValue(forKey: key) {
                fd = inheritedFD
                try? FileIO.setCloseOnExec(fd, true)
                log.notice("[pool \(config.name)] using inherited socket fd=\(fd), \"\(key)\"")
            } else {
                fd = try openListener(config)
            }
            // Swift workers multiplex the listener with epoll; exec'd FastCGI programs block in
            // accept() on it, so their pool's listener stays blocking.
            try FileIO.setNonBlocking(fd, config.exec == nil)
            let sbPath = Scoreboard.path(directory: runtimeDirectory, masterPID: pid, pool: config.name)
            let old = try? Scoreboard(open: sbPath)
            let scoreboard = try Scoreboard(create: sbPath, pool: config.name, listen: key, pm: config.pm.rawIndex,
                                            slots: config.maxChildren, masterPID: pid, generation: generation)
            if let old {
                // Counters survive a reload: monitoring sees one continuous pool.
                scoreboard.acceptedConnections = old.acceptedConnections
                scoreboard.slowRequests = old.slowRequests
                scoreboard.maxChildrenReached = old.maxChildrenReached
                scoreboard.maxActive = old.maxActive
                scoreboard.maxListenQueue = old.maxListenQueue
                scoreboard.startEpoch = old.startEpoch
                old.memory.unmap()
            }
            let handler: (any RequestHandler)?
            if config.exec != nil {
                handler = nil
            } else if let h = handlers[config.handler] {
                handler = h
            } else {
                throw StartError("[pool \(config.name)] unknown handler '\(config.handler)' (known: \(handlers.keys.sorted().joined(separator: ", ")))")
            }
            var accessFD: Int32? = nil
            var writer: AccessLogWriter? = nil
            if let path = config.accessLog {
                let f = try FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600)
                accessFD = f
                writer = try AccessLogWriter(fd: f, format: config.accessFormat, suppressPaths: config.accessSuppressPaths)
            }
            let runtime = PoolRuntime(config: config, listenFD: fd, listenKey: key, scoreboard: scoreboard,
                                      handler: handler, accessLogFD: accessFD, accessLog: writer, log: log)
            if config.exec == nil {
                runtime.handoff = try FileIO.datagramPair()
            }
            if runtime.settings.style == .ondemand {
                try epoll.add(fd, events: Epoll.input | Epoll.edgeTriggered, data: 1000 + UInt64(index))
            }
            opened.append(runtime)
        }
        pools = opened
    }

    func openListener(_ config: PoolConfiguration) throws -> Int32 {
        var backlog = Int32(clamping: config.listenBacklog)
        if backlog <= 0 { backlog = 4096 }
        switch config.listen {
        case .tcp(let host, let port):
            return try Socket.listenTCP(host: host, port: port, backlog: backlog)
        case .unix(let path):
            var uid: uid_t? = nil
            var gid: gid_t? = nil
            if let owner = config.listenOwner {
                guard let a = Processes.user(owner) else { throw StartError("[pool \(config.name)] cannot get uid for user '\(owner)'") }
                uid = a.uid
                gid = a.gid
            } else if Processes.isRoot, let user = config.user, let a = Processes.user(user) {
                uid = a.uid
                gid = a.gid
            }
            if let group = config.listenGroup {
                guard let g = Processes.group(group) else { throw StartError("[pool \(config.name)] cannot get gid for group '\(group)'") }
                gid = g
            }
            if !Processes.isRoot { uid = nil; gid = config.listenGroup.flatMap { Processes.group($0) } }
            return try Socket.listenUnix(path: path, backlog: backlog, mode: mode_t(config.listenMode), owner: uid, group: gid)
        }
    }

    func closeUnusedInheritedListeners() {
        for (key, fd) in inheritedListeners {
            FileIO.close(fd)
            if key.hasPrefix("/") { FileIO.unlink(key) }
            log.notice("closed inherited socket \"\(key)\" no pool uses any more")
        }
        inheritedListeners.removeAll()
    }

    func writePidFile() throws {
        let path = options.pidOverride ?? configuration.global.pid
        guard let path else { return }
        pidFile = path
        try FileIO.writeFileAtomically(path, "\(pid)\n")
    }

    /// The state file `fpmctl` reads: generation and the outcome of the last reload.
    func writeState() {
        var text = "pid=\(pid)\ngeneration=\(generation)\n"
        let phase: String
        switch state {
        case .running: phase = !started ? "starting" : (handoverDeadline == nil ? "running" : "handover")
        case .finishing: phase = "finishing"
        case .terminating: phase = "terminating"
        }
        text += "state=\(phase)\n"
        text += "config=\(configuration.path ?? "(embedded)")\n"
        text += "pools=\(pools.map(\.name).joined(separator: ","))\n"
        text += "reload_failures=\(reloadFailures)\n"
        text += "last_reload_error=\(lastReloadError.replacingNewlines())\n"
        try? FileIO.writeFileAtomically(statePath, text)
    }

    func cleanupFiles() {
        if let pidFile { FileIO.unlink(pidFile) }
        for pool in pools {
            pool.scoreboard.memory.removeFile()
            if case .unix(let path) = pool.config.listen { FileIO.unlink(path) }
        }
        FileIO.unlink(statePath)
    }

    func signalDaemonParent(ok: Bool) {
        guard daemonReadyPipe >= 0 else { return }
        try? FileIO.writeAll(daemonReadyPipe, ok ? "1" : "0")
        FileIO.close(daemonReadyPipe)
        daemonReadyPipe = -1
    }

    // MARK: loop

    func loop() -> Int32 {
        var nextTick = SystemClock.monotonicNanos() + Master.tickNanos
        while true {
            let now = SystemClock.monotonicNanos()
            var timeoutMillis = Int32(clamping: max(0, (nextTick - now) / 1_000_000))
            if let hb = heartbeatMillis() { timeoutMillis = min(timeoutMillis, hb) }
            var signals: [Int32] = []
            var pendingPools: [Int] = []
            do {
                try epoll.wait(timeout: timeoutMillis) { event in
                    if event.data == 1 {
                        signals.append(contentsOf: Signals.readSignals(signalFD))
                    } else if event.data >= 1000 {
                        pendingPools.append(Int(event.data - 1000))
                    }
                }
            } catch {
                log.alert("event loop failed: \(error)")
                return 70
            }
            for s in signals { handleSignal(s) }
            for index in pendingPools where index < pools.count && state == .running {
                onPendingConnection(pools[index])
            }
            let after = SystemClock.monotonicNanos()
            if after >= nextTick {
                if state == .running { maintenance(now: after) }
                nextTick = after + Master.tickNanos
            }
            checkRequestTimeouts(now: after)
            progressHandover(now: after)
            escalate(now: after)
            if state != .running && children.isEmpty {
                log.notice("exiting, bye-bye!")
                cleanupFiles()
                return 0
            }
        }
    }

    /// A shorter wait when something time-critical is pending.
    func heartbeatMillis() -> Int32? {
        var hb: Int32? = nil
        if handoverDeadline != nil { hb = 50 }
        if state != .running || children.values.contains(where: { $0.quitAt != nil || $0.timedOutAt != nil }) {
            hb = min(hb ?? 200, 200)
        }
        var minTimeout = Int.max
        for pool in pools {
            if pool.config.requestTerminateTimeout > 0 { minTimeout = min(minTimeout, pool.config.requestTerminateTimeout) }
            if pool.config.requestSlowlogTimeout > 0 { minTimeout = min(minTimeout, pool.config.requestSlowlogTimeout) }
        }
        if minTimeout != Int.max {
            let ms = Int32(clamping: max(130, minTimeout * 1000 / 3))
            hb = min(hb ?? ms, ms)
        }
        return hb
    }

    // MARK: signals

    func handleSignal(_ s: Int32) {
        switch s {
        case SIGCHLD:
            reapChildren()
        case SIGINT, SIGTERM:
            guard state != .terminating else { return }
            log.notice("Terminating ...")
            state = .terminating
            stateSince = SystemClock.monotonicNanos()
            handoverDeadline = nil
            for pid in Array(children.keys) { terminate(pid) }
            writeState()
        case SIGQUIT:
            guard state == .running else { return }
            log.notice("Finishing ...")
            state = .finishing
            stateSince = SystemClock.monotonicNanos()
            handoverDeadline = nil
            for pid in Array(children.keys) { askToQuit(pid) }
            writeState()
        case SIGUSR1:
            reopenLogs()
        case SIGUSR2, SIGHUP:
            guard state == .running else { return }
            reload(reason: "Reloading in progress ...")
        default:
            break
        }
    }

    /// Graceful: the worker finishes the request in hand, then exits.
    func askToQuit(_ pid: pid_t) {
        guard var child = children[pid], child.quitAt == nil else { return }
        child.quitAt = SystemClock.monotonicNanos()
        if child.control >= 0 {
            var b = UInt8(ascii: "Q")
            if Glibc.send(child.control, &b, 1, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) != 1 {
                Processes.signal(pid, SIGQUIT)
            }
        } else {
            Processes.signal(pid, SIGQUIT)
        }
        children[pid] = child
    }

    /// Fast stop: SIGTERM now, SIGKILL after process_control_timeout.
    func terminate(_ pid: pid_t) {
        guard var child = children[pid], child.termAt == nil else { return }
        child.termAt = SystemClock.monotonicNanos()
        if child.quitAt == nil { child.quitAt = child.termAt }
        Processes.signal(pid, SIGTERM)
        children[pid] = child
    }

    /// How long a graceful stop waits before SIGTERM. php-fpm's default of 0 cuts in-flight
    /// requests; swift-fpm reads 0 as "unset" and drains for 30 s.
    var drainNanos: Int {
        let t = configuration.global.processControlTimeout
        return (t > 0 ? t : 30) * 1_000_000_000
    }

    /// SIGQUIT → (process_control_timeout) → SIGTERM → (1 s) → SIGKILL.
    func escalate(now: Int) {
        for (pid, child) in children {
            var c = child
            if let term = c.termAt {
                let grace = state == .terminating
                    ? max(1, configuration.global.processControlTimeout) * 1_000_000_000
                    : 1_000_000_000
                if c.killAt == nil && now - term >= grace {
                    c.killAt = now
                    log.warning("[pool \(c.pool)] child \(pid) still alive after SIGTERM, sending SIGKILL")
                    Processes.signal(pid, SIGKILL)
                }
            } else if let quit = c.quitAt, now - quit >= drainNanos {
                c.termAt = now
                log.warning("[pool \(c.pool)] child \(pid) did not finish within process_control_timeout, sending SIGTERM")
                Processes.signal(pid, SIGTERM)
            }
            children[pid] = c
        }
    }

    // MARK: children

    func reapChildren() {
        while let (pid, status) = Processes.reapAny() {
            guard let child = children.removeValue(forKey: pid) else {
                log.warning("unknown child (\(pid)) \(status)")
                continue
            }
            if child.control >= 0 { FileIO.close(child.control) }
            let seconds = Double(SystemClock.monotonicNanos() - child.startedMono) / 1e9
            let pool = pools.first { $0.name == child.pool && child.generation == generation }
            if let slot = child.slot, let pool {
                pool.scoreboard.slot(slot).release()
                pool.usedSlots.remove(slot)
            }
            let prefix = child.generation < generation ? "[pool \(child.pool)] child \(pid) (previous generation)" : "[pool \(child.pool)] child \(pid)"
            let message = "\(prefix) \(status) after \(TextRendering.fixed(seconds, decimals: 3)) seconds from start"
            switch status {
            case .exited(0), .signaled(SIGQUIT, _):
                log.notice(message)
            default:
                log.warning(message)
            }
            // php-fpm counts SIGSEGV and SIGBUS; a Swift runtime trap (a failed precondition,
            // fatalError, a forced unwrap of nil) ends a worker with SIGILL or SIGTRAP instead.
            if case .signaled(let sig, _) = status, [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE].contains(sig) {
                noteCrash()
            }
            guard state == .running, let pool, !child.retired else { continue }
            if case .exited(let code) = status, code != 0, seconds < 1 {
                // A worker that cannot start: retry on the next tick instead of spinning.
                pendingRespawn[pool.name, default: 0] += 1
                continue
            }
            _ = spawn(pool)
        }
        writeState()
    }

    func noteCrash() {
        let threshold = configuration.global.emergencyRestartThreshold
        let interval = configuration.global.emergencyRestartInterval
        guard threshold > 0, interval > 0 else { return }
        let now = SystemClock.monotonicNanos()
        crashTimes.append(now)
        crashTimes.removeAll { now - $0 > interval * 1_000_000_000 }
        if crashTimes.count >= threshold {
            crashTimes.removeAll()
            reload(reason: "failed processes threshold (\(threshold) in \(interval) sec) is reached, initiating reload")
        }
    }

    var liveCount: Int { children.count }
}

extension String {
    func replacingNewlines() -> String {
        String(map { $0 == "\n" ? " " : $0 })
    }
}
