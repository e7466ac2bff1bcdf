import FPMConfiguration

/// How many workers a job pool wants, as a pure decision (values in, an action out): dynamic
/// and ondemand scale on gearmand's backlog for the pool's functions — jobs queued and not
/// running — as FastCGI pools scale on their listen queue.
package enum JobPoolPolicy {
    /// One maintenance tick of a job pool.
    ///   - running: live workers (starting ones included); idle: workers sleeping on gearmand,
    ///     not asked to quit; starting: forked, not connected yet.
    ///   - backlog: gearmand's queued-minus-running jobs for the pool's functions; nil when it
    ///     could not be read (then only the idle rules apply: no worker is started blindly).
    package static func tick(settings: ProcessManagerSettings, state: inout ProcessManagerState, running: Int,
                             idle: [IdleWorker], starting: Int, backlog: Int?, nowMono: Int) -> MaintenanceAction {
        if settings.style == .static { return .none }
        if let backlog, backlog > 0 {
            // Waiting jobs: a worker for each that no idle or starting worker will take, up to
            // max_children (and pm.max_spawn_rate per tick); nobody is retired meanwhile.
            let wanted = backlog - idle.count - starting
            guard wanted > 0 else { return .none }
            if running >= settings.maxChildren { return .maxChildrenReached }
            return .spawn(count: min(wanted, settings.maxChildren - running, settings.maxSpawnRate), busyWarning: false)
        }
        // An empty queue: the pool shrinks as an idle FastCGI pool does (ondemand's idle
        // timeout, dynamic's spare bounds).
        return ProcessManagerPolicy.tick(settings: settings, state: &state, running: running, idle: idle, nowMono: nowMono)
    }
}
