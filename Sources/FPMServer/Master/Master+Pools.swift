import FPMConfiguration
import FPMStatus
import FPMSystem
import Glibc

/// Opening what the pools need: listening sockets (or the inherited ones), scoreboards,
/// access logs, hand-off sockets. Whether users, groups and files are usable was checked
/// before (`StartChecks`, at the start and by the reload that led here).
extension Master {
    /// php-fpm's notice for `user`/`group` in a master that cannot switch to them.
    func noteIgnoredUsers() {
        guard !Processes.isRoot else { return }
        for pool in configuration.pools where pool.user != nil || pool.group != nil {
            log.notice("[pool \(pool.name)] 'user' directive is ignored when FPM is not running as root")
        }
    }

    struct StartError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// About how many descriptors the master holds for `configuration`: per pool its listener,
    /// its hand-off socket and its access log; per worker a control channel and, with
    /// catch_workers_output, two pipes; twice the workers during a reload's hand-over; and
    /// some room for the master's own (logs, epoll, signalfd, status listeners).
    static func descriptorsNeeded(_ configuration: FPMConfiguration) -> Int {
        var total = 64
        for pool in configuration.pools {
            total += 2 + (pool.accessLog != nil ? 1 : 0) + (pool.statusListen != nil ? 1 : 0)
            total += 2 * pool.maxChildren * (1 + (pool.catchWorkersOutput ? 2 : 0))
        }
        return total
    }

    /// `rlimit_files` in [global] sets the master's limit (php-fpm's behaviour, and inherited by
    /// workers); without it, the soft limit is raised toward what the pools need, up to the
    /// hard limit, so thousands of pools start under a default 1024.
    func applyDescriptorLimit() throws {
        if let files = configuration.global.rlimitFiles {
            do {
                try Processes.setLimit(Int32(RLIMIT_NOFILE.rawValue), UInt64(files))
            } catch {
                throw StartError("failed to set rlimit_files to \(files): \(error)")
            }
            return
        }
        let needed = Self.descriptorsNeeded(configuration)
        let limit = Processes.raiseDescriptorLimit(to: needed)
        if limit < needed {
            log.warning("\(configuration.pools.count) pools may need about \(needed) descriptors but RLIMIT_NOFILE allows \(limit): raise the hard limit (LimitNOFILE=, ulimit -Hn) or set rlimit_files")
        }
    }

    /// Opens (or takes over) each pool's socket, scoreboard and access log. First, on a first
    /// start, each pool's once-per-generation preparation (a reload's new image was prepared
    /// for by the image that validated it), before any worker exists.
    func openPools() throws {
        try applyDescriptorLimit()
        if inheritance == nil {
            let failures = preparePools(for: configuration)
            if !failures.isEmpty { throw StartError(failures.joined(separator: "\n")) }
        }
        var opened: [PoolRuntime] = []
        do {
            try openEach(into: &opened)
        } catch {
            // A reload's new image falls back to the previous configuration and passes the
            // inherited sockets on: none may be closed with the pools dropped here.
            for pool in opened { pool.giveUpSockets() }
            throw error
        }
        // The backlog as the kernel has it, from the start (not only from the first tick); one
        // query for all unix listeners.
        for (pool, queue) in zip(opened, Socket.listenQueues(opened.map(\.listenFD))) {
            if let queue { pool.scoreboard.listenQueueLength = queue.backlog }
        }
        pools = opened
    }

    /// Each pool's socket, scoreboard, access log and hand-off socket, appended to `opened` as
    /// soon as it owns them (so a failure later gives them up, `openPools`).
    private func openEach(into opened: inout [PoolRuntime]) throws {
        for (index, config) in configuration.pools.enumerated() {
            // A job pool listens nowhere: its workers connect to gearmand (`JobWorker`).
            let key = config.isJobPool ? PoolRuntime.jobPoolKey(config.name) : config.listen.description
            let fd: Int32
            if config.isJobPool {
                fd = -1
            } else if let inheritedFD = inherited.claimListener(key) {
                fd = inheritedFD
                try? FileIO.setCloseOnExec(fd, true)
                log.notice("[pool \(config.name)] using inherited socket fd=\(fd), \"\(key)\"")
            } else {
                fd = try openListener(config)
            }
            // Swift workers multiplex the listener with epoll; exec'd FastCGI programs block in
            // accept() on it, so their pool's listener stays blocking.
            if fd >= 0 { try FileIO.setNonBlocking(fd, config.exec == nil) }
            let sbPath = Scoreboard.path(directory: runtimeDirectory, masterPID: pid, pool: config.name)
            let old = try? Scoreboard(open: sbPath)
            // pm.max_memory: one spare slot, so a replacement starts before the worker it replaces leaves.
            let slots = config.maxChildren + (config.maxMemory > 0 && config.exec == nil ? 1 : 0)
            let scoreboard = try Scoreboard(create: sbPath, pool: config.name, listen: key, pm: config.pm.rawIndex,
                                            slots: slots, maxChildren: config.maxChildren,
                                            limits: Scoreboard.Limits(pool: config), masterPID: pid,
                                            generation: generation, group: runtimeGroup)
            scoreboard.isJobPool = config.isJobPool
            if let old {
                // Counters survive a reload: monitoring sees one continuous pool.
                scoreboard.acceptedConnections = old.acceptedConnections
                scoreboard.slowRequests = old.slowRequests
                scoreboard.maxChildrenReached = old.maxChildrenReached
                scoreboard.maxActive = old.maxActive
                scoreboard.maxListenQueue = old.maxListenQueue
                scoreboard.memoryReplacements = old.memoryReplacements
                scoreboard.rejectedRequests = old.rejectedRequests
                scoreboard.startEpoch = old.startEpoch
                scoreboard.durationHistogram = old.durationHistogram
                scoreboard.jobsDone = old.jobsDone
                scoreboard.jobsFailed = old.jobsFailed
                scoreboard.restarts = old.restarts
                scoreboard.maxBacklog = old.maxBacklog
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
            opened.append(runtime)
            if config.exec == nil && !config.isJobPool {
                // The previous generation's hand-off socket, if the pool had one: its leaving
                // workers can then pass their kept connections to this generation's.
                if let handoff = inherited.claimHandoff(config.name) {
                    runtime.handoff = handoff
                } else {
                    runtime.handoff = try HandoffSocket.make()
                }
            } else if let handoff = inherited.claimHandoff(config.name) {
                handoff.close()
            }
            if runtime.settings.style == .ondemand && fd >= 0 {
                try epoll.add(fd, events: Epoll.input | Epoll.edgeTriggered, data: Wakeup.pendingConnection(pool: index).tag)
            }
        }
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

    /// Closes what the previous image handed over that no pool of the new configuration uses.
    func closeUnusedInheritance() {
        for key in inherited.closeUnclaimed() { log.notice("closed inherited socket \"\(key)\" no pool uses any more") }
    }
}
