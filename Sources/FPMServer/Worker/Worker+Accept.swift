import FPMStatus
import FPMSystem

/// Taking connections off the pool's listener: one per wake-up, a pause when descriptors run
/// out, and at a graceful stop of the master every connection still waiting.
extension Worker {
    /// Takes one connection off the listener and serves it; false when none was waiting (or
    /// none could be accepted).
    @discardableResult
    func acceptAndServe() -> Bool {
        let accepted: (fd: Int32, peer: PeerAddress)?
        do {
            accepted = try Socket.accept(pool.listenFD)
        } catch {
            if error.isOutOfResources { pauseAccepting(error) }
            return false
        }
        guard let (fd, peer) = accepted else { return false }
        if let allowed = pool.allowedClients, peer.family != .unix, !allowed.contains(where: { $0.sameHost(as: peer) }) {
            log.warning("[pool \(pool.name)] child \(pid): Connection disallowed: IP address '\(peer.text)' has been dropped.")
            FileIO.close(fd)
            return true
        }
        // Waiting for a new client's first bytes is reading its request, not idling.
        slot.awaitRequest(now: SystemClock.monotonicNanos())
        serve(session(for: fd, peer: peer))
        return true
    }

    /// The master stops: the connections already waiting on the listener are served before
    /// this worker leaves, or they would be reset when the last copy of the listener closes.
    /// Every sibling does the same as it leaves, so the queue is empty once the last worker
    /// is gone (but for a connection arriving after its last look: readiness has said 503
    /// since the stop began, so a balancer has stopped sending). Bounded by the master's
    /// process_control_timeout, as the request in hand is.
    func serveBacklog() {
        var count = 0
        while acceptAndServe() { count += 1 }
        if count > 0 { log.debug("[pool \(pool.name)] child \(pid): served \(count) waiting connection(s) before leaving") }
    }

    /// Out of descriptors: stop watching the listener for a moment (the pending connection stays
    /// in the queue for a sibling or for later) and say so, at most once per interval.
    func pauseAccepting(_ error: SystemError) {
        let now = SystemClock.monotonicNanos()
        epoll.remove(pool.listenFD)
        acceptResumesAt = now + Worker.acceptPauseNanos
        if let last = lastExhaustionLog, now - last < Worker.exhaustionLogIntervalNanos {
            exhaustionsSinceLog += 1
            return
        }
        let more = exhaustionsSinceLog > 0 ? " (\(exhaustionsSinceLog) more since the last report)" : ""
        log.warning("[pool \(pool.name)] child \(pid): \(error); not accepting for \(Worker.acceptPauseNanos / 1_000_000) ms\(more)")
        lastExhaustionLog = now
        exhaustionsSinceLog = 0
    }

    func resumeAccepting() {
        acceptResumesAt = nil
        guard !takesNoWork else { return }
        do {
            try watch(.listener, pool.listenFD, events: Epoll.input | Epoll.exclusive)
        } catch {
            acceptResumesAt = SystemClock.monotonicNanos() + Worker.acceptPauseNanos
        }
    }
}
