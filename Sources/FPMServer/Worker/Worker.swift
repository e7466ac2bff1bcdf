import FPMConfiguration
import FPMStatus
import FPMSystem
import FastCGI

/// One worker process: waits on its pool's listener, its control channel from the master and
/// its idle kept-alive connections, and serves one request at a time.
///
/// The worker waits, dispatches and hands off; a connection's request state (parser events,
/// body, output, keep-alive) is its `FastCGISession`'s.
///
/// The state the request path mutates is `@exclusivity(unchecked)`: a worker is one thread and
/// never overlaps two accesses to it, and the runtime's dynamic exclusivity checks cost about 100
/// instructions each, some 28 of them per request (callgrind), over a tenth of a request's cost.
final class Worker {
    let pool: PoolRuntime
    let slot: Scoreboard.Slot
    /// The worker's end of its control channel with the master, owned for the worker's life.
    let controlChannel: OwnedDescriptor
    var control: Int32 { controlChannel.rawValue }
    let log: ErrorLog
    @exclusivity(unchecked) var epoll: Epoll
    /// Epoll's ready events, kept across waits so a wake-up allocates nothing.
    @exclusivity(unchecked) var ready: [Epoll.Event] = []
    /// Connections nginx keeps open (FCGI_KEEP_CONN) that the worker watches between requests
    /// instead of being pinned to one of them. Each is registered in the epoll once, when it is
    /// first kept, and stays registered while its requests are served (no DEL+ADD per request).
    @exclusivity(unchecked) var kept: [FastCGISession] = []
    /// Whether a slow request passes the idle kept connections to the hand-off socket
    /// (`SlowRequestHandoff`): the pool has one and its timer was set up.
    var handsOffWhenSlow = false
    /// Whether kept connections are reported to the master, which keeps a duplicate of each so
    /// this worker's hard kill costs only the request in hand (`KeptConnectionRegistry`): the
    /// pool has a hand-off socket to re-offer them through.
    var reportsKept = false
    /// Each request's CPU and the peak memory, from a getrusage sampled at most every 10 ms
    /// while requests come (every request with pm.max_memory or an access log with `%C`/`%M`).
    @exclusivity(unchecked) var cost = RequestCost(now: 0, usage: ((0, 0), 0))
    /// Closed sessions, ready for the next connection with their buffers.
    @exclusivity(unchecked) var spare: [FastCGISession] = []
    let receiveBuffer = ReceiveBuffer()
    @exclusivity(unchecked) var served = 0
    let requestLimit: Int
    var quitting = false
    /// The master (its quit message, or its end) or SIGQUIT said to go, as opposed to the
    /// worker reaching max_requests.
    var toldToQuit = false
    /// The master stops (`ControlMessage.finish`): the listener's waiting connections are
    /// served on the way out (`serveBacklog`).
    var finishing = false
    /// The SIGQUIT self-pipe's read end.
    let quitSignal: OwnedDescriptor
    var quitPipe: Int32 { quitSignal.rawValue }
    let masterPID: Int32
    let pid: Int32
    /// When the request in hand began (its first bytes; monotonic ns), as the scoreboard has it.
    @exclusivity(unchecked) var requestStarted = 0

    /// A request in hand this long passes the worker's idle kept connections on, so a request
    /// arriving on one is answered by an idle sibling instead of waiting behind it. Well below
    /// the 50 ms a waiting request may take; fast requests never reach it (and cost no syscall).
    static let slowRequestHandoffNanos = 15_000_000

    /// How many idle kept connections a worker watches at most; beyond that it closes them.
    /// Closing a connection nginx has cached races with nginx reusing it (a retried GET, a 502
    /// for a POST), so the cap is only a guard against descriptor exhaustion: nginx's own
    /// `keepalive N` bounds what it caches.
    static let maxKeptConnections = 64
    /// The cap for this process: at most half the descriptors rlimit_files leaves it, so kept
    /// connections alone can never exhaust them.
    let keptLimit: Int

    /// Descriptor exhaustion on accept (EMFILE, ENFILE, ENOBUFS): the listener is taken out of
    /// the wait for this long instead of spinning on a connection that cannot be accepted;
    /// kept connections are still served, and accepting resumes by itself.
    static let acceptPauseNanos = 100_000_000
    /// At most one log line per this interval about exhaustion, with the count in between.
    static let exhaustionLogIntervalNanos = 10_000_000_000
    /// When accepting resumes (nil: the listener is watched).
    var acceptResumesAt: Int?
    var lastExhaustionLog: Int?
    var exhaustionsSinceLog = 0
    /// The listener and the hand-off socket are watched with EPOLLEXCLUSIVE: the kernel wakes
    /// one waiting worker per arrival. A worker that was woken in the same wait as it was told
    /// to quit must not take that wake-up with it, or the connection waits until the next one.
    var wokenForListener = false
    var wokenForHandoff = false
    /// pm.max_memory passed: serving nothing more, waiting to be told to quit.
    var takesNoWork = false

    init(pool: PoolRuntime, slotIndex: Int, control: Int32, log: ErrorLog, requestLimit: Int) throws {
        self.pool = pool
        self.slot = pool.scoreboard.slot(slotIndex)
        self.controlChannel = OwnedDescriptor(owning: control)
        self.log = log
        self.requestLimit = requestLimit
        self.epoll = try Epoll()
        self.masterPID = Processes.parentPID
        self.pid = Processes.pid
        ready.reserveCapacity(64)
        keptLimit = max(1, min(Worker.maxKeptConnections, (Processes.descriptorLimit - 16) / 2))
        quitSignal = OwnedDescriptor(owning: try QuitSignal.install())
        LastAnswer.install(terminateSeconds: pool.config.requestTerminateTimeout)
        try watch(.listener, pool.listenFD, events: Epoll.input | Epoll.exclusive)
        try watch(.control, control, events: Epoll.input)
        try watch(.quitSignal, quitPipe, events: Epoll.input)
        if let handoff = pool.handoff {
            try watch(.handoff, handoff.read, events: Epoll.input | Epoll.exclusive)
            reportsKept = true
            do {
                try SlowRequestHandoff.install(handoffSocket: handoff.write, controlChannel: control,
                                               thresholdNanos: Worker.slowRequestHandoffNanos)
                handsOffWhenSlow = true
            } catch {
                log.warning("[pool \(pool.name)] child \(pid): \(error); kept connections wait for this worker while it is busy")
            }
        }
        // Every request sampled where one's cost is asked for: the access log's %C/%M, and
        // pm.max_memory, whose check must see a leaking request's growth as it happens.
        let everyRequest = pool.accessLog?.usesCost == true || pool.config.maxMemory > 0
        cost = RequestCost(window: everyRequest ? 0 : RequestCost.defaultWindow,
                           now: SystemClock.monotonicNanos(), usage: Processes.usage())
        // Request ids drawn after the fork: this worker's own seed (RequestIDGenerator).
        RequestIDGenerator.reseed()
    }

    func watch(_ wakeup: WorkerWakeup, _ fd: Int32, events: UInt32) throws(SystemError) {
        try epoll.add(fd, events: events, data: wakeup.data)
    }

    /// Whether the worker leaves once the request in hand is answered.
    var leaving: Bool {
        quitting || QuitSignal.requested || (requestLimit > 0 && served >= requestLimit)
    }

    func run() -> Int32 {
        slot.flags = slot.flags | Scoreboard.readyFlag
        while !leaving {
            slot.markIdle(now: SystemClock.monotonicNanos())
            ready.removeAll(keepingCapacity: true)
            var timeout: Int32 = -1
            if let resume = acceptResumesAt {
                timeout = SystemClock.millisecondsLeft(until: resume, now: SystemClock.monotonicNanos())
            }
            do {
                try epoll.wait(timeout: timeout) { ready.append($0) }
            } catch {
                log.error("[pool \(pool.name)] child \(pid): \(error)")
                return ExitCodes.software
            }
            if let resume = acceptResumesAt, SystemClock.monotonicNanos() >= resume { resumeAccepting() }
            // Control messages first: a log reopen must apply before the next request is served.
            if ready.contains(where: { $0.data == WorkerWakeup.control.data }) { receiveControl() }
            // By index: serving may blank later events of connections passed on meanwhile.
            var index = 0
            while index < ready.count {
                let event = ready[index]
                index += 1
                if quitting || takesNoWork {
                    // Woken for work it will not do: pass the wake-up on (see `passOnWakeups`).
                    switch WorkerWakeup(data: event.data) {
                    case .listener: wokenForListener = true
                    case .handoff: wokenForHandoff = true
                    default: break
                    }
                    continue
                }
                switch WorkerWakeup(data: event.data) {
                case .listener:
                    acceptAndServe()
                case .quitSignal:
                    quitting = true
                    toldToQuit = true
                case .handoff:
                    adoptHandedOff()
                case .connection(let fd):
                    guard let session = kept.first(where: { $0.socket == fd }) else { continue }
                    if event.hangup && !event.readable {
                        release(session)
                    } else {
                        serve(session)
                    }
                case .control, nil:
                    continue
                }
                if requestLimit > 0 && served >= requestLimit { quitting = true }
            }
            if takesNoWork && !quitting && (wokenForListener || wokenForHandoff) {
                passOnWakeups()
                wokenForListener = false
                wokenForHandoff = false
            }
        }
        if finishing { serveBacklog() }
        // Leaving: idle kept connections go to a sibling rather than being closed under nginx.
        passOnWakeups()
        handOffKept()
        for session in kept { release(session) }
        pool.handler?.tearDown()
        return 0
    }

    // MARK: control channel

    /// Applies every message the master has sent.
    func receiveControl() {
        while true {
            switch ControlMessage.receive(from: control) {
            case .none:
                return
            case .closed:
                // The master is gone: finish (nothing in hand now) and leave.
                quitting = true
                toldToQuit = true
                return
            case .message(.quit):
                quitting = true
                toldToQuit = true
            case .message(.finish):
                quitting = true
                toldToQuit = true
                finishing = true
            case .message(.reopenAccessLog(let accessLog)):
                // The reopened access log: taken over at the same descriptor number.
                if let current = pool.accessLogFD { try? FileIO.dup2(accessLog, current) }
                FileIO.close(accessLog)
            }
        }
    }

    // MARK: connections

    /// A session for a new connection, recycled when one is spare.
    func session(for fd: Int32, peer: PeerAddress, keepsConnection: Bool = false) -> FastCGISession {
        let session = spare.popLast()
            ?? FastCGISession(management: pool.management, limits: pool.parserLimits, receiveBuffer: receiveBuffer,
                              readTimeout: pool.config.requestReadTimeout, writeTimeout: pool.config.requestWriteTimeout)
        session.attach(socket: fd, peer: peer, keepsConnection: keepsConnection)
        return session
    }

    /// Closes the connection. One that was kept (and so reported to the master) is shut down
    /// first, or the master's duplicate would hold it open and nginx never see the close;
    /// `handedOn`: it lives on in the hand-off socket, only this copy is closed.
    func release(_ session: FastCGISession, handedOn: Bool = false) {
        if reportsKept && !handedOn && session.watched, let fd = session.socket { KeptConnection.shutdown(fd) }
        unwatch(session)
        session.close()
        if spare.count < 4 { spare.append(session) }
    }

    /// Watches a kept connection for its next request; false when it cannot be watched (the
    /// cap, or epoll refused it) and was closed instead. A connection already watched stays
    /// as it is: registered once, for as long as it is kept.
    @discardableResult
    func keep(_ session: FastCGISession) -> Bool {
        if session.watched { return true }
        guard kept.count < keptLimit, let fd = session.socket else {
            release(session)
            return false
        }
        do {
            try watch(.connection(fd), fd, events: Epoll.input | Epoll.peerClosed)
        } catch {
            release(session)
            return false
        }
        session.watched = true
        kept.append(session)
        // Once per connection (new or adopted): the master keeps a duplicate of it.
        if reportsKept { _ = WorkerReport.sendKept(fd, peer: session.peer, over: control) }
        if handsOffWhenSlow {
            withUnsafeTemporaryAllocation(byteCount: HandoffMessage.payloadSize, alignment: 1) { payload in
                HandoffMessage.encode(session.peer, into: payload)
                SlowRequestHandoff.add(fd, payload: UnsafeRawBufferPointer(payload))
            }
        }
        return true
    }

    /// Takes a kept connection out of the epoll, the kept list and the slow-request list
    /// (before it is closed or passed on: a descriptor passed on keeps its epoll entry alive).
    func unwatch(_ session: FastCGISession) {
        guard session.watched, let fd = session.socket else { return }
        session.watched = false
        if let i = kept.firstIndex(where: { $0 === session }) { kept.remove(at: i) }
        epoll.remove(fd)
        if handsOffWhenSlow { SlowRequestHandoff.remove(fd) }
    }

    /// After a slow request: the connections its timer passed to the hand-off socket are a
    /// sibling's now; close this worker's copies, and blank their events still to be handled.
    func reclaimHandedOff() {
        var count = 0
        SlowRequestHandoff.takeHanded { fd in
            guard let session = kept.first(where: { $0.socket == fd }) else { return }
            release(session, handedOn: true)
            count += 1
            let data = WorkerWakeup.connection(fd).data
            for i in ready.indices where ready[i].data == data { ready[i].data = WorkerWakeup.blank }
        }
        log.debug("[pool \(pool.name)] child \(pid): passed \(count) idle kept connection(s) on during a slow request")
    }

    /// Serves requests on `session` while bytes are already there; then parks it (kept) or closes it.
    func serve(_ session: FastCGISession) {
        // From before its first byte is read until it is parked or closed, a hard kill closes
        // this connection instead of re-offering it half read (two stores per request).
        slot.servingConnection = session.socket
        defer { slot.servingConnection = nil }
        var waitForFirstBytes = true
        while let params = readRequest(on: session, waitForFirstBytes: waitForFirstBytes) {
            waitForFirstBytes = false
            let reusable = respond(to: params, on: session)
            if handsOffWhenSlow && SlowRequestHandoff.hasHanded { reclaimHandedOff() }
            guard reusable else { break }
            if leaving {
                // Leaving: park it for the hand-off on the way out.
                keep(session)
                return
            }
            if takesNoWork {
                // Over pm.max_memory: this connection's next request is a sibling's.
                keep(session)
                handOffKept()
                return
            }
            // Another request may already be buffered (pipelined); otherwise park it.
            if session.hasBufferedInput { continue }
            keep(session)
            return
        }
        release(session)
    }

    /// A client cut at its read or write deadline: pool, pid, peer and stage.
    func logTimeout(_ timeout: ClientTimeout, peer: PeerAddress) {
        log.warning("[pool \(pool.name)] child \(pid): closing the connection from \(peer.text) (stage: \(timeout.stage.rawValue)): \(timeout)")
    }

    /// The next request's params, marking the slot "reading" when its first bytes arrive;
    /// nil when the connection ended (or broke the protocol, which is logged).
    func readRequest(on session: FastCGISession, waitForFirstBytes: Bool) -> FastCGIParams? {
        do {
            while true {
                switch try session.readHead(waitForFirstBytes: waitForFirstBytes) {
                case .arrived:
                    requestStarted = SystemClock.monotonicNanos()
                    slot.beginRequest(now: requestStarted, epochMicros: SystemClock.epochMicros())
                case .ready(let params):
                    return params
                case .closed:
                    return nil
                }
            }
        } catch let error as FastCGIError {
            log.warning("[pool \(pool.name)] child \(pid): closing the connection from \(session.peer.text): malformed FastCGI input: \(error)")
            return nil
        } catch let timeout as ClientTimeout {
            logTimeout(timeout, peer: session.peer)
            return nil
        } catch {
            return nil
        }
    }
}
