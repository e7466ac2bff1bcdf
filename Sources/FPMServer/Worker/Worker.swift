import FPMSystem
import CFPMShims
import FastCGI
import Glibc
import SystemPackage

/// Written by the SIGQUIT handler: the worker's self-pipe, so a quit that arrives while the
/// worker waits in epoll wakes it, and one that arrives during a request is seen after it.
nonisolated(unsafe) var workerQuitPipe: Int32 = -1
nonisolated(unsafe) var workerQuitRequested: Int32 = 0

/// One worker process: waits on its pool's listener, its control channel from the master and
/// its idle kept-alive connections, and serves one request at a time.
final class Worker {
    let pool: PoolRuntime
    let slot: Scoreboard.Slot
    let control: Int32
    let log: ErrorLog
    var epoll: Epoll
    /// Idle connections nginx keeps open (FCGI_KEEP_CONN) that the worker watches between
    /// requests instead of being pinned to one of them.
    var kept: [Connection] = []
    var spare: [Connection] = []
    var served = 0
    let requestLimit: Int
    var quitting = false
    let quitPipeRead: Int32
    let masterPID: Int32
    let pid: Int32

    static let listenerTag: UInt64 = 0
    static let controlTag: UInt64 = 1
    static let quitTag: UInt64 = 2
    static let handoffTag: UInt64 = 3
    static let connectionBase: UInt64 = 16

    /// How many idle kept connections a worker watches at most; beyond that it closes them.
    /// Closing a connection nginx has cached races with nginx reusing it (a retried GET, a 502
    /// for a POST), so the cap is only a guard against descriptor exhaustion: nginx's own
    /// `keepalive N` bounds what it caches.
    static let maxKeptConnections = 64

    init(pool: PoolRuntime, slotIndex: Int, control: Int32, log: ErrorLog, requestLimit: Int) throws {
        self.pool = pool
        self.slot = pool.scoreboard.slot(slotIndex)
        self.control = control
        self.log = log
        self.requestLimit = requestLimit
        self.epoll = try Epoll()
        self.masterPID = getppid()
        self.pid = getpid()
        let (r, w) = try FileIO.pipe(nonBlocking: true)
        quitPipeRead = r
        workerQuitPipe = w
        Signals.handle(SIGQUIT, restart: true) { _ in
            workerQuitRequested = 1
            var b: UInt8 = 0x51
            _ = Glibc.write(workerQuitPipe, &b, 1)
        }
        try epoll.add(pool.listenFD, events: Epoll.input | Epoll.exclusive, data: Worker.listenerTag)
        try epoll.add(control, events: Epoll.input, data: Worker.controlTag)
        try epoll.add(quitPipeRead, events: Epoll.input, data: Worker.quitTag)
        if let handoff = pool.handoff {
            try epoll.add(handoff.read, events: Epoll.input | Epoll.exclusive, data: Worker.handoffTag)
        }
    }

    func run() -> Int32 {
        slot.flags = slot.flags | Scoreboard.readyFlag
        while !quitting {
            if workerQuitRequested != 0 { break }
            slot.markIdle(now: SystemClock.monotonicNanos())
            var ready: [Epoll.Event] = []
            do {
                try epoll.wait(timeout: -1) { ready.append($0) }
            } catch {
                log.error("[pool \(pool.name)] child \(pid): \(error)")
                return 70
            }
            // Control messages first: a log reopen must apply before the next request is served.
            ready.sort { ($0.data == Worker.controlTag ? 0 : 1) < ($1.data == Worker.controlTag ? 0 : 1) }
            for event in ready where !quitting {
                switch event.data {
                case Worker.listenerTag:
                    acceptAndServe()
                case Worker.controlTag:
                    handleControl()
                case Worker.quitTag:
                    quitting = true
                case Worker.handoffTag:
                    adoptHandedOff()
                default:
                    let fd = Int32(event.data - Worker.connectionBase)
                    guard let i = kept.firstIndex(where: { $0.fd == fd }) else { continue }
                    let conn = kept.remove(at: i)
                    epoll.remove(fd)
                    if event.hangup && !event.readable {
                        release(conn)
                    } else {
                        serveConnection(conn)
                    }
                }
                if requestLimit > 0 && served >= requestLimit { quitting = true }
            }
        }
        // Leaving: idle kept connections go to a sibling rather than being closed under nginx.
        handOffKept()
        for c in kept { release(c) }
        kept.removeAll()
        pool.handler?.tearDown()
        return 0
    }

    // MARK: kept-connection hand-off

    /// Leaving (max_requests, idle retire, quit): pass the idle kept connections to the pool's
    /// hand-off socket, where an idle sibling adopts them, instead of closing them under nginx
    /// (which would retry a GET but answer a POST with 502).
    ///
    /// Handing them off every time the worker becomes busy removes head-of-line waits but cost
    /// 3-4x CPU per request and halved keep-alive throughput in `make bench`, so it is not done.
    func handOffKept() {
        guard let handoff = pool.handoff, !kept.isEmpty, siblingIsIdle() else { return }
        var remaining: [Connection] = []
        for conn in kept {
            var payload = [UInt8](repeating: 0, count: 19)
            switch conn.peer.family {
            case .unix: payload[0] = 0
            case .ipv4: payload[0] = 4
            case .ipv6: payload[0] = 6
            }
            for (i, b) in conn.peer.bytes.prefix(16).enumerated() { payload[1 + i] = b }
            payload[17] = UInt8(truncatingIfNeeded: conn.peer.port >> 8)
            payload[18] = UInt8(truncatingIfNeeded: conn.peer.port)
            var fd = conn.fd
            let sent = payload.withUnsafeBytes { cfpm_send_fds(handoff.write, &fd, 1, $0.baseAddress, $0.count) }
            if sent > 0 {
                epoll.remove(conn.fd)
                release(conn)
            } else {
                remaining.append(conn)
            }
        }
        kept = remaining
    }

    /// Whether another worker of the pool waits for work (a scan of the scoreboard's stages:
    /// atomic loads, no syscall). With none idle a hand-off would only bounce back here.
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
            var payload = [UInt8](repeating: 0, count: 19)
            var fds = [Int32](repeating: -1, count: 4)
            var count: Int32 = 0
            let n = payload.withUnsafeMutableBytes { cfpm_recv_fds(handoff.read, &fds, 4, &count, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            for i in 0..<Int(count) {
                let fd = fds[i]
                guard kept.count < Worker.maxKeptConnections else { FileIO.close(fd); continue }
                let family: PeerAddress.Family = payload[0] == 4 ? .ipv4 : (payload[0] == 6 ? .ipv6 : .unix)
                let bytes = family == .ipv4 ? Array(payload[1...4]) : (family == .ipv6 ? Array(payload[1...16]) : [])
                let peer = PeerAddress(family: family, bytes: bytes, port: Int(payload[17]) << 8 | Int(payload[18]))
                let conn = spare.popLast() ?? Connection(management: pool.management, limits: pool.parserLimits)
                conn.attach(fd: fd, peer: peer)
                conn.keepConnection = true
                do {
                    try epoll.add(fd, events: Epoll.input | Epoll.peerClosed, data: Worker.connectionBase + UInt64(fd))
                    kept.append(conn)
                } catch {
                    release(conn)
                }
            }
        }
    }

    // MARK: control channel

    func handleControl() {
        var byte: UInt8 = 0
        var fds = [Int32](repeating: -1, count: 4)
        var count: Int32 = 0
        let n = cfpm_recv_fds(control, &fds, 4, &count, &byte, 1)
        if n == 0 {
            // The master is gone: finish (nothing in hand now) and leave.
            quitting = true
            return
        }
        if n < 0 { return }
        switch byte {
        case UInt8(ascii: "Q"):
            quitting = true
        case UInt8(ascii: "L"):
            // Reopened log files: take them over at the same descriptor numbers.
            if count >= 1 { log.adopt(fds[0]) }
            if count >= 2, let access = pool.accessLogFD { try? FileIO.dup2(fds[1], access); FileIO.close(fds[1]) }
        default:
            for i in 0..<Int(count) { FileIO.close(fds[i]) }
        }
    }

    // MARK: connections

    func acceptAndServe() {
        let accepted: (fd: Int32, peer: PeerAddress)?
        do {
            accepted = try Socket.accept(pool.listenFD)
        } catch {
            if error.errno == .tooManyOpenFiles || error.errno == .noBufferSpace {
                log.warning("[pool \(pool.name)] child \(pid): \(error)")
            }
            return
        }
        guard let (fd, peer) = accepted else { return }
        if let allowed = pool.allowedClients, peer.family != .unix, !allowed.contains(where: { $0.sameHost(as: peer) }) {
            log.warning("[pool \(pool.name)] child \(pid): Connection disallowed: IP address '\(peer.text)' has been dropped.")
            FileIO.close(fd)
            return
        }
        let conn = spare.popLast() ?? Connection(management: pool.management, limits: pool.parserLimits)
        conn.attach(fd: fd, peer: peer)
        serveConnection(conn)
    }

    func release(_ conn: Connection) {
        conn.close()
        if spare.count < 4 { spare.append(conn) }
    }

    /// Serves requests on `conn` while bytes are already there; then parks it (kept) or closes it.
    func serveConnection(_ conn: Connection) {
        var first = true
        while true {
            let outcome = serveOne(conn, waitForFirstBytes: first)
            first = false
            switch outcome {
            case .closed:
                release(conn)
                return
            case .served:
                if !conn.keepConnection {
                    release(conn)
                    return
                }
                if quitting || workerQuitRequested != 0 || (requestLimit > 0 && served >= requestLimit) {
                    // Leaving: park it for the hand-off on the way out.
                    kept.append(conn)
                    return
                }
                // Another request may already be buffered (pipelined); otherwise park it.
                if conn.parser.bufferedCount > 0 { continue }
                if kept.count >= Worker.maxKeptConnections {
                    release(conn)
                    return
                }
                do {
                    try epoll.add(conn.fd, events: Epoll.input | Epoll.peerClosed,
                                  data: Worker.connectionBase + UInt64(conn.fd))
                    kept.append(conn)
                } catch {
                    release(conn)
                }
                return
            }
        }
    }

    enum Outcome { case served, closed }

    /// Reads one request from `conn` and answers it.
    func serveOne(_ conn: Connection, waitForFirstBytes: Bool) -> Outcome {
        conn.resetRequest()
        var began = false
        var beginRequestID: UInt16 = 0
        do {
            // Wait for BEGIN_REQUEST and the params.
            readLoop: while true {
                if let event = try conn.parser.nextEvent() {
                    switch event {
                    case .begin(let id, let role, let keep):
                        beginRequestID = id
                        conn.requestID = id
                        conn.role = role
                        conn.keepConnection = keep
                    case .params(let params):
                        conn.params = params
                        break readLoop
                    case .reply(let bytes):
                        try conn.send(bytes)
                    case .abort:
                        conn.writer.reset(requestID: beginRequestID)
                        conn.writer.end(appStatus: 0, protocolStatus: .requestComplete)
                        try conn.flush()
                        conn.parser.requestFinished()
                        if !conn.keepConnection { return .closed }
                        began = false
                        continue readLoop
                    case .stdin, .stdinEnd, .data, .dataEnd:
                        continue readLoop
                    }
                } else {
                    var result = try conn.fill(wait: false)
                    if result == .wouldBlock {
                        // php-fpm gives a new connection 5 s to send its first bytes.
                        if !began && !conn.waitReadable(timeoutMillis: waitForFirstBytes ? 5000 : 0) {
                            return .closed
                        }
                        result = try conn.fill(wait: true)
                    }
                    if result == .eof { return .closed }
                    if !began {
                        began = true
                        slot.beginRequest(now: SystemClock.monotonicNanos(), epochMicros: SystemClock.epochMicros())
                    }
                }
            }
        } catch let error as FastCGIError {
            log.warning("[pool \(pool.name)] child \(pid): closing the connection from \(conn.peer.text): malformed FastCGI input: \(error)")
            return .closed
        } catch {
            return .closed
        }
        if !began {
            slot.beginRequest(now: SystemClock.monotonicNanos(), epochMicros: SystemClock.epochMicros())
        }
        return respond(conn)
    }

    func respond(_ conn: Connection) -> Outcome {
        guard let params = conn.params else { return .closed }
        pool.scoreboard.countAcceptedConnection()
        let started = SystemClock.monotonicNanos()
        let startWall = SystemClock.wallClock()
        let cpuBefore = Processes.cpuTime()
        let isHead = recordInfo(params)
        conn.writer.reset(requestID: conn.requestID)
        let request = ServerRequest(params: params, role: conn.role, body: conn)
        let response = ServerResponse(sink: conn)
        if isHead { response.sendsBody = false }
        var failed = false
        do {
            if try !BuiltInPages.serve(pool: pool, request: request, response: response) {
                if let handler = pool.handler {
                    try handler.handle(request, response)
                } else {
                    response.status = 500
                    try response.write("no handler\n")
                }
            }
        } catch {
            failed = true
            log.warning("[pool \(pool.name)] child \(pid): handler error for \"\(request.method) \(request.uri)\": \(error)")
            if !response.headSent {
                response.status = 500
                response.setHeader("Content-Type", "text/plain; charset=utf-8")
                try? response.write("Internal Server Error\n")
            }
        }
        do {
            try response.finish()
            try conn.drainBody()
            conn.writer.end(appStatus: failed ? 1 : 0, protocolStatus: .requestComplete)
            try conn.flush()
        } catch {
            conn.writer.removeAll()
            served += 1
            finishRecord(conn: conn, request: request, response: response, started: started, startWall: startWall, cpuBefore: cpuBefore)
            return .closed
        }
        conn.parser.requestFinished()
        served += 1
        finishRecord(conn: conn, request: request, response: response, started: started, startWall: startWall, cpuBefore: cpuBefore)
        return conn.aborted ? .closed : .served
    }

    /// Puts the request's identity in the scoreboard, reading the params' bytes in place (no
    /// String per field); returns whether it is a HEAD request.
    func recordInfo(_ params: FastCGIParams) -> Bool {
        let contentLength = params.withValue("CONTENT_LENGTH") { Worker.decimal($0) }
        return params.withValue("REQUEST_METHOD") { method in
            params.withValue("SCRIPT_NAME") { uri in
                params.withValue("QUERY_STRING") { query in
                    params.withValue("SCRIPT_FILENAME") { script in
                        params.withValue("REMOTE_USER") { user in
                            slot.requestInfo(method: method, uri: uri, query: query, script: script, user: user,
                                             contentLength: contentLength, now: SystemClock.monotonicNanos())
                        }
                    }
                }
            }
            return method.map { $0.elementsEqual("HEAD".utf8) } ?? false
        }
    }

    /// A non-negative decimal from raw bytes; 0 when absent or not a number.
    static func decimal(_ bytes: UnsafeRawBufferPointer?) -> Int {
        guard let bytes, !bytes.isEmpty, bytes.count <= 18 else { return 0 }
        var n = 0
        for b in bytes {
            guard b >= 48 && b <= 57 else { return 0 }
            n = n * 10 + Int(b - 48)
        }
        return n
    }

    func finishRecord(conn: Connection, request: ServerRequest, response: ServerResponse, started: Int,
                      startWall: (seconds: Int, microseconds: Int), cpuBefore: (user: Int, system: Int)) {
        let now = SystemClock.monotonicNanos()
        let (cpu, memory) = Processes.usage()
        slot.endRequest(now: now, cpuUserMicros: cpu.user - cpuBefore.user, cpuSystemMicros: cpu.system - cpuBefore.system,
                        memory: memory)
        pool.accessLog?.write(request: request, response: response, peer: conn.peer, pool: pool.name, pid: pid,
                              masterPID: masterPID, startWall: startWall, durationMicros: (now - started) / 1000,
                              cpuUserMicros: cpu.user - cpuBefore.user, cpuSystemMicros: cpu.system - cpuBefore.system,
                              memory: memory)
    }
}
