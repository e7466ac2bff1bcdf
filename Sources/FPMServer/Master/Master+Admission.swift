import FPMConfiguration
import FPMStatus
import FPMSystem
import FastCGI

/// Admission control's I/O (`Admission`, `AdmissionQueue`, `AdmissionReply`): once per pass of
/// the loop, after the events. Nothing here blocks: a pool's listener is accepted from only
/// when a connection is waiting (a Swift pool's listener is non-blocking; an exec pool's only
/// while it has no child that could race for it), the answers are non-blocking conversations.
extension Master {
    func admissionPass(replies: [Int], pending: [Int], now: Int) {
        if !admission.configured { configureAdmission(now: now) }
        for id in replies { serviceReply(id) }
        checkDownPools(now: now)
        for index in pending where admission.down.contains(index) { answerDownPool(index, now: now) }
        if !admission.queues.isEmpty { lookAtQueues(now: now) }
        for (id, reply) in admission.replies where reply.state.isExpired(now: now) { closeReply(id) }
    }

    func configureAdmission(now: Int) {
        admission.configured = true
        for (index, pool) in pools.enumerated() where pool.config.maxQueueWait > 0 && pool.handoff != nil {
            admission.queues[index] = AdmissionQueue(limitNanos: pool.config.maxQueueWait * 1_000_000, now: now)
        }
    }

    // MARK: a pool with no worker

    /// Whether `pool` has no worker to take its connections while it should have one: the
    /// master serves, the pool is not ondemand (which has none while idle), and no child of it
    /// takes work — a Swift worker of any generation still serving (a reload's new generation
    /// that cannot start leaves the previous one serving), or any child of an exec pool (one
    /// that is alive may be blocked in accept() on the blocking listener). Derived from process
    /// control's children here; one line to swap for its own "pool is down" query.
    func poolHasNoWorker(_ pool: PoolRuntime, staffed: Set<String>) -> Bool {
        // A job pool has no listener to answer on: gearmand keeps its jobs until a worker comes.
        control.phase.isServing && pool.settings.style != .ondemand && !pool.isJobPool && !staffed.contains(pool.name)
    }

    /// Marks pools down or up again when the children changed (or every second): a down pool's
    /// listener is in the master's epoll, and its connections are answered 503 at once.
    func checkDownPools(now: Int) {
        let count = control.children.count
        guard count != admission.lastChildCount || now >= admission.nextDownCheck || !admission.down.isEmpty else { return }
        admission.lastChildCount = count
        admission.nextDownCheck = now + Admission.downCheckNanos
        var staffed = Set<String>()
        for child in control.children.values where child.lifecycle == .serving || child.isExec { staffed.insert(child.pool) }
        for (index, pool) in pools.enumerated() {
            let down = poolHasNoWorker(pool, staffed: staffed)
            guard down != admission.down.contains(index) else { continue }
            if down {
                do {
                    try epoll.add(pool.listenFD, events: Epoll.input, data: Wakeup.pendingConnection(pool: index).tag)
                } catch {
                    log.warning("[pool \(pool.name)] has no worker, and its listener cannot be watched: \(error)")
                    continue
                }
                admission.down.insert(index)
                log.warning("[pool \(pool.name)] has no worker: the master answers its connections 503 with Retry-After until one starts")
                answerDownPool(index, now: now)
            } else {
                epoll.remove(pool.listenFD)
                admission.down.remove(index)
                log.notice("[pool \(pool.name)] has a worker again; its connections go to its workers")
            }
        }
    }

    /// A down pool's listener is readable: answer what waits, a bounded number per pass (the
    /// listener is level-triggered: the rest wakes the loop again).
    func answerDownPool(_ index: Int, now: Int) {
        let pool = pools[index]
        for _ in 0..<Admission.acceptPerLook {
            // An exec pool's listener blocks; with no child alive nothing else accepts on it.
            guard SocketIO.waitReadable(pool.listenFD, timeoutMillis: 0), let (fd, peer) = acceptAllowed(pool) else { return }
            reject(fd, peer: peer, pool: index, since: now, now: now)
        }
    }

    // MARK: pm.max_queue_wait

    func lookAtQueues(now: Int) {
        let serving = control.phase.isServing
        let reloading = control.reload.isInFlight
        for index in admission.queues.keys.sorted() {
            guard var queue = admission.queues[index], queue.isDue(now: now) || (!serving && !queue.isEmpty) else { continue }
            admission.queues[index] = nil  // taken out while it is worked on
            let pool = pools[index]
            var steps: [AdmissionQueue.Step] = []
            if !serving || admission.down.contains(index) {
                // Stopping, or no worker left to pass them to: answer them.
                steps = queue.removeAll().map { .reject($0) }
                _ = queue.look(idle: 0, now: now)
            } else if reloading {
                // The next image inherits the hand-off socket, not the master's descriptors.
                steps = queue.removeAll().map { .handOff($0) }
                _ = queue.look(idle: 0, now: now)
            } else {
                let (idle, canGrow) = idleWorkers(pool)
                if idle > 0 || canGrow {
                    queue.backlogEmpty(at: now)
                } else {
                    acceptWaiting(pool, into: &queue, now: now)
                }
                steps = queue.look(idle: idle, now: now)
            }
            var notPassed: [AdmissionQueue.Held] = []
            for step in steps {
                switch step {
                case .handOff(let held):
                    if let handoff = pool.handoff, HandoffMessage(connection: held.connection, peer: held.peer).send(over: handoff.write) {
                        FileIO.close(held.connection)
                    } else {
                        notPassed.append(held)
                    }
                case .reject(let held):
                    if admission.warnedSaturated.insert(index).inserted {
                        log.warning("[pool \(pool.name)] a connection waited pm.max_queue_wait (\(pool.config.maxQueueWait) ms) without a free worker: answering 503 (you may need to raise pm.max_children)")
                    }
                    reject(held.connection, peer: held.peer, pool: index, since: held.since, now: now)
                }
            }
            for held in notPassed.reversed() { queue.putBack(held) }
            if queue.isEmpty { admission.warnedSaturated.remove(index) }
            admission.queues[index] = queue
        }
    }

    /// Idle workers of the pool's current generation (ready, serving, their slot idle), and
    /// whether an ondemand pool may still start one for what waits (its own business).
    func idleWorkers(_ pool: PoolRuntime) -> (idle: Int, canGrow: Bool) {
        var idle = 0, running = 0
        for child in control.current(in: pool.name) where child.lifecycle == .serving {
            running += 1
            guard let slot = child.slot else { continue }
            let s = pool.scoreboard.slot(slot)
            if s.flags & Scoreboard.readyFlag != 0 && s.stage == .idle { idle += 1 }
        }
        return (idle, pool.settings.style == .ondemand && running < pool.settings.maxChildren)
    }

    /// Takes what waits in the backlog (bounded), stamped by the queue.
    func acceptWaiting(_ pool: PoolRuntime, into queue: inout AdmissionQueue, now: Int) {
        for _ in 0..<Admission.acceptPerLook {
            guard let (fd, peer) = acceptAllowed(pool) else {
                queue.backlogEmpty(at: now)
                return
            }
            queue.admit(fd, peer: peer)
        }
    }

    /// One connection from the pool's backlog (nil: none), refused as a worker refuses one
    /// outside `listen.allowed_clients`. The master's now: registered, so a fork closes it.
    func acceptAllowed(_ pool: PoolRuntime) -> (Int32, PeerAddress)? {
        while true {
            guard let (fd, peer) = try? Socket.accept(pool.listenFD) else { return nil }
            if let allowed = pool.allowedClients, peer.family != .unix, !allowed.contains(where: { $0.sameHost(as: peer) }) {
                log.warning("[pool \(pool.name)] Connection disallowed: IP address '\(peer.text)' has been dropped.")
                FileIO.close(fd)
                continue
            }
            DescriptorRegistry.register(fd)
            return (fd, peer)
        }
    }

    // MARK: the answers

    /// Starts answering `fd` 503 (or closes it, past ``Admission/maxReplies``).
    func reject(_ fd: Int32, peer: PeerAddress, pool index: Int, since: Int, now: Int) {
        guard admission.replies.count < Admission.maxReplies else {
            FileIO.close(fd)
            return
        }
        let id = admission.nextReplyID
        admission.nextReplyID += 1
        do {
            try epoll.add(fd, events: Epoll.input | Epoll.output | Epoll.peerClosed | Epoll.edgeTriggered,
                          data: Wakeup.admissionReply(id).tag)
        } catch {
            FileIO.close(fd)
            return
        }
        // Busy: one second is as good a guess as any; no worker: when the next one starts.
        // A pool with no worker: until its next respawn (process control's backoff), else 1 s.
        let retry = admission.down.contains(index)
            ? control.poolIsDown(pools[index].name)?.retryAfterSeconds(now: now) ?? 1
            : 1
        admission.replies[id] = Admission.Reply(fd: fd, pool: index, peer: peer, since: since,
                                                state: AdmissionReply(now: now, retryAfterSeconds: retry))
        // Edge-triggered: what arrived before the registration raises no event.
        serviceReply(id)
    }

    /// A conversation is readable or writable: read (and drop) what came, answer once the
    /// params are in, write what the socket takes.
    func serviceReply(_ id: Int) {
        guard var reply = admission.replies[id] else { return }
        let wasAnswered = reply.state.answered
        var outcome = AdmissionReply.Outcome.open
        reading: while case .open = outcome, !reply.state.inputEnded {
            let received: SocketIO.Received
            do {
                received = try admission.readBuffer.withUnsafeMutableBytes { (raw) throws(SystemError) in
                    try SocketIO.receive(reply.fd, into: raw, wait: false)
                }
            } catch {
                outcome = .close("\(error)")
                break
            }
            switch received {
            case .bytes(let n):
                outcome = admission.readBuffer.withUnsafeBytes { reply.state.receive(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            case .endOfStream:
                outcome = reply.state.peerClosed()
            case .wouldBlock:
                break reading
            }
        }
        if !wasAnswered && reply.state.answered { recordRejected(reply, now: SystemClock.monotonicNanos()) }
        if reply.state.pendingCount > 0 {
            if let n = try? reply.state.withPending({ (raw) throws(SystemError) in try SocketIO.sendSome(reply.fd, raw) }) {
                reply.state.sent(n)
            } else {
                outcome = .close(nil)
            }
        }
        if case .open = outcome, !reply.state.isFinished {
            admission.replies[id] = reply
        } else {
            closeReply(id, reply.fd)
        }
    }

    func closeReply(_ id: Int, _ fd: Int32? = nil) {
        guard let fd = fd ?? admission.replies[id]?.fd else { return }
        epoll.remove(fd)
        FileIO.close(fd)
        admission.replies.removeValue(forKey: id)
    }

    /// The counter and the access-log line of one 503 (the pool's format; `%d` is the wait).
    func recordRejected(_ reply: Admission.Reply, now: Int) {
        let pool = pools[reply.pool]
        pool.scoreboard.rejectedRequests += 1
        guard let writer = pool.accessLog else { return }
        let params = reply.state.params ?? FastCGIParams()
        let waited = max(0, (now - reply.since) / 1000)
        let end = SystemClock.wallClock()
        let startMicros = end.seconds * 1_000_000 + end.microseconds - waited
        var length = 0
        if case .exactly(let n) = params.contentLength { length = n }
        let retry = String(reply.state.retryAfterSeconds)
        let record = AccessLogRecord(
            remoteAddr: reply.peer.text, remoteUser: params["REMOTE_USER"] ?? "",
            method: params["REQUEST_METHOD"] ?? "-", requestURI: params["SCRIPT_NAME"] ?? "",
            queryString: params["QUERY_STRING"] ?? "", scriptFilename: params["SCRIPT_FILENAME"] ?? "-",
            contentLength: length, status: 503, startSeconds: startMicros / 1_000_000,
            startMicroseconds: startMicros % 1_000_000, endSeconds: end.seconds, endMicroseconds: end.microseconds,
            durationMicroseconds: waited, pool: pool.name, pid: pid, ppid: Processes.parentPID,
            parameter: { params[$0] },
            responseHeader: { $0.caseInsensitiveEquals("Retry-After") ? retry : $0.caseInsensitiveEquals("Content-Type") ? "text/plain" : nil })
        var line: [UInt8] = []
        writer.format.render(record, into: &line)
        line.withUnsafeBytes { try? FileIO.writeAll(writer.fd, $0) }
    }
}
