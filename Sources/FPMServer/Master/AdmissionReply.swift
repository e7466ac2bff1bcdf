import FastCGI

/// One connection the master answers `503 Service Unavailable` with `Retry-After` itself
/// (`pm.max_queue_wait` passed, or the pool has no worker): bytes in, framed answer out, no I/O,
/// as `StatusConnection` is for the status listener.
///
/// The answer goes out as soon as the request's params are in (the request id is in its
/// BEGIN_REQUEST, the access log wants the params; the body is not needed). The rest of the
/// request is then read and dropped until its end: closing a socket with unread input resets it,
/// and the web server might lose the answer to the reset. Bounded: at most ``Limits/maxDiscard``
/// body bytes and ``Limits/lifetimeNanos`` in all, then the connection is closed regardless.
///
/// A request sent with FCGI_KEEP_CONN leaves its connection to the web server to close: once
/// answered it is not closed here (``mayKeepConnection``) but kept for the web server's next
/// request, which goes to a worker if one is free by then (closing it instead made HAProxy send
/// its next request on a connection already shut: 502).
struct AdmissionReply {
    struct Limits: Equatable {
        var maxDiscard = 8 << 20
        var lifetimeNanos = 5_000_000_000
    }

    enum Outcome: Equatable {
        case open
        /// Close now (the reason, for the log when it is not the usual end).
        case close(String?)
    }

    let limits: Limits
    let retryAfterSeconds: Int
    private(set) var deadline: Int
    private var parser: RequestParser
    private var output: [UInt8] = []
    private var sentCount = 0
    private var discarded = 0
    /// The request's params once they are in (for the access log).
    private(set) var params: FastCGIParams?
    /// The 503 is framed (it may still be waiting to be sent).
    private(set) var answered = false
    /// The request's input ended (its empty STDIN, an abort, or the peer's close).
    private(set) var inputEnded = false
    /// The request asked for its connection to be kept (FCGI_KEEP_CONN).
    private(set) var keepConnection = false
    private var peerGone = false

    init(now: Int, retryAfterSeconds: Int, limits: Limits = Limits()) {
        self.limits = limits
        self.retryAfterSeconds = max(1, retryAfterSeconds)
        deadline = now + limits.lifetimeNanos
        parser = RequestParser(limits: ParserLimits(), management: ManagementValues(maxConns: 1, maxReqs: 1))
    }

    var pendingCount: Int { output.count - sentCount }
    func withPending<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[sentCount...])) }
    }

    /// Answered, sent, and the request read to its end: close, or keep (``mayKeepConnection``).
    var isFinished: Bool { answered && inputEnded && pendingCount == 0 }

    /// Finished, and the web server keeps the connection for its next request: nothing of that
    /// one has been read yet, and the peer has not closed.
    var mayKeepConnection: Bool {
        isFinished && keepConnection && !peerGone && !parser.closeAfterReply && parser.bufferedCount == 0
    }

    func isExpired(now: Int) -> Bool { now >= deadline }

    mutating func sent(_ count: Int) {
        sentCount += count
        if sentCount == output.count {
            output.removeAll(keepingCapacity: true)
            sentCount = 0
        }
    }

    /// The peer closed its end (or reset it).
    mutating func peerClosed() -> Outcome {
        inputEnded = true
        peerGone = true
        return .close(answered ? nil : "closed before its request was complete")
    }

    /// Bytes from the web server.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        parser.append(bytes)
        do {
            while let event = try parser.nextEvent() {
                switch event {
                case .begin(_, _, let keep):
                    keepConnection = keep
                case .params(let p):
                    params = p
                    if let id = parser.activeRequestID { answer(requestID: id, head: p["REQUEST_METHOD"] == "HEAD") }
                case .stdin(let chunk), .data(let chunk):
                    discarded += chunk.count
                    if discarded > limits.maxDiscard { return .close("a request body over \(limits.maxDiscard) bytes") }
                case .stdinEnd, .dataEnd:
                    inputEnded = true
                case .abort(let id):
                    keepConnection = false
                    if !answered {
                        output.append(contentsOf: ResponseWriter.endRequest(requestID: id))
                        answered = true
                    }
                    inputEnded = true
                case .reply(let bytes):
                    // GET_VALUES answers, or a refusal (another request id, an unknown role).
                    output.append(contentsOf: bytes)
                    if parser.closeAfterReply { answered = true; inputEnded = true }
                }
                if inputEnded && answered { return .open }
            }
        } catch {
            return .close("\(error)")
        }
        return .open
    }

    /// The 503: `Status`, `Retry-After`, a one-line body, END_REQUEST.
    private mutating func answer(requestID: UInt16, head: Bool) {
        guard !answered else { return }
        var writer = ResponseWriter(requestID: requestID, capacity: 256)
        writer.stdout("Status: 503 Service Unavailable\r\nRetry-After: \(retryAfterSeconds)\r\nContent-Type: text/plain\r\n\r\n")
        if !head { writer.stdout("Service Unavailable: no worker is free; retry after \(retryAfterSeconds) s.\n") }
        writer.end()
        output.append(contentsOf: writer.bytes)
        answered = true
    }
}
