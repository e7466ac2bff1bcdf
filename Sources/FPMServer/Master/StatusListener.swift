import FPMConfiguration
import FPMStatus
import FPMSystem
import FastCGI

/// `pm.status_listen`: the master itself answers status, ping and health for a pool there
/// (``StatusEndpoints``), so they answer while every worker is busy — exec pools included,
/// which have no status of their own. php-fpm forks a hidden ondemand pool of two PHP workers
/// for this, which a saturated machine or two slow probes still stall.
///
/// The master's loop must never block here: listeners and connections are non-blocking and in
/// its epoll (connections edge-triggered), each wakeup accepts at most ``acceptPerWakeup``
/// connections, reads a connection at most up to its buffer cap and answers at most
/// ``StatusConnection/Limits/maxAnswersPerReceive`` requests per read, and every connection
/// has a deadline (``StatusConnection``). At most ``maxConnections`` are open at once; more are
/// accepted and closed at once, so they cannot fill the queue for the others.
final class StatusListener {
    static let maxConnections = 64
    static let acceptPerWakeup = 16

    /// A listening socket, owned (closed by `close()`, or when dropped).
    final class Endpoint {
        let fd: Int32
        private var descriptor: OwnedDescriptor?
        let pool: String
        let address: ListenAddress

        init(fd: Int32, pool: String, address: ListenAddress) {
            self.fd = fd
            descriptor = OwnedDescriptor(owning: fd)
            self.pool = pool
            self.address = address
        }

        func close() { descriptor.take()?.close() }
    }

    /// An accepted connection, owned; a class so the socket has one owner however often the
    /// dictionary is read (one per status connection, in the master, never in a worker).
    final class Connection {
        let fd: Int32
        private var descriptor: OwnedDescriptor?
        let pool: String
        var state: StatusConnection

        init(fd: Int32, pool: String, state: StatusConnection) {
            self.fd = fd
            descriptor = OwnedDescriptor(owning: fd)
            self.pool = pool
            self.state = state
        }

        func close() { descriptor.take()?.close() }
    }

    private(set) var endpoints: [Endpoint] = []
    private var connections: [Int: Connection] = [:]
    private var nextID = 0
    /// Shared by every connection's reads: one wakeup reads one connection at a time.
    private var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
    let limits: StatusConnection.Limits

    init(limits: StatusConnection.Limits = StatusConnection.Limits()) {
        self.limits = limits
    }

    var openConnections: Int { connections.count }

    /// The earliest connection deadline, for the loop's wait.
    var nextDeadline: Int? { connections.values.map(\.state.deadline).min() }

    /// Takes `fd` on as a status listener: the master's (registered: workers close it).
    func add(fd: Int32, pool: String, address: ListenAddress, epoll: borrowing Epoll, index: Int) throws(SystemError) {
        DescriptorRegistry.register(fd)
        try FileIO.setNonBlocking(fd, true)
        try epoll.add(fd, events: Epoll.input, data: Master.Wakeup.statusListener(index).tag)
        endpoints.append(Endpoint(fd: fd, pool: pool, address: address))
    }

    /// A listener is readable: accept what is pending, up to the per-wakeup bound (the rest
    /// wakes the loop again: the listener is level-triggered).
    func accept(listener index: Int, epoll: borrowing Epoll, allowed: [PeerAddress]?, log: ErrorLog, now: Int) {
        guard index < endpoints.count else { return }
        let endpoint = endpoints[index]
        for _ in 0..<StatusListener.acceptPerWakeup {
            let accepted: (fd: Int32, peer: PeerAddress)?
            do {
                accepted = try Socket.accept(endpoint.fd)
            } catch {
                log.warning("[pool \(endpoint.pool)] status listener: \(error)")
                return
            }
            guard let (fd, peer) = accepted else { return }
            if let allowed, peer.family != .unix, !allowed.contains(where: { $0.sameHost(as: peer) }) {
                log.warning("[pool \(endpoint.pool)] status listener: Connection disallowed: IP address '\(peer.text)' has been dropped.")
                FileIO.close(fd)
                continue
            }
            guard connections.count < StatusListener.maxConnections else {
                FileIO.close(fd)
                continue
            }
            let id = nextID
            nextID += 1
            do {
                try FileIO.setNonBlocking(fd, true)
                try epoll.add(fd, events: Epoll.input | Epoll.output | Epoll.peerClosed | Epoll.edgeTriggered,
                              data: Master.Wakeup.statusConnection(id).tag)
            } catch {
                FileIO.close(fd)
                continue
            }
            DescriptorRegistry.register(fd)
            connections[id] = Connection(fd: fd, pool: endpoint.pool, state: StatusConnection(now: now, limits: limits))
            // Edge-triggered: bytes that arrived before the registration raise no event.
            service(id, epoll: epoll)
        }
    }

    /// A connection is readable or writable: read what it has (up to its cap), answer (with
    /// ``pendingAnswer``), write what the socket takes.
    func service(_ id: Int, epoll: borrowing Epoll) {
        guard let connection = connections[id] else { return }
        let respond = pendingAnswer
        var outcome = StatusConnection.Outcome.open
        // Reads until the socket is empty (edge-triggered), but at most the connection's buffer
        // cap in one wakeup: a client that sends more than that at once is not a status client,
        // and is closed rather than read for ever.
        var budget = limits.maxBuffered
        reading: while case .open = outcome {
            guard budget > 0 else {
                outcome = .close("more than \(limits.maxBuffered) bytes in one wakeup")
                break
            }
            let received: SocketIO.Received
            do {
                received = try readBuffer.withUnsafeMutableBytes { (raw) throws(SystemError) in
                    try SocketIO.receive(connection.fd, into: raw, wait: false)
                }
            } catch {
                outcome = .close("\(error)")
                break
            }
            switch received {
            case .bytes(let n):
                budget -= n
                outcome = readBuffer.withUnsafeBytes { raw in
                    connection.state.receive(UnsafeRawBufferPointer(rebasing: raw[0..<n]), now: SystemClock.monotonicNanos()) {
                        respond(connection.pool, $0)
                    }
                }
            case .endOfStream:
                outcome = connection.state.peerClosed()
                break reading
            case .wouldBlock:
                break reading
            }
        }
        if case .open = outcome, connection.state.pendingCount > 0 {
            do {
                let n = try connection.state.withPending { (raw) throws(SystemError) in try SocketIO.sendSome(connection.fd, raw) }
                connection.state.sent(n)
            } catch {
                outcome = .close("\(error)")
            }
        }
        if case .open = outcome, !connection.state.isFinished { return }
        close(id, connection, epoll: epoll)
    }

    /// How a request for a pool is answered (set by the master when it opens the listeners).
    var pendingAnswer: (String, StatusConnection.Request) -> StatusConnection.Answer = { _, _ in
        StatusConnection.Answer(status: 503, headers: [], body: [])
    }

    /// Closes connections past their deadline.
    func expire(now: Int, epoll: borrowing Epoll) {
        for (id, connection) in connections where connection.state.isExpired(now: now) {
            close(id, connection, epoll: epoll)
        }
    }

    private func close(_ id: Int, _ connection: Connection, epoll: borrowing Epoll) {
        epoll.remove(connection.fd)
        connection.close()
        connections.removeValue(forKey: id)
    }

    /// At exit: close everything and remove unix socket files.
    func closeAll(epoll: borrowing Epoll) {
        for (id, c) in connections { close(id, c, epoll: epoll) }
        for e in endpoints {
            epoll.remove(e.fd)
            e.close()
            if case .unix(let path) = e.address { FileIO.unlink(path) }
        }
        endpoints.removeAll()
    }
}

extension Master {
    /// Opens every pool's `pm.status_listen` socket (with the pool's socket owner, group and
    /// mode, as php-fpm's status pool copies them).
    func openStatusListeners() throws {
        for pool in pools {
            guard let address = pool.config.statusListen else { continue }
            var config = pool.config
            config.listen = address
            config.listenBacklog = 128
            let fd = try openListener(config)
            try statusListener.add(fd: fd, pool: pool.name, address: address, epoll: epoll,
                                   index: statusListener.endpoints.count)
            log.notice("[pool \(pool.name)] status, ping and health (\(StatusEndpoints.livePath), \(StatusEndpoints.readyPath)) on \"\(address.description)\"")
        }
        statusListener.pendingAnswer = { [unowned self] poolName, request in
            self.answerStatus(pool: poolName, request: request)
        }
    }

    /// One status-listener request for `poolName`, from the scoreboard and the kernel's accept
    /// queue as they are now.
    func answerStatus(pool poolName: String, request: StatusConnection.Request) -> StatusConnection.Answer {
        guard let pool = poolsByName[poolName] else {
            return StatusConnection.Answer(status: 503, headers: [], body: Array("the pool is gone\n".utf8))
        }
        let config = pool.config
        sampleExecStages(pool, now: SystemClock.monotonicNanos())
        let endpoints = StatusEndpoints(statusPath: config.statusPath, pingPath: config.pingPath, pingResponse: config.pingResponse)
        let queue = Socket.listenQueue(pool.listenFD)
        return endpoints.answer(request, status: {
            StatusCollector.collect(pool.scoreboard, liveQueue: queue)
        }, health: {
            Health.decide(Health.input(pool.scoreboard, masterRunning: true, listenQueue: queue?.length,
                                       down: self.control.poolIsDown(poolName).map { "pool \(poolName) is down: \($0.reason)" }))
        }, withdrawn: control.readinessWithdrawn.withdrawnBecause)
    }

    /// The status listeners' and connections' events of one wakeup.
    func handleStatusEvents(_ events: [Wakeup]) {
        for event in events {
            switch event {
            case .statusListener(let index):
                statusListener.accept(listener: index, epoll: epoll, allowed: statusAllowedClients(index),
                                      log: log, now: SystemClock.monotonicNanos())
            case .statusConnection(let id):
                statusListener.service(id, epoll: epoll)
            case .signal, .pendingConnection, .workerOutput, .preparationOutput, .workerReports, .keptConnection, .admissionReply,
                 .admissionKept, .jobBacklog, .warmTemplate:
                break
            }
        }
    }

    /// Each pass of the loop: the heartbeat `fpmctl health` reads, and the status connections'
    /// deadlines.
    func statusTick(now: Int) {
        for pool in pools { pool.scoreboard.masterHeartbeat = now }
        statusListener.expire(now: now, epoll: epoll)
    }
}

extension Master {
    /// The `listen.allowed_clients` of the pool a status listener belongs to (php-fpm's status
    /// pool copies them).
    func statusAllowedClients(_ index: Int) -> [PeerAddress]? {
        guard index < statusListener.endpoints.count else { return nil }
        let name = statusListener.endpoints[index].pool
        return poolsByName[name]?.allowedClients
    }
}
