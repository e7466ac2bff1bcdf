import FPMSystem

extension Worker {
    /// Leaving (max_requests, idle retire, quit): pass the idle kept connections to the pool's
    /// hand-off socket, where an idle sibling adopts them, instead of closing them under nginx
    /// (which would retry a GET but answer a POST with 502).
    ///
    /// Handing them off every time the worker becomes busy removes head-of-line waits but cost
    /// 3-4x CPU per request and halved keep-alive throughput in `make bench`, so it is not done.
    func handOffKept() {
        guard let handoff = pool.handoff, !kept.isEmpty, siblingIsIdle() || waitForIdleSibling() else { return }
        var remaining: [FastCGISession] = []
        for session in kept {
            guard let fd = session.socket,
                  HandoffMessage(connection: fd, peer: session.peer).send(over: handoff.write) else {
                remaining.append(session)
                continue
            }
            // The sibling has its own descriptor now; this one is closed.
            epoll.remove(fd)
            release(session)
        }
        kept = remaining
    }

    /// How long a worker leaving at max_requests waits for a sibling to become idle.
    static let idleSiblingWaitNanos = 200_000_000

    /// Leaving at max_requests, a worker may find no sibling idle only because one left just
    /// before and the master has not replaced it yet: that slot says "finishing" until it is
    /// reaped, "free" while the master logs and forks, then "idle" before the replacement even
    /// runs (the master replaces every worker that leaves this way). So wait a little for an
    /// idle sibling rather than close the connections under nginx, when the pool has room for
    /// one. Not when told to quit (a stop: every sibling goes too), and never past a SIGQUIT.
    func waitForIdleSibling() -> Bool {
        guard !toldToQuit, !QuitSignal.requested, pool.scoreboard.slotCount > 1 else { return false }
        let deadline = SystemClock.monotonicNanos() + Worker.idleSiblingWaitNanos
        while SystemClock.monotonicNanos() < deadline {
            if SocketIO.waitReadable(quitPipe, timeoutMillis: 2) { return false }
            if siblingIsIdle() { return true }
        }
        return false
    }

    /// Whether another worker of the pool waits for work (a scan of the scoreboard's stages:
    /// atomic loads, no syscall). With none idle, handed-off connections would wait in the
    /// socket with nobody to serve them.
    func siblingIsIdle() -> Bool {
        let board = pool.scoreboard
        for i in 0..<board.slotCount where i != slot.index {
            if board.stage(i) == .idle { return true }
        }
        return false
    }

    /// Idle: take kept connections other workers passed on, and watch them.
    func adoptHandedOff() {
        guard let handoff = pool.handoff else { return }
        for _ in 0..<16 {
            guard let message = HandoffMessage.receive(from: handoff.read) else { return }
            keep(session(for: message.connection, peer: message.peer, keepsConnection: true))
        }
    }
}
