import FPMConfiguration
import FPMStatus
import FPMSystem
import FastCGI
import Gearman
import Glibc

/// Forking workers and what a child does before it serves: shed the master's descriptors,
/// apply the pool's environment, limits and identity, then run the worker (or exec the pool's
/// FastCGI program). php-fpm's fpm_children.
extension Master {
    /// Forks one worker for `pool`; its pid, or nil when the pool or process.max is full.
    @discardableResult
    func spawn(_ pool: PoolRuntime) -> pid_t? {
        let processMax = configuration.global.processMax
        if processMax > 0 && control.children.count >= processMax {
            log.warning("The maximum number of processes has been reached. Please review your configuration and consider raising 'process.max'")
            return nil
        }
        if pool.config.warmTemplate && holdUntilWarm(pool) { return nil }
        guard let slotIndex = pool.claimSlot() else { return nil }
        let slot = pool.scoreboard.slot(slotIndex)
        slot.claim(pid: -1, generation: generation)
        // The control channel (none for exec'd programs, which only understand signals).
        var channel: (master: Int32, worker: Int32)? = nil
        if pool.execArguments == nil {
            do {
                channel = try FileIO.socketPair()
                // Both ends are the master's until the fork; the new worker keeps its own.
                DescriptorRegistry.register(channel!.master)
                DescriptorRegistry.register(channel!.worker)
            } catch {
                log.error("[pool \(pool.name)] unable to create a control channel: \(error)")
                slot.release()
                pool.usedSlots.remove(slotIndex)
                return nil
            }
        }
        let output = prepareWorkerOutput(pool)
        let logPipe = prepareWorkerLog(pool)
        let childPID: pid_t
        do {
            // pm.warm_template: the pool's template forks it (`Master+WarmTemplate`).
            if pool.config.warmTemplate, let channel {
                childPID = try forkFromWarmTemplate(pool, slot: slotIndex, channel: channel.worker, output: output, logPipe: logPipe)
            } else {
                childPID = try Processes.fork()
            }
        } catch {
            log.error("[pool \(pool.name)] fork failed: \(error)")
            slot.release()
            pool.usedSlots.remove(slotIndex)
            if let channel { FileIO.close(channel.master); FileIO.close(channel.worker) }
            output?.closeAll()
            if let logPipe { FileIO.close(logPipe.read); FileIO.close(logPipe.write) }
            return nil
        }
        if childPID == 0 {
            childMain(pool: pool, slotIndex: slotIndex, channel: channel, output: output, logPipe: logPipe)
        }
        if let channel { FileIO.close(channel.worker) }
        adoptWorkerOutput(output, pid: childPID, pool: pool)
        adoptWorkerLog(logPipe, pid: childPID, pool: pool)
        slot.setPID(childPID)
        _ = control.handle(.spawned(ProcessControl.Child(
            pid: childPID, pool: pool.name, generation: generation, slot: slotIndex, control: channel?.master,
            startedMono: SystemClock.monotonicNanos())))
        if let channel {
            heldDescriptors.adopt(channel.master)
            watchReports(channel.master, pid: childPID)
        }
        pool.state.warnedMaxChildren = false
        log.notice("[pool \(pool.name)] child \(childPID) started")
        return childPID
    }

    /// The child side of `spawn`: shed the master's descriptors, become the pool's worker.
    func childMain(pool: PoolRuntime, slotIndex: Int, channel: (master: Int32, worker: Int32)?,
                   output: WorkerOutputPipes?, logPipe: (read: Int32, write: Int32)?) -> Never {
        closeMasterDescriptors(keepingFor: pool, channel: channel, output: output, logPipe: logPipe)
        useWorkerLog(logPipe)
        for other in pools where other !== pool { other.scoreboard.memory.unmap() }
        useWorkerOutput(output, pool: pool)
        Signals.resetDispositions()
        Signals.ignore(SIGPIPE)
        Signals.unblockAll()
        let config = pool.config
        // The environment first: USER/HOME are the pool user's only while we can still tell
        // that we started as root.
        let env = applyEnvironment(config)
        if pool.execArguments == nil { installSlowlogTrace(pool) }
        // An exec'd program's request counter maps the scoreboard: opened while we still may.
        let counter = pool.execArguments != nil && config.chroot == nil && !pool.isJobPool ? ExecCounter.openScoreboard(pool) : nil
        do {
            try applyProcessSettings(config)
        } catch {
            log.error("[pool \(pool.name)] child \(Processes.pid): \(error)")
            Processes.exitNow(ExitCodes.config)
        }
        // A worker must not outlive its master (and keep the port, or a slow client): the kernel
        // kills it when the master dies. Set after the privilege drop, which clears it; a master
        // that died before this line is caught by the parent check.
        try? Processes.setParentDeathSignal(SIGKILL)
        if Processes.parentPID != pid { Processes.exitNow(ExitCodes.software) }
        ProcessTitle.set("fpm: pool \(pool.name)", name: String("fpm: \(pool.name)".prefix(15)))
        if let argv = pool.execArguments {
            execWorker(pool: pool, argv: argv, slot: slotIndex, counter: counter)
        }
        // Swift workers always have a channel; only exec pools (handled above) have none.
        serve(pool: pool, slotIndex: slotIndex, control: channel!.worker, environment: env)
    }

    /// The last part of a Swift worker's start, shared with one forked by a warm template:
    /// the handler's `setUp`, then the worker's loop until it exits.
    func serve(pool: PoolRuntime, slotIndex: Int, control: Int32, environment env: [(String, String)]) -> Never {
        let config = pool.config
        let limit = ProcessManagerPolicy.requestLimit(maxRequests: config.maxRequests, jitter: config.maxRequestsJitter,
                                                      random: Int(Processes.pid) &* 2_654_435_761)
        do {
            try pool.handler?.setUp(WorkerContext(pool: pool.name, pid: Processes.pid, slot: slotIndex, environment: env,
                                                  configuration: config, log: log))
        } catch {
            log.error("[pool \(pool.name)] child \(Processes.pid): handler setUp failed: \(error)")
            Processes.exitNow(ExitCodes.software)
        }
        let code: Int32
        do {
            if pool.isJobPool, let runner = pool.handler as? any JobRunner {
                let worker = try JobWorker(pool: pool, runner: runner, slotIndex: slotIndex, control: control, log: log,
                                           requestLimit: limit)
                code = worker.run()
            } else {
                let worker = try Worker(pool: pool, slotIndex: slotIndex, control: control, log: log, requestLimit: limit)
                code = worker.run()
            }
        } catch {
            log.error("[pool \(pool.name)] child \(Processes.pid): \(error)")
            code = ExitCodes.software
        }
        Processes.exitNow(code)
    }

    /// In a new worker, first thing: every descriptor the master registered goes (epoll,
    /// signalfd, other pools' listeners, hand-off sockets and access logs, other workers'
    /// channels and output pipes, kept connections' copies, status listeners), except what
    /// this worker serves with: its pool's listener, hand-off socket and access log, its end of
    /// the control channel, the write ends of its output and log pipes. By rule, not by list:
    /// a descriptor the master adds later is registered where it is made (`DescriptorRegistry`).
    func closeMasterDescriptors(keepingFor pool: PoolRuntime, channel: (master: Int32, worker: Int32)?,
                                output: WorkerOutputPipes?, logPipe: (read: Int32, write: Int32)?) {
        DescriptorRegistry.keep(pool.listenFD)
        if let fd = pool.accessLogFD { DescriptorRegistry.keep(fd) }
        pool.handoff?.keepInChild()
        if let channel { DescriptorRegistry.keep(channel.worker) }
        output?.keepInChild()
        if let logPipe { DescriptorRegistry.keep(logPipe.write) }
        DescriptorRegistry.closeRegistered()
    }

    /// rlimits, chroot, chdir, priority, group and user, dumpable — php-fpm's order.
    func applyProcessSettings(_ config: PoolConfiguration) throws {
        if let files = config.rlimitFiles { try Processes.setLimit(Int32(RLIMIT_NOFILE.rawValue), UInt64(files)) }
        if let core = config.rlimitCore {
            switch core {
            case .unlimited: try Processes.setLimit(Int32(RLIMIT_CORE.rawValue), nil)
            case .limit(let v): try Processes.setLimit(Int32(RLIMIT_CORE.rawValue), UInt64(v))
            }
        }
        let root = Processes.isRoot
        if root, let dir = config.chroot {
            try Processes.chroot(dir)
            try Processes.chdir(config.chdir ?? "/")
        } else if let dir = config.chdir {
            try Processes.chdir(dir)
        }
        if root, let priority = config.processPriority { try Processes.setPriority(Int32(priority)) }
        if root, let user = config.user, let account = Processes.user(user) {
            let gid = config.group.flatMap { Processes.group($0) } ?? account.gid
            try Processes.dropPrivileges(to: account, group: gid)
        }
        if config.processDumpable { Processes.setDumpable(true) }
    }

    /// clear_env and env[…]; returns the pool's settings as applied.
    func applyEnvironment(_ config: PoolConfiguration) -> [(String, String)] {
        if config.clearEnv { Processes.clearEnvironment() }
        var applied: [(String, String)] = []
        var hasUser = false, hasHome = false
        for entry in config.environment {
            Processes.setEnvironment(entry.name, entry.value)
            applied.append((entry.name, entry.value))
            if entry.name == "USER" { hasUser = true }
            if entry.name == "HOME" { hasHome = true }
        }
        if let user = config.user, Processes.isRoot, let account = Processes.user(user) {
            if !hasUser { Processes.setEnvironment("USER", account.name) }
            if !hasHome { Processes.setEnvironment("HOME", account.home) }
        }
        return applied
    }

    /// An `exec` job pool's program gets /dev/null there instead (`JOBS.md`).
    ///
    /// An `exec` pool: the worker becomes the external FastCGI program, its listening socket
    /// on descriptor 0 as the FastCGI convention wants (FCGI_LISTENSOCK_FILENO), the pool's
    /// `listen.allowed_clients` in FCGI_WEB_SERVER_ADDRS.
    ///
    /// The listener is made blocking: libfcgi and php-cgi block in accept() and take EAGAIN as
    /// fatal. O_NONBLOCK lives on the open file description, which the master and every worker
    /// of this pool share, and a socket cannot be reopened to get a description of its own; so
    /// the flag is cleared on the shared one. That is safe: only this pool's workers accept on
    /// it and all of them are exec'd programs that want it blocking, while the master never
    /// accepts on it (it only polls it for ondemand and reads its queue figures, which do not
    /// depend on the flag). The program starts with default signal dispositions (SIGPIPE too,
    /// which Swift workers ignore), an empty mask and only descriptors 0, 1 and 2 (the
    /// counter's scoreboard descriptor, `counter`, is closed by the library as it loads).
    func execWorker(pool: PoolRuntime, argv: [String], slot: Int, counter: Int32?) -> Never {
        do {
            if pool.isJobPool {
                // A job pool's program connects to gearmand itself: nothing on its stdin.
                let null = try FileIO.open("/dev/null", O_RDONLY)
                try FileIO.dup2(null, 0)
                if null != 0 { FileIO.close(null) }
            } else {
                try FileIO.dup2(pool.listenFD, 0)
                try FileIO.setNonBlocking(0, false)
            }
        } catch {
            log.error("[pool \(pool.name)] child \(Processes.pid): \(error)")
            Processes.exitNow(ExitCodes.software)
        }
        Signals.setDefault(SIGPIPE)
        if let servers = pool.config.gearmanServers {
            // What the program needs to know of its pool: where the job servers are, and which
            // functions the pool file says it registers (`addServers(getenv(…))`).
            Processes.setEnvironment("FPM_GEARMAN_SERVERS", servers.map(\.description).joined(separator: ","))
            Processes.setEnvironment("FPM_GEARMAN_FUNCTIONS", pool.config.effectiveGearmanFunctions.joined(separator: ","))
        }
        if let clients = pool.config.allowedClients {
            Processes.setEnvironment("FCGI_WEB_SERVER_ADDRS", clients.joined(separator: ","))
        }
        let arguments = pool.config.runsPHPCGI ? preparePHPCGI(pool.config, argv: argv) : argv
        Spawn.markCloseOnExec(from: 3)
        if let counter, let library = ExecCounter.libraryPath(executable: executablePath),
            (try? FileIO.setCloseOnExec(counter, false)) != nil
        {
            Processes.setEnvironment(ExecCounter.variable, ExecCounter.specification(descriptor: counter, slot: slot))
            let preload = ProcessEnvironment.value("LD_PRELOAD").map { $0.isEmpty ? library : library + ":" + $0 } ?? library
            Processes.setEnvironment("LD_PRELOAD", preload)
        }
        // Not Processes.environment(): after clear_env with no env[…], environ is NULL.
        let env = ProcessEnvironment.entries().map { String(decoding: $0, as: UTF8.self) }
        let error = Processes.exec(arguments[0], arguments, environment: env)
        log.error("[pool \(pool.name)] child \(Processes.pid): \(error)")
        Processes.exitNow(ExitCodes.software)
    }

    /// php-cgi as php-fpm's workers: `pm.max_requests` (with its jitter) alone recycles it
    /// through PHP_FCGI_MAX_REQUESTS (php-cgi's own default, 500, would otherwise restart it;
    /// 0 = never, as for php-fpm), unless the pool's env[] sets it; PHP_FCGI_CHILDREN is never
    /// inherited (php-cgi would fork children the master cannot see; validation refuses a
    /// non-zero env[] value); the php_* lines become `-d` settings ahead of exec's own arguments,
    /// which therefore win.
    func preparePHPCGI(_ config: PoolConfiguration, argv: [String]) -> [String] {
        let explicit = Set(config.environment.map(\.name))
        if !explicit.contains("PHP_FCGI_MAX_REQUESTS") {
            let limit = ProcessManagerPolicy.requestLimit(maxRequests: config.maxRequests, jitter: config.maxRequestsJitter,
                                                          random: Int(Processes.pid) &* 2_654_435_761)
            Processes.setEnvironment("PHP_FCGI_MAX_REQUESTS", String(limit))
        }
        if !explicit.contains("PHP_FCGI_CHILDREN") { Processes.unsetEnvironment("PHP_FCGI_CHILDREN") }
        return [argv[0]] + PHPCGI.iniArguments(config.phpSettings) + argv.dropFirst()
    }

    /// Graceful: the worker finishes the request in hand, then exits. Through the control
    /// channel, so no signal interrupts handler code; without one, a signal: SIGQUIT for a Swift
    /// worker (its QuitSignal), SIGTERM for an `exec` program — php-cgi and libfcgi programs
    /// finish the request in hand and exit on SIGTERM (and SIGUSR1), while SIGQUIT's default
    /// action, which their signal setup leaves in place, ends them mid-request.
    func askToQuit(_ pid: pid_t, message: ControlMessage = .quit) {
        guard let child = control.children[pid] else { return }
        if let channel = child.control, message.send(over: channel) { return }
        if child.isExec { askExecToQuit(pid, finish: message == .finish) } else { Processes.signal(pid, SIGQUIT) }
    }

    /// A reaped child: its control channel and scoreboard slot are free again.
    func release(_ child: ProcessControl.Child) {
        if let fd = child.control {
            reportChannels[fd] = nil
            heldDescriptors.close(fd)
        }
        slowLogged.remove(child.pid)
        pendingExecQuits.remove(child.pid)
        finishingExecPrograms.remove(child.pid)
        memoryReplacements.removeValue(forKey: child.pid)
        guard child.generation == generation, let slot = child.slot,
              let pool = poolsByName[child.pool] else { return }
        pool.scoreboard.slot(slot).release()
        pool.usedSlots.remove(slot)
    }
}
