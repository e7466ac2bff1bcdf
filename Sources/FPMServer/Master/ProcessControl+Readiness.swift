import FPMStatus
import FPMSystem
import Glibc

/// Readiness as process control decides it: a balancer must stop sending work from the moment
/// a stop or a drain starts, while the requests in hand (and, in a graceful stop, the
/// connections already waiting) are still served.
extension ProcessControl {
    /// Why the master asks for no new work now (nil: it takes work): the reason `/ready`, the
    /// workers' ping page and `fpmctl health` give.
    package var readinessWithdrawn: MasterReadiness {
        switch phase {
        case .finishing: return .stopping
        case .terminating: return .stopping
        case .starting, .running, .handingOver: return draining ? .draining : .ready
        }
    }

    /// The pools among `pools` that have no child to take their connections while the master
    /// serves: no Swift worker of any generation still serving (a reload's new generation that
    /// cannot start leaves the previous one serving) and no child of an exec pool alive (one
    /// that is alive may be blocked in accept() on the blocking listener). The master answers
    /// such a pool's connections itself; the caller leaves out ondemand pools, which have no
    /// worker while idle by design. Empty while the master stops.
    package func poolsWithoutWorker<S: Sequence<String>>(among pools: S) -> Set<String> {
        guard phase.isServing else { return [] }
        var staffed = Set<String>()
        for child in children.values where child.lifecycle == .serving || child.isExec { staffed.insert(child.pool) }
        return Set(pools.lazy.filter { !staffed.contains($0) })
    }

    /// `fpmctl drain` / `fpmctl undrain`: readiness off or back on; serving goes on either way.
    mutating func setDraining(_ on: Bool, into out: inout [Command]) {
        guard on != draining else { return }
        draining = on
        out.append(.log(.notice, on ? "draining: readiness is off, requests are still served (fpmctl undrain turns it back on)"
                                    : "undrained: readiness is back on"))
        out.append(.writeState)
    }

    /// SIGTERM: a fast stop (php-fpm's meaning), or with `graceful_sigterm = yes` SIGQUIT's
    /// graceful one. SIGINT is always the fast stop, so one is left whatever the setting.
    func stopSignalMeaning(_ signal: Int32) -> Int32 {
        signal == SIGTERM && gracefulSigterm ? SIGQUIT : signal
    }
}
