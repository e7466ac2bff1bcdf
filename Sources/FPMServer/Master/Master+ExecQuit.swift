import FPMSystem
import Glibc

/// Exec programs are asked to quit with SIGTERM: php-cgi and libfcgi apps finish the request
/// in hand and exit. But the signal also interrupts the blocking call a request is in — php-cgi
/// installs its handler without SA_RESTART, so opcache's file lock or a database read fails with
/// EINTR and the request is answered half (HAProxy: "invalid or incomplete response"). So the
/// master sends it only while the program waits in accept(2) for its next connection; one busy
/// with a request is checked again every `execQuitPollMillis` and gets the signal once it is
/// back. In a graceful stop (`finish`) it also waits until the pool's listen queue is empty, so
/// the connections already waiting are served, as Swift workers serve theirs. Process
/// control's drain deadline still escalates one that never comes back.
extension Master {
    static let execQuitPollMillis: Int32 = 5

    /// SIGTERM now when `pid` is idle in accept() (or the kernel does not say) — and, to
    /// `finish`, its pool has no connection waiting — else once that holds.
    func askExecToQuit(_ pid: pid_t, finish: Bool) {
        if finish { finishingExecPrograms.insert(pid) }
        if execProgramMayQuit(pid) {
            Processes.signal(pid, SIGTERM)
        } else {
            pendingExecQuits.insert(pid)
        }
    }

    private func execProgramMayQuit(_ pid: pid_t) -> Bool {
        // A job pool's program never waits in accept(): it waits on gearmand, and finishes the
        // job in hand on SIGTERM as a worker program is expected to (docs/JOBS.md).
        let pool = control.children[pid].flatMap { poolsByName[$0.pool] }
        if pool?.isJobPool == true { return true }
        guard Processes.isBlockedInAccept(pid) != false else { return false }
        guard finishingExecPrograms.contains(pid), let pool, let queue = Socket.listenQueue(pool.listenFD) else { return true }
        return queue.length == 0
    }

    /// Each wake-up: the deferred quits whose program is back in accept() are sent; those of
    /// programs gone (reaped, or escalated by process control) are dropped.
    func sendPendingExecQuits() {
        guard !pendingExecQuits.isEmpty else { return }
        for pid in pendingExecQuits {
            guard let child = control.children[pid], case .quitting = child.lifecycle else {
                pendingExecQuits.remove(pid)
                continue
            }
            if execProgramMayQuit(pid) {
                Processes.signal(pid, SIGTERM)
                pendingExecQuits.remove(pid)
            }
        }
    }

    /// How soon the loop must wake to check the deferred quits (nil: none waits).
    var execQuitWakeMillis: Int32? { pendingExecQuits.isEmpty ? nil : Master.execQuitPollMillis }
}

extension Master {
    /// In a stop, each wake-up: the listener of a pool whose last worker is gone is closed
    /// (`PoolRuntime.closeListener`). Without this, a connection that arrived after the last
    /// worker left — a front end that had not yet seen the stop, or a request of one pool to
    /// another — waited until every other pool had finished too.
    func closeListenersOfFinishedPools() {
        guard !control.phase.isServing else { return }
        var staffed = Set<String>()
        for child in control.children.values { staffed.insert(child.pool) }
        for pool in pools where pool.listenFD >= 0 && !staffed.contains(pool.name) {
            epoll.remove(pool.listenFD)
            pool.closeListener()
            log.debug("[pool \(pool.name)] no worker left: its listener is closed")
        }
    }
}
