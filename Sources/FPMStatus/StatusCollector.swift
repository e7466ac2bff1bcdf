import FPMSystem
import FPMConfiguration

/// Turns a pool's scoreboard into the status page's model. Counts come from scanning the
/// slots at the moment of the request, not from counters that drift between ticks.
///
/// `liveQueue` is the pool's accept queue read from the kernel at the moment of the request by
/// whoever holds the listener (a worker, the master's status listener); `nil` (fpmctl, which
/// has no listener) uses the figure the master's tick stored.
package enum StatusCollector {
    package static func collect(_ scoreboard: Scoreboard, nowMono: Int = SystemClock.monotonicNanos(),
                               nowEpoch: Int = SystemClock.epochSeconds(),
                               liveQueue: (length: Int, backlog: Int)? = nil) -> (PoolStatus, [ProcessStatus]) {
        let snapshots = scoreboard.snapshots().filter { $0.pid > 0 }
        var idle = 0
        var active = 0
        var processes: [ProcessStatus] = []
        for s in snapshots {
            if s.stage == .idle { idle += 1 } else { active += 1 }
            let state: ProcessStatus.State
            switch s.stage {
            case .idle, .free: state = .idle
            case .readingHeaders: state = .readingHeaders
            case .gettingInfo: state = .gettingRequestInformation
            case .running: state = .running
            case .ending: state = .ending
            case .finishing: state = .finishing
            }
            let isIdle = s.stage == .idle
            let duration = s.requestDurationMicros(now: nowMono)
            let cpuMicros = s.cpuUserMicros + s.cpuSystemMicros
            let cpu = isIdle && s.durationMicros > 0 ? Double(cpuMicros) * 100 / Double(s.durationMicros) : 0
            processes.append(ProcessStatus(
                pid: s.pid, state: state, startTime: s.startEpoch, startSince: max(0, nowEpoch - s.startEpoch),
                requests: s.requests, requestDuration: duration,
                requestMethod: s.method.isEmpty ? "-" : s.method, requestURI: s.uri, queryString: s.query,
                contentLength: s.contentLength, user: s.user.isEmpty ? "-" : s.user,
                script: s.script.isEmpty ? "-" : s.script, lastRequestCPU: cpu,
                lastRequestMemory: isIdle ? s.memory : 0, requestID: s.requestID, traceID: s.traceID))
        }
        let pm = ProcessManagerStyle(rawIndex: scoreboard.processManager)?.description ?? "static"
        let pool = PoolStatus(
            pool: scoreboard.poolName, processManager: pm, startTime: scoreboard.startEpoch,
            startSince: max(0, nowEpoch - scoreboard.startEpoch), acceptedConn: scoreboard.acceptedConnections,
            listenQueue: liveQueue?.length ?? scoreboard.listenQueue,
            maxListenQueue: max(scoreboard.maxListenQueue, liveQueue?.length ?? 0),
            listenQueueLen: liveQueue?.backlog ?? scoreboard.listenQueueLength, idleProcesses: idle, activeProcesses: active,
            totalProcesses: idle + active, maxActiveProcesses: max(scoreboard.maxActive, active),
            maxChildrenReached: scoreboard.maxChildrenReached, slowRequests: scoreboard.slowRequests,
            maxChildren: scoreboard.maxChildren,
            // A spare slot beyond max_children exists only under pm.max_memory.
            memoryReplacements: scoreboard.slotCount > scoreboard.maxChildren ? scoreboard.memoryReplacements : nil,
            rejectedRequests: scoreboard.rejectedRequests,
            limits: scoreboard.limits, requestDurations: scoreboard.durationHistogram)
        var status = pool
        status.jobs = JobPoolFigures(scoreboard, active: active)
        return (status, processes)
    }
}

extension Scoreboard.Limits {
    /// The limits of `pool` as its scoreboard records them.
    package init(pool: PoolConfiguration) {
        self.init(startServers: pool.startServers, minSpareServers: pool.minSpareServers,
                  maxSpareServers: pool.maxSpareServers, maxRequests: pool.maxRequests,
                  terminateTimeout: pool.requestTerminateTimeout, processIdleTimeout: pool.processIdleTimeout)
    }
}
