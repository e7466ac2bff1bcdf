import FPMSystem
import FastCGI

/// The worker's one receive buffer: every session reads its socket into it and the parser
/// copies what it needs at once, so a kept connection costs no buffer of its own.
final class ReceiveBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    init(capacity: Int = 64 * 1024) {
        bytes = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { bytes.deallocate() }
}

/// A client that stopped sending its request or reading its response: the connection is
/// closed and the worker is free again.
struct ClientTimeout: Error, CustomStringConvertible {
    enum Stage: String { case readingHeaders = "Reading headers", readingBody = "Reading the body", writing = "Writing the response" }
    let stage: Stage
    let seconds: Int

    var description: String {
        switch stage {
        case .readingHeaders, .readingBody:
            return "the request did not arrive within request_read_timeout (\(seconds)s)"
        case .writing:
            return "the response was not read for request_write_timeout (\(seconds)s)"
        }
    }
}

/// One FastCGI connection in a worker and all of its request state: the socket, the parser's
/// events (management replies and aborts answered here), the request body as a stream, the
/// framed output and whether the web server keeps the connection. The worker only asks for
/// the next request's params, runs the handler against this session and ends the request.
///
/// Recycled across connections (`attach`/`close`), so the parser's and writer's buffers are
/// allocated once per worker, not per connection. Its mutable state is `@exclusivity(unchecked)`,
/// as `Worker`'s is (one thread; the dynamic checks cost more than the bookkeeping they guard).
final class FastCGISession: ResponseSink {
    /// The connection, owned: closed once, by `close()`; nil while the session waits in the
    /// worker's spares. An `OwnedDescriptor` in place: no allocation per connection.
    @exclusivity(unchecked) private var connection: OwnedDescriptor?
    /// The connection's socket number; nil while the session waits in the worker's spares.
    var socket: Int32? { connection?.rawValue }
    private(set) var peer = PeerAddress.unix
    @exclusivity(unchecked) private var parser: RequestParser
    @exclusivity(unchecked) private var writer = ResponseWriter(requestID: 1)
    private let receiveBuffer: ReceiveBuffer

    /// Whether the worker watches it as a kept connection (its epoll and kept list); the
    /// worker's bookkeeping, kept here so finding it costs no lookup.
    @exclusivity(unchecked) var watched = false

    /// Whether the web server asked to keep the connection after this request (FCGI_KEEP_CONN).
    @exclusivity(unchecked) private(set) var keepsConnection = false
    @exclusivity(unchecked) private(set) var requestID: UInt16 = 1
    @exclusivity(unchecked) private(set) var role: Role = .responder

    /// Whether bytes of the next request are here (so its deadline is the socket's, not the
    /// 5 s a new connection gets for its first bytes).
    @exclusivity(unchecked) private var requestArrived = false

    /// The request body counted against its CONTENT_LENGTH (see `FastCGISession+Body`).
    @exclusivity(unchecked) var body = RequestBody()
    /// Stdin bytes already parsed but not yet handed to the handler. They share the parser's
    /// buffer, so this is emptied before the parser is given more bytes (no copy-on-write).
    @exclusivity(unchecked) var pendingBody: ArraySlice<UInt8> = []
    /// When the body last had to wait for bytes (monotonic ns; 0: it did not since its last
    /// bytes): the non-blocking read's measure of request_read_timeout.
    @exclusivity(unchecked) var bodyIdleSince = 0
    /// STDIN bytes past CONTENT_LENGTH that the request just ended dropped (for its log line).
    @exclusivity(unchecked) private(set) var endedBodyExcess = 0
    /// Whether part of this request's answer has left the worker (it can no longer be replaced).
    @exclusivity(unchecked) private(set) var outputFlushed = false

    /// Whether bytes of another request are already buffered (pipelined).
    var hasBufferedInput: Bool { parser.bufferedCount > 0 }

    /// Output bigger than this is flushed while the handler writes (streamed responses).
    static let flushThreshold = 64 * 1024
    /// One write larger than this goes out in pieces this big.
    static let largeWritePiece = 256 * 1024
    /// php-fpm gives a new connection 5 s to send its first bytes.
    static let firstBytesTimeoutMillis: Int32 = 5000

    /// request_read_timeout / request_write_timeout in seconds (0: none).
    let readTimeout: Int
    let writeTimeout: Int
    /// When the head of the request in progress must be in (monotonic ns; 0: no deadline).
    @exclusivity(unchecked) private var headDeadline = 0

    init(management: ManagementValues, limits: ParserLimits, receiveBuffer: ReceiveBuffer,
         readTimeout: Int = 0, writeTimeout: Int = 0) {
        parser = RequestParser(limits: limits, management: management)
        self.receiveBuffer = receiveBuffer
        self.readTimeout = readTimeout
        self.writeTimeout = writeTimeout
    }

    /// Takes over an accepted (or adopted) connection.
    func attach(socket: Int32, peer: PeerAddress, keepsConnection: Bool = false) {
        assert(self.socket == nil, "a FastCGI session attached twice")
        connection = OwnedDescriptor(owning: socket)
        self.peer = peer
        self.keepsConnection = keepsConnection
        parser.reset()
        writer.removeAll()
        startRequest()
    }

    /// Closes the connection; the session can then be attached to another.
    func close() {
        connection.take()?.close()
    }

    var fd: Int32 {
        guard let socket else { preconditionFailure("I/O on a FastCGI session without a connection") }
        return socket
    }

    /// A failed call on the connection: EBADF or EFAULT trap (a bug of ours), the rest is the
    /// client's doing and is thrown on. Only on the error path: nothing added to a request.
    private func rethrow(_ error: any Error) -> any Error {
        if let error = error as? SystemError { OwnedDescriptor.trapIfBug(error, fd) }
        return error
    }

    private func startRequest() {
        requestArrived = false
        headDeadline = 0
        body = RequestBody()
        pendingBody = []
        bodyIdleSince = 0
        outputFlushed = false
        writer.releaseCapacity(above: 1 << 20)
    }

    // MARK: the request head

    /// How far reading the next request's head got.
    enum HeadProgress {
        /// Its first bytes are here: the request has begun (the scoreboard says "reading").
        case arrived
        /// BEGIN_REQUEST and every PARAMS record are in.
        case ready(FastCGIParams)
        /// The connection ended before a request, or gave no first bytes in time.
        case closed
    }

    /// Reads until the next request's params are in, answering management records and aborts
    /// of requests that have not started. `waitForFirstBytes`: a connection that was just
    /// accepted or woke up gets 5 s for its first bytes; a continuation gets none. Once the
    /// first bytes are in, the whole head (BEGIN_REQUEST and PARAMS) must arrive within
    /// request_read_timeout: a total, so a client sending a byte a second is cut too.
    func readHead(waitForFirstBytes: Bool) throws -> HeadProgress {
        while true {
            if !requestArrived && parser.bufferedCount > 0 {
                requestArrived = true
                if readTimeout > 0 { headDeadline = SystemClock.monotonicNanos() + readTimeout * 1_000_000_000 }
                return .arrived
            }
            guard let event = try nextEvent() else {
                if parser.closeAfterReply { return .closed }
                var result = try receive(wait: false)
                if result == .wouldBlock {
                    if !requestArrived {
                        if !SocketIO.waitReadable(fd, timeoutMillis: waitForFirstBytes ? Self.firstBytesTimeoutMillis : 0) {
                            return .closed
                        }
                    } else {
                        try waitForInput(until: headDeadline, stage: .readingHeaders)
                    }
                    result = try receive(wait: false)
                }
                if result == .endOfStream { return .closed }
                continue
            }
            switch event {
            case .begin(let id, let role, let keep):
                requestID = id
                self.role = role
                keepsConnection = keep
            case .params(let params):
                writer.reset(requestID: requestID)
                body = RequestBody(length: params.contentLength)
                return .ready(params)
            case .abort:
                // Aborted before the handler ran: end it, and go on to the next request if kept.
                writer.reset(requestID: requestID)
                writer.end(appStatus: 0, protocolStatus: .requestComplete)
                try flush()
                parser.requestFinished()
                if !keepsConnection { return .closed }
                startRequest()
            case .stdin, .stdinEnd, .data, .dataEnd, .reply:
                continue
            }
        }
    }

    // MARK: ending the request

    /// The handler is done: drops the body it did not read (so a kept connection stays in
    /// step), ends the request (END_REQUEST, app status 1 when `failed`) and sends what is left.
    /// An aborted request's unsent answer is dropped: END_REQUEST alone ends it. Returns whether
    /// the connection serves another request: the web server keeps it and did not abort this
    /// one. After a throw the connection is out of step: close it.
    func endRequest(failed: Bool) throws -> Bool {
        endedBodyExcess = 0
        try drainBody()
        if body.dropsAnswer { writer.removeAll() }
        writer.end(appStatus: failed ? 1 : 0, protocolStatus: .requestComplete)
        try flush()
        parser.requestFinished()
        let reusable = keepsConnection && !body.dropsAnswer
        endedBodyExcess = body.excess
        startRequest()
        return reusable
    }

    /// Drops output that could not be sent (the connection is closed next).
    func discardOutput() {
        writer.removeAll()
    }

    // MARK: output (ResponseSink)

    func writeOutput(_ bytes: UnsafeRawBufferPointer) throws {
        if body.dropsAnswer { return }
        guard bytes.count > Self.largeWritePiece else {
            writer.stdout(bytes)
            if writer.count >= Self.flushThreshold { try flush() }
            return
        }
        // A large write is framed and sent in pieces, so the framed buffer (kept for the life of
        // the worker) never grows to the size of one response.
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + Self.largeWritePiece)
            writer.stdout(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
            try flush()
            offset = end
        }
    }

    func writeOutput(composing compose: (inout [UInt8]) -> Void) throws {
        if body.dropsAnswer { return }
        writer.stdout(composing: compose)
        if writer.count >= Self.flushThreshold { try flush() }
    }

    func writeError(_ bytes: UnsafeRawBufferPointer) throws {
        if body.dropsAnswer { return }
        writer.stderr(bytes)
        if writer.count >= Self.flushThreshold { try flush() }
    }

    private func flush() throws {
        guard writer.count > 0 else { return }
        try writer.withBytes { try send($0) }
        writer.removeAll()
        outputFlushed = true
        LastAnswer.responseStarted()
    }

    /// Sends all of `bytes`: one `send` when the socket takes them, as usual; when the client
    /// does not read, waits for room at most request_write_timeout without progress.
    private func send(_ bytes: UnsafeRawBufferPointer) throws {
        let timeout = writeTimeout > 0 ? Int32(clamping: writeTimeout * 1000) : -1
        let sent: Bool
        do { sent = try SocketIO.sendAll(fd, bytes, waitingAtMost: timeout) } catch { throw rethrow(error) }
        guard sent else {
            throw ClientTimeout(stage: .writing, seconds: writeTimeout)
        }
    }

    /// Waits for the client's next bytes until `deadline` (monotonic ns; 0: none), throwing
    /// `ClientTimeout` when it passes first.
    func waitForInput(until deadline: Int, stage: ClientTimeout.Stage) throws {
        var timeout: Int32 = -1
        if deadline > 0 {
            let left = SystemClock.millisecondsLeft(until: deadline, now: SystemClock.monotonicNanos())
            guard left > 0 else { throw ClientTimeout(stage: stage, seconds: readTimeout) }
            timeout = left
        }
        if try Poll.wait(fd, for: Poll.readable, timeoutMillis: timeout) == 0 {
            throw ClientTimeout(stage: stage, seconds: readTimeout)
        }
    }

    // MARK: input

    /// The parser's next event, with management replies (GET_VALUES_RESULT, UNKNOWN_TYPE,
    /// refusals) already sent: whatever phase the request is in, they are answered the same.
    func nextEvent() throws -> ParserEvent? {
        while let event = try parser.nextEvent() {
            guard case .reply(let bytes) = event else { return event }
            try bytes.withUnsafeBytes { try send($0) }
        }
        return nil
    }

    /// Reads what the socket has into the parser; `wait` false: without blocking.
    func receive(wait: Bool) throws -> SocketIO.Received {
        let result: SocketIO.Received
        do { result = try SocketIO.receive(fd, into: receiveBuffer.bytes, wait: wait) } catch { throw rethrow(error) }
        if case .bytes(let n) = result {
            parser.append(UnsafeRawBufferPointer(rebasing: receiveBuffer.bytes[0..<n]))
        }
        return result
    }
}
