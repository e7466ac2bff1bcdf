import FPMConfiguration
import FPMStatus
import FPMSystem
import Gearman

/// The master's side of job pools: each pm tick, one backlog query per job pool to one of its
/// job servers (`BacklogQuery`, non-blocking, in the master's epoll), its answer into the
/// scoreboard (backlog, connected or disconnected) and into the pm decision (`JobPoolPolicy`).
extension Master {
    /// How long a query may take: less than a tick, so one is never overtaken by the next.
    static let backlogQueryNanos = 900_000_000

    /// The tick's part for job pool `index`: the backlog query, then the pm decision on the
    /// last reading.
    func jobPoolTick(_ index: Int, _ pool: PoolRuntime, running: Int, idle: [IdleWorker], now: Int) {
        guard let jobs = pool.jobs else { return }
        if let query = jobs.query, now >= query.deadline { finish(index, pool, query, answer: nil, failure: "no answer within \(Self.backlogQueryNanos / 1_000_000) ms", now: now) }
        if jobs.query == nil { startBacklogQuery(index, pool, now: now) }
        var starting = 0
        for child in control.current(in: pool.name) where child.lifecycle == .serving {
            if let slot = child.slot, pool.scoreboard.slot(slot).flags & Scoreboard.readyFlag == 0 { starting += 1 }
        }
        let action = JobPoolPolicy.tick(settings: pool.settings, state: &pool.state, running: running, idle: idle,
                                        starting: starting, backlog: jobs.backlog, nowMono: now)
        apply(action, to: pool, ondemand: false)
    }

    func startBacklogQuery(_ index: Int, _ pool: PoolRuntime, now: Int) {
        guard let jobs = pool.jobs, !jobs.servers.isEmpty else { return }
        let server = jobs.nextServer % jobs.servers.count
        jobs.nextServer = server + 1
        if jobs.numericHosts[server] == nil {
            jobs.numericHosts[server] = NonBlockingConnect.numericAddress(host: jobs.servers[server].host)
        }
        guard let host = jobs.numericHosts[server] else {
            record(pool, server: server, backlog: nil, failure: "cannot resolve \(jobs.servers[server].host)")
            return
        }
        let started: (fd: Int32, connected: Bool)
        do {
            started = try NonBlockingConnect.start(numericHost: host, port: jobs.servers[server].port)
        } catch {
            record(pool, server: server, backlog: nil, failure: "\(error)")
            return
        }
        // Workers forked meanwhile close it (`DescriptorRegistry`); the query owns it.
        DescriptorRegistry.register(started.fd)
        let query = BacklogQuery(server: server, fd: started.fd, deadline: now + Self.backlogQueryNanos)
        jobs.query = query
        if started.connected {
            backlogQueryReady(index, now: now)
            return
        }
        do {
            try epoll.add(started.fd, events: Epoll.output, data: Wakeup.jobBacklog(pool: index).tag)
        } catch {
            finish(index, pool, query, answer: nil, failure: "\(error)", now: now)
        }
    }

    /// The query's socket is ready: one step further.
    func backlogQueryReady(_ index: Int, now: Int) {
        guard index < pools.count, let jobs = pools[index].jobs, let query = jobs.query else { return }
        let pool = pools[index]
        switch query.step() {
        case .wait(let events):
            epoll.remove(query.fd)
            do {
                try epoll.add(query.fd, events: events, data: Wakeup.jobBacklog(pool: index).tag)
            } catch {
                finish(index, pool, query, answer: nil, failure: "\(error)", now: now)
            }
        case .answered(let answer):
            finish(index, pool, query, answer: answer, failure: nil, now: now)
        case .failed(let reason):
            finish(index, pool, query, answer: nil, failure: reason, now: now)
        }
    }

    private func finish(_ index: Int, _ pool: PoolRuntime, _ query: BacklogQuery, answer: [GearmanFunctionStatus]?,
                        failure: String?, now: Int) {
        epoll.remove(query.fd)
        query.close()
        pool.jobs?.query = nil
        let backlog = answer.map { BacklogQuery.backlog(in: $0, functions: pool.config.effectiveGearmanFunctions) }
        record(pool, server: query.server, backlog: backlog, failure: failure)
    }

    /// A server's reading into the pool's state and scoreboard; a change of the pool's
    /// connection state is logged once.
    func record(_ pool: PoolRuntime, server: Int, backlog: Int?, failure: String?) {
        guard let jobs = pool.jobs else { return }
        jobs.serverBacklogs[server] = backlog
        let sb = pool.scoreboard
        let state: Scoreboard.GearmanState = jobs.backlog == nil ? .disconnected : .connected
        sb.gearmanState = state
        sb.backlog = jobs.backlog ?? 0
        if sb.backlog > sb.maxBacklog { sb.maxBacklog = sb.backlog }
        // The listen-queue figures of a FastCGI pool are the backlog's for a job pool.
        sb.listenQueue = sb.backlog
        sb.maxListenQueue = sb.maxBacklog
        if state != jobs.loggedState {
            if state == .disconnected {
                log.warning("[pool \(pool.name)] gearmand \(jobs.servers[server]) does not answer (\(failure ?? "?")): the pool is disconnected")
            } else if jobs.loggedState == .disconnected {
                log.notice("[pool \(pool.name)] gearmand answers again: the pool is connected")
            }
            jobs.loggedState = state
        }
    }
}
