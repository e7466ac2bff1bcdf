import FPMConfiguration
import FPMStatus
import FPMSystem

/// The process manager's side of the master: the one-second tick that counts idle and active
/// workers, records the listen queue, and applies `ProcessManagerPolicy`'s decision; and
/// ondemand's fork on a waiting connection.
extension Master {
    /// The 1-second tick: counts, listen queue, pm decisions.
    /// Linear in pools plus workers: the workers are grouped by pool once, and every unix
    /// listener's queue comes from one kernel dump (`Socket.listenQueues`).
    func maintenance(now: Int) {
        let workers = control.currentByPool()
        let queues = Socket.listenQueues(pools.map(\.listenFD))
        for (index, pool) in pools.enumerated() {
            sampleExecStages(pool, now: now)
            var idle: [IdleWorker] = []
            var active = 0
            var running = 0
            for child in workers[pool.name] ?? [] {
                running += 1
                guard let slot = child.slot else { continue }
                let stage = pool.scoreboard.stage(slot)
                if stage == .idle {
                    if child.lifecycle == .serving {
                        idle.append(IdleWorker(pid: child.pid, startedMono: child.startedMono,
                                               lastActivityMono: pool.scoreboard.slot(slot).stageStartedMono))
                    }
                } else {
                    active += 1
                }
            }
            let sb = pool.scoreboard
            sb.idleWorkers = idle.count
            sb.activeWorkers = active
            if active > sb.maxActive { sb.maxActive = active }
            if let q = queues[index] {
                sb.listenQueue = q.length
                sb.listenQueueLength = q.backlog
                if q.length > sb.maxListenQueue { sb.maxListenQueue = q.length }
            }
            if pool.isJobPool {
                // No listener: the pool scales on gearmand's backlog (`Master+JobPools`).
                jobPoolTick(index, pool, running: running, idle: idle, now: now)
                continue
            }
            let action = ProcessManagerPolicy.tick(settings: pool.settings, state: &pool.state, running: running,
                                                   idle: idle, nowMono: now)
            apply(action, to: pool, ondemand: false)
            if pool.settings.style == .ondemand && idle.isEmpty && SocketIO.waitReadable(pool.listenFD, timeoutMillis: 0) {
                onPendingConnection(pool)
            }
        }
    }

    func apply(_ action: MaintenanceAction, to pool: PoolRuntime, ondemand: Bool) {
        switch action {
        case .none:
            break
        case .retire(let pid):
            handle(.retire(pid: pid, now: SystemClock.monotonicNanos()))
        case .spawn(let count, let busy):
            if busy {
                log.warning("[pool \(pool.name)] seems busy (you may need to increase pm.start_servers, or pm.min/max_spare_servers), spawning \(pool.state.spawnRate) children, there are \(pool.scoreboard.idleWorkers) idle, and \(control.children.values.filter { $0.pool == pool.name }.count) total children")
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

    /// ondemand: the listener became readable. The listen queue's length says how many
    /// connections wait, so a burst gets its workers in one step.
    func onPendingConnection(_ pool: PoolRuntime) {
        guard pool.settings.style == .ondemand, !pool.isJobPool else { return }
        var running = 0, idle = 0, starting = 0
        for child in control.current(in: pool.name) where child.lifecycle == .serving {
            running += 1
            guard let slot = child.slot else { continue }
            if pool.scoreboard.slot(slot).flags & Scoreboard.readyFlag == 0 {
                starting += 1
            } else if pool.scoreboard.stage(slot) == .idle {
                idle += 1
            }
        }
        // The accept queue (TCP_INFO, or sock_diag for a unix socket); 1 when it cannot be read.
        let waiting = Socket.listenQueue(pool.listenFD)?.length ?? 1
        let action = ProcessManagerPolicy.onPendingConnection(settings: pool.settings, running: running, idle: idle,
                                                              starting: starting, waiting: waiting)
        apply(action, to: pool, ondemand: true)
    }

    /// pm.max_memory: a worker flagged that its private memory passed the limit. Start its
    /// replacement first (the pool has a spare slot for it), retire it once the replacement
    /// is ready, so the pool never shrinks; without room, recycle it (replaced on exit).
    func replaceWorkersOverMemory(now: Int) {
        for pool in pools where pool.config.maxMemory > 0 {
            for child in control.current(in: pool.name) where child.lifecycle == .serving {
                guard let slot = child.slot, pool.scoreboard.slot(slot).flags & Scoreboard.replaceMeFlag != 0 else { continue }
                if let replacement = memoryReplacements[child.pid] {
                    if let r = control.children[replacement], let rs = r.slot,
                       pool.scoreboard.slot(rs).flags & Scoreboard.readyFlag == 0 { continue }
                    memoryReplacements.removeValue(forKey: child.pid)
                    pool.scoreboard.memoryReplacements += 1
                    log.notice("[pool \(pool.name)] child \(child.pid) passed pm.max_memory; child \(replacement) replaces it")
                    handle(.retire(pid: child.pid, now: now))
                } else if let replacement = spawn(pool) {
                    memoryReplacements[child.pid] = replacement
                } else if control.children.values.contains(where: { $0.pool == pool.name && $0.lifecycle != .serving })
                            || memoryReplacements.keys.contains(where: { control.children[$0]?.pool == pool.name }) {
                    // No room now, but a worker of the pool is leaving, or another one's
                    // replacement is starting (its slot frees once that one is ready): wait for
                    // it rather than recycle this one, which would leave the pool short of a
                    // worker (two workers passing the limit together left one live process).
                    continue
                } else {
                    pool.scoreboard.memoryReplacements += 1
                    log.warning("[pool \(pool.name)] child \(child.pid) passed pm.max_memory and there is no room to start its replacement first; recycling it")
                    handle(.recycle(pid: child.pid, now: now))
                }
            }
        }
    }
}
