import FPMConfiguration
import FPMStatus
import FPMSystem
import FastCGI

extension Worker {
    /// Answers one request whose params are in: the pool's status/ping pages or its handler,
    /// then the end of the request, the scoreboard and the access log. Returns whether the
    /// connection serves another request.
    func respond(to params: FastCGIParams, on session: FastCGISession) -> Bool {
        let params = FrontEndQuirks.normalized(params)
        pool.scoreboard.countAcceptedConnection()
        let started = SystemClock.monotonicNanos()
        let startWall = SystemClock.wallClock()
        let isHead = recordInfo(params)
        if let fd = session.socket {
            LastAnswer.arm(fd: fd, requestID: session.requestID, startedNanos: requestStarted)
            if handsOffWhenSlow { SlowRequestHandoff.busy(fd: fd, startedNanos: requestStarted) }
        }
        let request = ServerRequest(params: params, role: session.role, body: session)
        if pool.recordsRequestIdentity { recordIdentity(of: request) }
        var response = ServerResponse(sink: session)
        if isHead { response.sendsBody = false }
        var failed = false
        do {
            if session.bodyLength == .invalid {
                // Refused before any code of the pool runs: its body cannot be delimited.
                throw RequestBodyError.invalidLength
            }
            if try !BuiltInPages.serve(pool: pool, request: request, response: response) {
                if let handler = pool.handler {
                    try handler.handle(request, response)
                } else {
                    response.status = 500
                    try response.write("no handler\n")
                }
            }
        } catch let timeout as ClientTimeout {
            failed = true
            logTimeout(timeout, peer: session.peer)
        } catch is RequestBodyError {
            failed = true // answered below, from what the session saw
        } catch {
            failed = true
            log.warning("[pool \(pool.name)] child \(pid): handler error for \"\(request.method) \(request.uri)\": \(error)")
            HandlerFailure.answer(response)
        }
        if let bodyFailure = session.bodyFailure {
            // Whatever the handler made of a broken body, its answer is not sent: a 400 instead
            // (none after an abort) unless part of it already left.
            failed = true
            log.warning("[pool \(pool.name)] child \(pid): request \"\(request.method) \(request.uri)\": \(bodyFailure)\(bodyFailure.isAnswered ? "" : "; no answer sent")")
            if bodyFailure.isAnswered && !session.outputFlushed {
                session.discardOutput()
                response = ServerResponse(sink: session)
                response.status = 400
                try? response.setHeader("Content-Type", "text/plain; charset=utf-8")
                try? response.write("Bad Request: \(bodyFailure)\n")
            }
        }
        request.end()
        let reusable: Bool
        do {
            try response.finish()
            reusable = try session.endRequest(failed: failed)
        } catch let timeout as ClientTimeout {
            if !failed { logTimeout(timeout, peer: session.peer) }
            session.discardOutput()
            reusable = false
        } catch {
            session.discardOutput()
            reusable = false
        }
        if session.endedBodyExcess > 0 {
            log.warning("[pool \(pool.name)] child \(pid): request \"\(request.method) \(request.uri)\": \(session.endedBodyExcess) bytes past CONTENT_LENGTH discarded")
        }
        LastAnswer.disarm()
        if handsOffWhenSlow { SlowRequestHandoff.idle() }
        served += 1
        let (peakMemory, sampled) = record(request: request, response: response, peer: session.peer, started: started,
                                           startWall: startWall)
        // A large body (read, or written in one piece) leaves its freed blocks in malloc's
        // heap: give them back, so the worker returns near its usual size.
        if request.bodyBytesRead >= Self.trimAfterBytes || response.bodyBytesWritten >= Self.trimAfterBytes { Heap.trim() }
        if sampled && pool.config.maxMemory > 0 && peakMemory >= pool.config.maxMemory { checkMemory() }
        return reusable
    }

    /// Request or response bodies from this size up are followed by `Heap.trim()`.
    static let trimAfterBytes = 4 << 20

    /// pm.max_memory: once this worker's private memory passes the limit, flag the slot so the
    /// master starts a replacement and then asks this one to quit; it serves on meanwhile, so
    /// the pool never shrinks. Peak RSS (free with the request's getrusage: `RequestCost`
    /// samples every request in a pool with pm.max_memory) is below the limit for most
    /// requests, so the costlier smaps read happens only near it.
    func checkMemory() {
        guard slot.flags & Scoreboard.replaceMeFlag == 0, let used = Processes.privateMemory(),
              used >= pool.config.maxMemory else { return }
        slot.flags = slot.flags | Scoreboard.replaceMeFlag
        log.notice("[pool \(pool.name)] child \(pid): private memory \(used / 1024) KiB passed pm.max_memory (\(pool.config.maxMemory / 1024) KiB); it is replaced after this request")
        stopTakingWork()
    }

    /// Over pm.max_memory: take no further request (the listener and the hand-off socket leave
    /// the wait, kept connections go to siblings), and wait for the master's quit, which comes
    /// once the replacement it started is ready.
    func stopTakingWork() {
        guard !takesNoWork else { return }
        takesNoWork = true
        acceptResumesAt = nil
        epoll.remove(pool.listenFD)
        if let handoff = pool.handoff { epoll.remove(handoff.read) }
    }

    /// Puts the request's identity in the scoreboard, reading the params' bytes in place (no
    /// String per field); returns whether it is a HEAD request.
    func recordInfo(_ params: FastCGIParams) -> Bool {
        let method = params.valueRange(.requestMethod), uri = params.valueRange(.scriptName)
        let query = params.valueRange(.queryString), script = params.valueRange(.scriptFilename)
        let user = params.valueRange(.remoteUser), length = params.valueRange(.contentLength)
        return params.withEncodedBytes { raw in
            func value(_ range: Range<Int>?) -> UnsafeRawBufferPointer? { range.map { UnsafeRawBufferPointer(rebasing: raw[$0]) } }
            let methodBytes = value(method)
            slot.requestInfo(method: methodBytes, uri: value(uri), query: value(query), script: value(script), user: value(user),
                             contentLength: Worker.decimal(value(length)), now: SystemClock.monotonicNanos())
            // One 4-byte compare ("HEAD" as a little-endian word), not a sequence walk.
            guard let methodBytes, methodBytes.count == 4 else { return false }
            return UInt32(littleEndian: methodBytes.loadUnaligned(as: UInt32.self)) == 0x4441_4548
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

    /// The request's cost into its scoreboard slot, and its access log line; returns the
    /// worker's peak memory and whether it was sampled just now (`RequestCost`).
    @discardableResult
    func record(request: ServerRequest, response: ServerResponse, peer: PeerAddress, started: Int,
                startWall: (seconds: Int, microseconds: Int)) -> (memory: Int, sampled: Bool) {
        let now = SystemClock.monotonicNanos()
        let (cpu, memory, sampled) = cost.end(now: now, durationNanos: now - requestStarted, sample: Processes.usage)
        slot.endRequest(now: now, cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, memory: memory)
        pool.accessLog?.write(request: request, response: response, peer: peer, pool: pool.name, pid: pid,
                              masterPID: masterPID, startWall: startWall, durationMicros: (now - started) / 1000,
                              cpuUserMicros: cpu.user, cpuSystemMicros: cpu.system, memory: memory)
        return (memory, sampled)
    }
}
