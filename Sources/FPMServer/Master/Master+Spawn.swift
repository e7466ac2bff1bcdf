import FPMSystem
import CFPMShims
import FPMConfiguration
import FastCGI
import Glibc

extension Master {
    /// Forks one worker for `pool`. False when the pool or process.max is full.
    @discardableResult
    func spawn(_ pool: PoolRuntime) -> Bool {
        let processMax = configuration.global.processMax
        if processMax > 0 && liveCount >= processMax {
            log.warning("The maximum number of processes has been reached. Please review your configuration and consider raising 'process.max'")
            return false
        }
        guard let slotIndex = pool.claimSlot() else { return false }
        let slot = pool.scoreboard.slot(slotIndex)
        slot.claim(pid: -1, generation: generation)
        var masterEnd: Int32 = -1
        var workerEnd: Int32 = -1
        if pool.execArguments == nil {
            do {
                (masterEnd, workerEnd) = try FileIO.socketPair()
            } catch {
                log.error("[pool \(pool.name)] unable to create a control channel: \(error)")
                slot.release()
                pool.usedSlots.remove(slotIndex)
                return false
            }
        }
        let childPID: pid_t
        do {
            childPID = try Processes.fork()
        } catch {
            log.error("[pool \(pool.name)] fork failed: \(error)")
            slot.release()
            pool.usedSlots.remove(slotIndex)
            if masterEnd >= 0 { FileIO.close(masterEnd); FileIO.close(workerEnd) }
            return false
        }
        if childPID == 0 {
            childMain(pool: pool, slotIndex: slotIndex, control: workerEnd, masterEnd: masterEnd)
        }
        if workerEnd >= 0 { FileIO.close(workerEnd) }
        slot.setPID(childPID)
        children[childPID] = Child(pid: childPID, pool: pool.name, slot: slotIndex, generation: generation,
                                   control: masterEnd, startedMono: SystemClock.monotonicNanos(),
                                   startEpoch: SystemClock.epochSeconds(), isExec: pool.execArguments != nil)
        pool.state.warnedMaxChildren = false
        log.notice("[pool \(pool.name)] child \(childPID) started")
        return true
    }

    /// The child side of `spawn`: shed the master's descriptors, become the pool's worker.
    func childMain(pool: PoolRuntime, slotIndex: Int, control: Int32, masterEnd: Int32) -> Never {
        FileIO.close(signalFD)
        FileIO.close(epoll.fd)
        if masterEnd >= 0 { FileIO.close(masterEnd) }
        for child in children.values where child.control >= 0 { FileIO.close(child.control) }
        for other in pools where other !== pool {
            FileIO.close(other.listenFD)
            if let fd = other.accessLogFD { FileIO.close(fd) }
            if let h = other.handoff { FileIO.close(h.read); FileIO.close(h.write) }
            other.scoreboard.memory.unmap()
        }
        Signals.resetDispositions()
        Signals.ignore(SIGPIPE)
        Signals.unblockAll()
        let config = pool.config
        // The environment first: USER/HOME are the pool user's only while we can still tell
        // that we started as root.
        let env = applyEnvironment(config)
        do {
            try applyProcessSettings(config)
        } catch {
            log.error("[pool \(pool.name)] child \(getpid()): \(error)")
            Processes.exitNow(78)
        }
        Processes.setName(String("fpm: \(pool.name)".prefix(15)))
        if let argv = pool.execArguments {
            execWorker(pool: pool, argv: argv, environment: env)
        }
        let limit = ProcessManagerPolicy.requestLimit(maxRequests: config.maxRequests, jitter: config.maxRequestsJitter,
                                                      random: Int(getpid()) &* 2_654_435_761)
        do {
            try pool.handler?.setUp(WorkerContext(pool: pool.name, pid: getpid(), slot: slotIndex, environment: env,
                                                  configuration: config))
        } catch {
            log.error("[pool \(pool.name)] child \(getpid()): handler setUp failed: \(error)")
            Processes.exitNow(70)
        }
        let code: Int32
        do {
            let worker = try Worker(pool: pool, slotIndex: slotIndex, control: control, log: log, requestLimit: limit)
            code = worker.run()
        } catch {
            log.error("[pool \(pool.name)] child \(getpid()): \(error)")
            code = 70
        }
        Processes.exitNow(code)
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
    /// which Swift workers ignore), an empty mask and only descriptors 0, 1 and 2.
    func execWorker(pool: PoolRuntime, argv: [String], environment: [(String, String)]) -> Never {
        do {
            try FileIO.dup2(pool.listenFD, 0)
            try FileIO.setNonBlocking(0, false)
        } catch {
            log.error("[pool \(pool.name)] child \(getpid()): \(error)")
            Processes.exitNow(70)
        }
        Signals.setDefault(SIGPIPE)
        if let clients = pool.config.allowedClients {
            Processes.setEnvironment("FCGI_WEB_SERVER_ADDRS", clients.joined(separator: ","))
        }
        // Not Processes.environment(): after clear_env with no env[…], environ is NULL.
        let env = ProcessEnvironment.entries().map { String(decoding: $0, as: UTF8.self) }
        Spawn.markCloseOnExec(from: 3)
        let error = Processes.exec(argv[0], argv, environment: env)
        log.error("[pool \(pool.name)] child \(getpid()): \(error)")
        Processes.exitNow(70)
    }

    // MARK: maintenance

    /// The 1-second tick: counts, listen queue, pm decisions.
    func maintenance(now: Int) {
        for pool in pools {
            if let waiting = pendingRespawn.removeValue(forKey: pool.name) {
                for _ in 0..<waiting { spawn(pool) }
            }
            var idle: [IdleWorker] = []
            var active = 0
            var running = 0
            for child in children.values where child.pool == pool.name && child.generation == generation {
                running += 1
                guard let slot = child.slot else { continue }
                let stage = pool.scoreboard.stage(slot)
                if stage == .idle {
                    if child.quitAt == nil {
                        let snap = pool.scoreboard.slot(slot)
                        idle.append(IdleWorker(pid: child.pid, startedMono: child.startedMono,
                                               lastActivityMono: snap.int(Scoreboard.S.stageMono)))
                    }
                } else {
                    active += 1
                }
            }
            let sb = pool.scoreboard
            sb.storeInt(idle.count, at: Scoreboard.H.idle)
            sb.storeInt(active, at: Scoreboard.H.active)
            if active > sb.maxActive { sb.maxActive = active }
            if let q = Socket.listenQueue(pool.listenFD) {
                sb.listenQueue = q.length
                sb.listenQueueLength = q.backlog
                if q.length > sb.maxListenQueue { sb.maxListenQueue = q.length }
            }
            let action = ProcessManagerPolicy.tick(settings: pool.settings, state: &pool.state, running: running,
                                                   idle: idle, nowMono: now)
            apply(action, to: pool, ondemand: false)
            if pool.settings.style == .ondemand && idle.isEmpty && hasPendingConnection(pool) {
                onPendingConnection(pool)
            }
        }
    }

    func apply(_ action: MaintenanceAction, to pool: PoolRuntime, ondemand: Bool) {
        switch action {
        case .none:
            break
        case .retire(let pid):
            if var c = children[pid] {
                c.retired = true
                children[pid] = c
                log.debug("[pool \(pool.name)] retiring idle child \(pid)")
                askToQuit(pid)
            }
        case .spawn(let count, let busy):
            if busy {
                log.warning("[pool \(pool.name)] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning \(pool.state.spawnRate) children, there are \(pool.scoreboard.loadInt(Scoreboard.H.idle)) idle, and \(children.values.filter { $0.pool == pool.name }.count) total children")
            }
            for _ in 0..<count { spawn(pool) }
        case .maxChildrenReached:
            if !pool.state.warnedMaxChildren {
                let wording = ondemand ? "max_children setting" : "pm.max_children setting"
                log.warning("[pool \(pool.name)] server reached \(wording) (\(pool.settings.maxChildren)), consider raising it")
                pool.state.warnedMaxChildren = true
                pool.scoreboard.maxChildrenReached += 1
            }
        }
    }

    func hasPendingConnection(_ pool: PoolRuntime) -> Bool {
        var p = pollfd(fd: pool.listenFD, events: Int16(POLLIN), revents: 0)
        return Glibc.poll(&p, 1, 0) > 0
    }

    /// ondemand: the listener became readable.
    func onPendingConnection(_ pool: PoolRuntime) {
        guard pool.settings.style == .ondemand else { return }
        var running = 0, idle = 0
        for child in children.values where child.pool == pool.name && child.generation == generation && child.quitAt == nil {
            running += 1
            if let slot = child.slot, pool.scoreboard.stage(slot) == .idle { idle += 1 }
        }
        let action = ProcessManagerPolicy.onPendingConnection(settings: pool.settings, running: running, idle: idle, starting: 0)
        apply(action, to: pool, ondemand: true)
    }

    /// request_terminate_timeout and request_slowlog_timeout, checked on the heartbeat.
    func checkRequestTimeouts(now: Int) {
        for pool in pools {
            let terminate = pool.config.requestTerminateTimeout
            let slow = pool.config.requestSlowlogTimeout
            guard terminate > 0 || slow > 0 else { continue }
            for (pid, child) in children where child.pool == pool.name && child.generation == generation {
                guard let slot = child.slot, let snap = pool.scoreboard.snapshot(slot) else { continue }
                let trackFinished = pool.config.requestTerminateTimeoutTrackFinished
                guard snap.stage == .readingHeaders || snap.stage == .gettingInfo || snap.stage == .running
                        || (trackFinished && snap.stage == .finishing) else {
                    if child.slowLogged { children[pid]?.slowLogged = false }
                    continue
                }
                let elapsed = Double(now - snap.acceptedMono) / 1e9
                let request = "\(snap.method) \(snap.uri)\(snap.query.isEmpty ? "" : "?" + snap.query)"
                if slow > 0 && elapsed >= Double(slow) && !child.slowLogged {
                    children[pid]?.slowLogged = true
                    pool.scoreboard.countSlowRequest()
                    log.warning("[pool \(pool.name)] child \(pid), script '\(snap.script)' (request: \"\(request)\") executing too slow (\(TextRendering.fixed(elapsed, decimals: 6)) sec), logging")
                    writeSlowlog(pool: pool, pid: pid, snap: snap)
                }
                if terminate > 0 && elapsed >= Double(terminate) && child.timedOutAt == nil {
                    children[pid]?.timedOutAt = now
                    children[pid]?.termAt = now
                    log.warning("[pool \(pool.name)] child \(pid), script '\(snap.script)' (request: \"\(request)\") execution timed out (\(TextRendering.fixed(elapsed, decimals: 6)) sec), terminating")
                    Processes.signal(pid, SIGTERM)
                }
            }
        }
    }

    func writeSlowlog(pool: PoolRuntime, pid: pid_t, snap: Scoreboard.SlotSnapshot) {
        guard let path = pool.config.slowlog, let fd = try? FileIO.open(path, O_WRONLY | O_CREAT | O_APPEND, mode: 0o600) else { return }
        defer { FileIO.close(fd) }
        let stamp = TextRendering.time(epoch: SystemClock.epochSeconds(), format: "[%d-%b-%Y %H:%M:%S]")
        var text = "\n\(stamp)  [pool \(pool.name)] pid \(pid)\n"
        text += "script_filename = \(snap.script)\n"
        text += "request = \(snap.method) \(snap.uri)\(snap.query.isEmpty ? "" : "?" + snap.query)\n"
        try? FileIO.writeAll(fd, text)
    }

    /// After a reload: once the new generation's workers are up, ask the old ones to finish.
    func progressHandover(now: Int) {
        guard let deadline = handoverDeadline else { return }
        var ready = true
        for pool in pools where pool.settings.initialChildren > 0 {
            var count = 0
            for child in children.values where child.pool == pool.name && child.generation == generation {
                // An exec'd program cannot flag itself ready: once forked it shares the queue.
                if child.isExec { count += 1; continue }
                if let slot = child.slot, pool.scoreboard.slot(slot).flags & Scoreboard.readyFlag != 0 { count += 1 }
            }
            if count < min(pool.settings.initialChildren, 1) { ready = false }
        }
        guard ready || now >= deadline else { return }
        if !ready { log.warning("the new generation is not ready after 15 s; retiring the previous one anyway") }
        handoverDeadline = nil
        for (pid, child) in children where child.generation < generation { askToQuit(pid) }
        for pool in pools where pool.settings.style == .ondemand && hasPendingConnection(pool) {
            onPendingConnection(pool)
        }
        log.notice("generation \(generation) is serving; previous workers are finishing their requests")
        writeState()
    }
}
