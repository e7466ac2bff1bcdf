import FPMSystem
import FPMConfiguration

/// The pm settings of one pool, as the policy needs them.
package struct ProcessManagerSettings: Sendable, Equatable {
    package var style: ProcessManagerStyle
    package var maxChildren: Int
    package var startServers: Int
    package var minSpareServers: Int
    package var maxSpareServers: Int
    package var maxSpawnRate: Int
    /// ondemand: seconds a worker may stay idle before it is retired.
    package var processIdleTimeout: Int

    package init(style: ProcessManagerStyle, maxChildren: Int, startServers: Int = 0, minSpareServers: Int = 0,
                maxSpareServers: Int = 0, maxSpawnRate: Int = 32, processIdleTimeout: Int = 10) {
        self.style = style
        self.maxChildren = maxChildren
        self.startServers = startServers
        self.minSpareServers = minSpareServers
        self.maxSpareServers = maxSpareServers
        self.maxSpawnRate = maxSpawnRate
        self.processIdleTimeout = processIdleTimeout
    }

    /// Workers forked when the pool starts.
    package var initialChildren: Int {
        switch style {
        case .static: return maxChildren
        case .dynamic: return startServers
        case .ondemand: return 0
        }
    }
}

/// What one maintenance tick should do to a pool.
package enum MaintenanceAction: Sendable, Equatable {
    case none
    /// Retire the idle worker of this pid (the one started longest ago).
    case retire(pid: Int32)
    /// Fork this many workers.
    case spawn(count: Int, busyWarning: Bool)
    /// Below min spare but at max_children.
    case maxChildrenReached
}

/// An idle worker as the policy sees it.
package struct IdleWorker: Sendable, Equatable {
    package var pid: Int32
    package var startedMono: Int
    /// Monotonic ns of its last stage change (its last activity).
    package var lastActivityMono: Int

    package init(pid: Int32, startedMono: Int, lastActivityMono: Int) {
        self.pid = pid
        self.startedMono = startedMono
        self.lastActivityMono = lastActivityMono
    }
}

/// The per-pool state the dynamic rules keep between ticks.
package struct ProcessManagerState: Sendable, Equatable {
    /// php-fpm's idle_spawn_rate: 1, doubling up to pm.max_spawn_rate while short of spares.
    package var spawnRate = 1
    /// The max_children warning is logged once until a spawn succeeds again.
    package var warnedMaxChildren = false

    package init() {}
}

/// php-fpm's process-manager rules as pure decisions: the master feeds in what the scoreboard
/// says and applies the answer. Kept free of I/O so every rule can be unit-tested with snapshots.
package enum ProcessManagerPolicy {
    /// One dynamic/ondemand maintenance tick (php-fpm runs it every second).
    ///   - running: live workers of the pool (idle + active), including ones being retired.
    ///   - idle: workers waiting for a request, not already asked to quit.
    package static func tick(settings: ProcessManagerSettings, state: inout ProcessManagerState,
                            running: Int, idle: [IdleWorker], nowMono: Int) -> MaintenanceAction {
        switch settings.style {
        case .static:
            return .none
        case .ondemand:
            // Retire at most one worker per tick: the oldest idle one past the idle timeout.
            let timeoutNanos = settings.processIdleTimeout * 1_000_000_000
            if let oldest = idle.min(by: { $0.startedMono < $1.startedMono }),
               nowMono - oldest.lastActivityMono > timeoutNanos {
                return .retire(pid: oldest.pid)
            }
            return .none
        case .dynamic:
            if idle.count > settings.maxSpareServers {
                state.spawnRate = 1
                let oldest = idle.min(by: { $0.startedMono < $1.startedMono })!
                return .retire(pid: oldest.pid)
            }
            if idle.count < settings.minSpareServers {
                if running >= settings.maxChildren {
                    state.spawnRate = 1
                    return .maxChildrenReached
                }
                let busy = state.spawnRate >= 8
                let count = min(state.spawnRate, settings.minSpareServers - idle.count, settings.maxChildren - running)
                if state.spawnRate < settings.maxSpawnRate {
                    state.spawnRate = min(state.spawnRate * 2, settings.maxSpawnRate)
                }
                if count <= 0 { return .maxChildrenReached }
                return .spawn(count: count, busyWarning: busy)
            }
            state.spawnRate = 1
            return .none
        }
    }

    /// ondemand: connections are pending on the listener. Fork, in one step, a worker for each
    /// waiting connection that no idle or starting worker will take, up to pm.max_children: a
    /// burst of N connections gets N workers at once, not one per readiness event (where all
    /// but the first would wait a whole request).
    ///   - running: live workers of the pool, starting ones included.
    ///   - idle: ready workers waiting for a connection; starting: forked, not ready yet.
    ///   - waiting: connections in the listen queue (the kernel's accept queue; at least 1,
    ///     since the listener is readable; 1 when the queue cannot be read).
    package static func onPendingConnection(settings: ProcessManagerSettings, running: Int, idle: Int,
                                           starting: Int, waiting: Int = 1) -> MaintenanceAction {
        let wanted = max(1, waiting) - idle - starting
        if wanted <= 0 { return .none }
        if running >= settings.maxChildren { return .maxChildrenReached }
        return .spawn(count: min(wanted, settings.maxChildren - running), busyWarning: false)
    }

    /// `pm.max_requests` with jitter: each worker draws its own limit in
    /// [max_requests - jitter, max_requests + jitter] so a pool does not recycle all at once.
    package static func requestLimit(maxRequests: Int, jitter: Int, random: Int) -> Int {
        guard maxRequests > 0 else { return 0 }
        guard jitter > 0 else { return maxRequests }
        let offset = (abs(random) % (2 * jitter + 1)) - jitter
        return max(1, maxRequests + offset)
    }
}
