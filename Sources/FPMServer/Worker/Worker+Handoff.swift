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
    /// 3-4x CPU per request and halved keep-alive throughput in `make bench`, so it is not done.
    func handOffKept() {
        guard let handoff = pool.handoff, !kept.isEmpty else { return }
        var remaining: [FastCGISession] = []
        for session in kept {
            guard let fd = session.socket,
                  HandoffMessage(connection: fd, peer: session.peer).send(over: handoff.write) else {
                remaining.append(session)
                continue
            }
            // The socket holds its own reference now; this one is closed.
            epoll.remove(fd)
            release(session)
        }
        kept = remaining
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
