import FPMSystem

extension Worker {
    /// Leaving (max_requests, idle retire, pm.max_memory, quit, a reload): pass the idle kept
    /// connections to the pool's hand-off socket instead of closing them under nginx (which
    /// would retry a GET but answer a POST with 502). Whichever worker of the pool is idle next
    /// adopts them — a sibling, the replacement the master is starting, or after a reload the
    /// new generation, which shares the socket — so no sibling needs to be idle right now; a
    /// connection waits there as it would in the listen queue.
    ///
    /// Handing them off every time the worker becomes busy removes head-of-line waits but cost
    /// 3-4x CPU per request and halved keep-alive throughput in `make bench`; a busy worker
    /// passes them on only once its request is slow (`SlowRequestHandoff`).
    func handOffKept() {
        guard let handoff = pool.handoff, !kept.isEmpty else { return }
        for session in kept {
            guard let fd = session.socket else { continue }
            // Reported first (see kept_handoff.c): killed in between, the master only drops
            // its duplicate; it never offers the connection a second time. Unreported (the
            // channel full), it is not passed on: the master would offer it again at this
            // worker's end.
            if reportsKept && !WorkerReport.sendHandedOn(fd, over: control) { continue }
            guard HandoffMessage(connection: fd, peer: session.peer).send(over: handoff.write) else {
                // Still this worker's: the master keeps a duplicate again.
                if reportsKept { _ = WorkerReport.sendKept(fd, peer: session.peer, over: control) }
                continue
            }
            // The socket holds its own reference now; this one is closed (and leaves the epoll).
            release(session, handedOn: true)
        }
    }

    /// Leaving after a wake-up meant for work: accept what waits on the listener and pass it,
    /// with any hand-off messages it was woken for, through the hand-off socket — each message
    /// sent is a new arrival there, which wakes an idle sibling. Bounded: what is left still
    /// wakes the next worker that waits.
    func passOnWakeups() {
        guard let handoff = pool.handoff else { return }
        if wokenForHandoff {
            for _ in 0..<16 {
                guard let message = HandoffMessage.receive(from: handoff.read) else { break }
                // Sent on, the socket holds its own reference (a full socket loses this one).
                _ = message.send(over: handoff.write)
                FileIO.close(message.connection)
            }
        }
        if wokenForListener {
            for _ in 0..<4 {
                guard let accepted = try? Socket.accept(pool.listenFD) else { break }
                _ = HandoffMessage(connection: accepted.fd, peer: accepted.peer).send(over: handoff.write)
                FileIO.close(accepted.fd)
            }
        }
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
