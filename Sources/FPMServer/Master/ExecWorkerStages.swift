import FPMStatus
import FPMSystem

extension Master {
    /// Exec pools: the programs do not write their slots, so the master samples each one's
    /// stage (blocked in accept = idle, else busy) at its tick and at each status request; the
    /// status page, health, `fpmctl` and the process manager's counts then see busy workers.
    func sampleExecStages(_ pool: PoolRuntime, now: Int) {
        // An exec job pool's program never waits in accept(): there is no stage to sample.
        guard pool.execArguments != nil, !pool.isJobPool else { return }
        for child in control.current(in: pool.name) {
            guard let slot = child.slot, let inAccept = Processes.isBlockedInAccept(child.pid) else { continue }
            pool.scoreboard.slot(slot).observe(busy: !inAccept, now: now)
        }
    }
}
