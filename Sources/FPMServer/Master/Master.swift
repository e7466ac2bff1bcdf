import FPMConfiguration
import FPMStatus
import FPMSystem
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

/// The master process: opens the pools' sockets, forks and watches workers through the
/// scoreboard, reacts to signals. Single-threaded: one epoll loop over a signalfd, the
/// ondemand listeners and a timer; nothing here may start a thread.
///
/// The decisions live elsewhere, as values: `ProcessControl` (phases, each child's lifecycle,
/// escalation, and the whole reload as one value, `ProcessControl.Reload`), `ProcessManagerPolicy`
/// (how many workers a pool wants). This class feeds them events through its `ControlQueue` and
/// carries out their commands. Its parts, one file each:
/// start and the loop here; commands in `Master+Commands`; pools and their listeners in
/// `Master+Pools` (with `InheritedSockets`, `SocketActivation`); children in `Master+Children`
/// (their descriptors closed by rule through `DescriptorRegistry`), their reports and kept
/// connections in `Master+KeptConnections`, their output in `Master+WorkerOutput`; the pm tick
/// in `Master+Maintenance`; request time limits in `Master+RequestWatch`; the 503s the master
/// answers itself (pm.max_queue_wait, a pool with no worker) in `Master+Admission`; the reload in
/// `Reload/` (start with `ReloadState.swift`); the status listener in `StatusListener`;
/// systemd in `Master+Systemd`; logs in `Master+Logs`; runtime files in `Master+RuntimeFiles`.
final class Master {
    var configuration: FPMConfiguration
    let options: LaunchOptions
    let handlers: [String: any RequestHandler]
    let log: ErrorLog
    var pools: [PoolRuntime] = [] {
        didSet {
            poolsByName = Dictionary(pools.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            poolsWithRequestTimeouts = pools.filter { $0.config.requestTerminateTimeout > 0 || $0.config.requestSlowlogTimeout > 0 }
        }
    }
    /// `pools` by name: lookups per child or per event stay O(1) with thousands of pools.
    private(set) var poolsByName: [String: PoolRuntime] = [:]
    /// Pools with request_terminate_timeout or request_slowlog_timeout (checked on every wake-up).
    private(set) var poolsWithRequestTimeouts: [PoolRuntime] = []
    var control: ProcessControl
    var epoll: Epoll
    /// The master's signals, read as events (they are blocked for asynchronous delivery).
    let signals: OwnedDescriptor
    var signalFD: Int32 { signals.rawValue }
    let pid: pid_t
    let runtimeDirectory: String
    /// `status.group`'s gid: the group of the runtime folder and files (nil: the user alone).
    var runtimeGroup: gid_t?
    let executablePath: String
    var pidFile: String?
    /// What the previous image of this master handed over (nil on a first start).
    let inheritance: ReloadInheritance?
    /// A previous image's or systemd's sockets, until a pool claims them.
    var inherited = InheritedSockets()
    /// Process control's events waiting to be handled, and its commands' outcomes (`ControlQueue`).
    let queue = ControlQueue()
    /// The exit code once process control said the master is done.
    var exitCode: Int32?
    /// -D: where the launcher waits for "started" (1) or "failed" (0).
    var daemonReadyPipe: Int32?
    /// Children whose current request was already written to the slowlog.
    var slowLogged: Set<pid_t> = []
    /// pm.max_memory: workers over the limit, by the pid of the replacement started for them.
    var memoryReplacements: [pid_t: pid_t] = [:]
    /// catch_workers_output: the workers' stdout and stderr pipes (`Master+WorkerOutput`).
    var workerOutputs = WorkerOutputs()
    /// pm.status_listen: the sockets the master answers status, ping and health on itself.
    let statusListener = StatusListener()
    /// systemd's Type=notify (nil without NOTIFY_SOCKET); see `Master+Systemd`.
    var systemd: SystemdNotifier?
    /// Log reopens (SIGUSR1) handled, and what failed in the last one, for `fpmctl reopen`.
    var reopens = 0
    var lastReopenError = ""
    /// Duplicates of the connections workers keep, so a hard kill costs one request
    /// (`Master+KeptConnections`); at most half the master's descriptors.
    var keptConnections = KeptConnectionRegistry(capacity: Processes.descriptorLimit / 2)
    /// Workers' control channels the master reads reports on, by channel: the worker's pid.
    var reportChannels: [Int32: Int32] = [:]
    /// The owner of the descriptors `control` and `keptConnections` know by number: workers'
    /// control channels and the kept connections' copies.
    var heldDescriptors = DescriptorTable()
    /// pm.max_queue_wait and pools with no worker: connections the master answers 503 itself.
    var admission = Admission()
    /// Exec programs asked to quit while busy: SIGTERM waits until they are idle (`Master+ExecQuit`).
    var pendingExecQuits = Set<pid_t>()
    /// Of those, the ones that finish (a graceful stop): they also wait for an empty listen queue.
    var finishingExecPrograms = Set<pid_t>()
    /// pm.warm_template: each such pool's template process (`Master+WarmTemplate`).
    var warmTemplates = WarmTemplate.Registry()
    /// Workers asked for while their pool's template warms up, by pool (`Master+WarmTemplate`).
    var heldWarmSpawns: [String: Int] = [:]

    static let tickNanos = 1_000_000_000
    /// How often the readiness of a new generation is checked during a hand-over.
    static let handoverPollMillis: Int32 = 50

    init(configuration: FPMConfiguration, options: LaunchOptions, handlers: [String: any RequestHandler], log: ErrorLog,
         inheritance: ReloadInheritance?) throws {
        self.configuration = configuration
        self.options = options
        self.handlers = handlers
        self.log = log
        self.inheritance = inheritance
        // From here on, each descriptor the master makes for itself is registered, and a forked
        // worker closes them by rule (`Master+Children`).
        DescriptorRegistry.activate()
        self.epoll = try Epoll()
        DescriptorRegistry.register(epoll.fd)
        self.signals = OwnedDescriptor(owning: try Signals.makeSignalFD(Signals.masterSignals))
        DescriptorRegistry.register(signals.rawValue)
        self.pid = Processes.pid
        self.runtimeDirectory = RuntimeDirectory.path()
        self.executablePath = Master.currentExecutable()
        let global = configuration.global
        control = ProcessControl(
            generation: inheritance?.generation ?? 1,
            timings: ProcessControl.Timings(processControlTimeout: global.processControlTimeout),
            emergencyRestart: ProcessControl.EmergencyRestart(threshold: global.emergencyRestartThreshold,
                                                              intervalSeconds: global.emergencyRestartInterval),
            reloadFailures: inheritance?.reloadFailures ?? 0, lastReloadError: inheritance?.lastReloadError ?? "")
        control.gracefulSigterm = global.gracefulSigterm
        control.draining = inheritance?.draining ?? false
        systemd = SystemdNotifier(environment: Processes.environment(), pid: pid,
                                  systemdIntervalSeconds: global.systemdInterval, nowMono: SystemClock.monotonicNanos())
    }

    var generation: Int { control.generation }

    // MARK: start

    /// Opens sockets and scoreboards, forks the initial workers, and runs the loop. Returns the
    /// process exit code.
    func run() -> Int32 {
        do {
            try Signals.block(Signals.masterSignals)
            ProcessTitle.set("fpm: master process (\(configuration.path ?? "embedded default"))", name: "fpm: master")
            try epoll.add(signalFD, events: Epoll.input, data: Wakeup.signal.tag)
            Signals.ignore(SIGPIPE)
            if let name = configuration.global.statusGroup {
                guard let gid = Processes.group(name) else { throw StartError("[global] status.group: cannot get gid for group '\(name)'") }
                runtimeGroup = gid
            }
            try RuntimeDirectory.prepare(runtimeDirectory, group: runtimeGroup)
            adoptInheritance()
            adoptActivatedSockets()
            noteIgnoredUsers()
            try openPools()
            try openStatusListeners()
            closeUnusedInheritance()
            try writePidFile()
            log.notice(configuration.path.map { "loaded configuration file \($0)" } ?? "loaded the embedded default configuration")
            if inheritance == nil {
                removeStaleRuntimeFiles()
                log.notice("fpm is running, pid \(pid)")
            } else {
                log.notice("reloaded: generation \(generation), pid \(pid)")
            }
            try startWarmTemplates()
            for pool in pools {
                for _ in 0..<pool.settings.initialChildren { spawn(pool) }
            }
            if let code = handle(.started(now: SystemClock.monotonicNanos())) { return code }
            log.notice("ready to handle connections")
            signalDaemonParent(ok: true)
        } catch {
            log.error("\(error)")
            // A reload's new image: never exit under the inherited workers; start again with
            // the configuration they run.
            if inheritance != nil { fallBack(because: "\(error)") }
            log.error("FPM initialization failed")
            signalDaemonParent(ok: false)
            cleanupFiles()
            return ExitCodes.config
        }
        return loop()
    }

    // MARK: loop

    func loop() -> Int32 {
        // Inherited workers (a reload) report too; their slots are unknown here, so their
        // connections are not re-offered, only not left unread.
        for child in control.children.values { if let fd = child.control { watchReports(fd, pid: child.pid) } }
        var nextTick = SystemClock.monotonicNanos() + Master.tickNanos
        while true {
            let now = SystemClock.monotonicNanos()
            var timeoutMillis = Int32(clamping: max(0, (nextTick - now) / 1_000_000))
            if let deadline = control.nextDeadline {
                timeoutMillis = min(timeoutMillis, SystemClock.millisecondsLeft(until: deadline, now: now))
            }
            if let hb = heartbeatMillis() { timeoutMillis = min(timeoutMillis, hb) }
            if let deadline = statusListener.nextDeadline {
                timeoutMillis = min(timeoutMillis, SystemClock.millisecondsLeft(until: deadline, now: now))
            }
            if let sd = systemdWakeMillis(now: now) { timeoutMillis = min(timeoutMillis, sd) }
            if let wake = admission.nextWake() { timeoutMillis = min(timeoutMillis, SystemClock.millisecondsLeft(until: wake, now: now)) }
            if let wake = execQuitWakeMillis { timeoutMillis = min(timeoutMillis, wake) }
            var signals: [Int32] = []
            var pendingPools: [Int] = []
            var outputs: [Int32] = []
            var statusEvents: [Wakeup] = []
            var preparationOutput = false
            var reports: [Int32] = []
            var hungUp: [Int32] = []
            var replies: [Int] = []
            var keptReplies: [Int] = []
            var backlogAnswers: [Int] = []
            var templates: [Int32] = []
            do {
                try epoll.wait(timeout: timeoutMillis) { event in
                    switch Wakeup(tag: event.data) {
                    case .signal: signals.append(contentsOf: Signals.readSignals(signalFD))
                    case .pendingConnection(let pool): pendingPools.append(pool)
                    case .workerOutput(let fd): outputs.append(fd)
                    case .preparationOutput: preparationOutput = true
                    case .workerReports(let fd): reports.append(fd)
                    case .keptConnection(let fd): hungUp.append(fd)
                    case .admissionReply(let id): replies.append(id)
                    case .admissionKept(let id): keptReplies.append(id)
                    case .jobBacklog(let pool): backlogAnswers.append(pool)
                    case .warmTemplate(let fd): templates.append(fd)
                    case .some(let status): statusEvents.append(status)
                    case nil: break
                    }
                }
            } catch {
                log.alert("event loop failed: \(error)")
                return ExitCodes.software
            }
            // Workers' output before signals: lines come before their writer's exit.
            for fd in outputs { readWorkerOutput(fd, now: SystemClock.monotonicNanos()) }
            if preparationOutput { readPreparationOutput() }
            // Hang-ups first: each is of a copy still open (copies leave the epoll before they
            // are closed), whose number a report read next may take over once it is closed.
            for fd in hungUp { keptConnectionHungUp(fd) }
            // Reports before exits: a worker's connections are known before its end settles them.
            for fd in reports { readReports(fd) }
            for fd in templates { warmTemplateReadable(fd) }
            for s in signals { queue.post(.signal(s, now: SystemClock.monotonicNanos())) }
            if let code = handle(nil) { return code }
            sendPendingExecQuits()
            closeListenersOfFinishedPools()
            for index in pendingPools where index < pools.count && control.phase.isServing {
                onPendingConnection(pools[index])
            }
            handleStatusEvents(statusEvents)
            for index in backlogAnswers { backlogQueryReady(index, now: SystemClock.monotonicNanos()) }
            admissionPass(replies: replies, kept: keptReplies, pending: pendingPools, now: SystemClock.monotonicNanos())
            let after = SystemClock.monotonicNanos()
            statusTick(now: after)
            if after >= nextTick {
                if control.phase.isServing { maintenance(now: after); retryHeldWarmSpawns() }
                flushWaitingWorkerOutput(now: after)
                nextTick = after + Master.tickNanos
            }
            checkRequestTimeouts(now: after)
            if control.phase.isServing { replaceWorkersOverMemory(now: after) }
            if case .handingOver = control.phase, newGenerationIsReady() { queue.post(.generationReady(now: after)) }
            if let code = handle(.tick(now: after)) { return code }
            systemdTick(now: after)
        }
    }

    /// A shorter wait while a hand-over polls the new workers' readiness, or while requests
    /// must be watched against their time limits.
    func heartbeatMillis() -> Int32? {
        var hb: Int32? = nil
        if case .handingOver = control.phase { hb = Master.handoverPollMillis }
        // pm.max_memory: notice a flagged worker (and its replacement's readiness) promptly.
        if pools.contains(where: { $0.config.maxMemory > 0 }) { hb = min(hb ?? 200, 200) }
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
}
