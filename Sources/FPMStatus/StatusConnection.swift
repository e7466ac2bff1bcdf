import FastCGI

/// One FastCGI connection on a `pm.status_listen` socket, served by the master itself: bytes
/// in, framed answers out, no I/O. The master reads what the socket has, hands it here, writes
/// what ``pending`` holds as far as the socket takes it, and closes when ``isFinished`` or the
/// connection passed its ``deadline``.
///
/// Bounds, so that a slow or garbage client costs only itself: at most
/// ``Limits/maxBuffered`` bytes of an incomplete record are held, at most
/// ``Limits/maxBody`` bytes of request body are read (and dropped: status takes none), at most
/// ``Limits/maxAnswersPerReceive`` pipelined requests are answered from one read, at most
/// ``Limits/maxOutput`` bytes wait for a client that does not read, and each request (the
/// first from the accept, each next one on a kept connection from the previous answer) must
/// arrive within ``Limits/lifetimeNanos``. Past any of them the connection is closed. (Web
/// servers and probes send one request and wait for its answer; none of this limits them.)
package struct StatusConnection {
    package struct Limits: Sendable, Equatable {
        package var maxBuffered = 64 * 1024
        package var maxBody = 64 * 1024
        package var maxOutput = 1024 * 1024
        package var lifetimeNanos = 10_000_000_000
        package var maxAnswersPerReceive = 16
        package init(maxBuffered: Int = 64 * 1024, maxBody: Int = 64 * 1024, maxOutput: Int = 1024 * 1024,
                     lifetimeNanos: Int = 10_000_000_000, maxAnswersPerReceive: Int = 16) {
            self.maxBuffered = maxBuffered
            self.maxBody = maxBody
            self.maxOutput = maxOutput
            self.lifetimeNanos = lifetimeNanos
            self.maxAnswersPerReceive = maxAnswersPerReceive
        }
    }

    /// What to send for one request: a CGI status, headers and a body.
    package struct Answer: Sendable, Equatable {
        package var status: Int
        package var headers: [StatusPage.Header]
        package var body: [UInt8]
        package init(status: Int = 200, headers: [StatusPage.Header], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    /// What a request asks, as the answer function sees it.
    package struct Request: Sendable {
        package var params: FastCGIParams
        /// SCRIPT_NAME, or PATH_INFO when SCRIPT_NAME is empty (lighttpd's `fix-root-scriptname`
        /// for an app at "/"), as the workers' status and ping pages match it.
        package var scriptName: String {
            BuiltInPages.matchedPath(scriptName: params["SCRIPT_NAME"] ?? "", pathInfo: params["PATH_INFO"])
        }
        package var queryString: String { params["QUERY_STRING"] ?? "" }
        package var isHead: Bool { params["REQUEST_METHOD"] == "HEAD" }
    }

    package enum Outcome: Sendable, Equatable {
        case open
        /// Close now: the client broke the protocol or a bound.
        case close(String)
    }

    package let limits: Limits
    /// When the connection is closed unless a (next) request has been answered by then.
    package private(set) var deadline: Int
    private var parser: RequestParser
    private var output: [UInt8] = []
    private var sentCount = 0
    private var params = FastCGIParams()
    private var bodyBytes = 0
    private var closeWhenFlushed = false
    /// Requests answered on this connection.
    package private(set) var answered = 0

    package init(now: Int, limits: Limits = Limits(), management: ManagementValues = ManagementValues(maxConns: 64, maxReqs: 64)) {
        self.limits = limits
        deadline = now + limits.lifetimeNanos
        parser = RequestParser(limits: ParserLimits(maxParamsBytes: limits.maxBuffered, maxParamsCount: 1000,
                                                    maxRecordsBeforeBegin: 64),
                               management: management)
    }

    /// The framed bytes not yet sent.
    package var pendingCount: Int { output.count - sentCount }
    package func withPending<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try output.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[sentCount...])) }
    }

    /// Every answer is sent and the client asked for no more (or cannot get more).
    package var isFinished: Bool { closeWhenFlushed && pendingCount == 0 }

    package func isExpired(now: Int) -> Bool { now >= deadline }

    /// The socket took `count` more bytes.
    package mutating func sent(_ count: Int) {
        sentCount += count
        if sentCount == output.count {
            output.removeAll(keepingCapacity: true)
            sentCount = 0
        }
    }

    /// The client closed its end: nothing more to answer after what is pending.
    package mutating func peerClosed() -> Outcome {
        if parser.bufferedCount > 0 { return .close("closed in the middle of a record") }
        closeWhenFlushed = true
        return .open
    }

    /// Bytes from the client; `answer` renders each complete request.
    package mutating func receive(_ bytes: UnsafeRawBufferPointer, now: Int, answer: (Request) -> Answer) -> Outcome {
        if closeWhenFlushed { return .open }  // after the last request: ignored
        guard parser.bufferedCount + bytes.count <= limits.maxBuffered else {
            return .close("more than \(limits.maxBuffered) bytes without a complete record")
        }
        parser.append(bytes)
        var answers = 0
        do {
            while !closeWhenFlushed, let event = try parser.nextEvent() {
                switch event {
                case .begin:
                    params = FastCGIParams()
                    bodyBytes = 0
                case .params(let p):
                    params = p
                case .stdin(let chunk), .data(let chunk):
                    bodyBytes += chunk.count
                    if bodyBytes > limits.maxBody { return .close("a request body over \(limits.maxBody) bytes") }
                case .stdinEnd:
                    guard let id = parser.activeRequestID else { break }
                    answers += 1
                    if answers > limits.maxAnswersPerReceive {
                        return .close("more than \(limits.maxAnswersPerReceive) pipelined requests in one read")
                    }
                    let keep = parser.keepConnection
                    frame(answer(Request(params: params)), requestID: id, head: params["REQUEST_METHOD"] == "HEAD")
                    parser.requestFinished()
                    answered += 1
                    deadline = now + limits.lifetimeNanos
                    if !keep { closeWhenFlushed = true }
                case .dataEnd:
                    break
                case .abort(let id):
                    let keep = parser.keepConnection
                    output.append(contentsOf: ResponseWriter.endRequest(requestID: id))
                    parser.requestFinished()
                    if !keep { closeWhenFlushed = true }
                case .reply(let bytes):
                    output.append(contentsOf: bytes)
                    if parser.closeAfterReply { closeWhenFlushed = true }
                }
            }
        } catch {
            return .close("\(error)")
        }
        if pendingCount > limits.maxOutput { return .close("more than \(limits.maxOutput) bytes unread by the client") }
        return .open
    }

    private mutating func frame(_ answer: Answer, requestID: UInt16, head: Bool) {
        var writer = ResponseWriter(requestID: requestID, capacity: answer.body.count + 512)
        var text = ""
        if answer.status != 200 { text += "Status: \(answer.status) \(StatusConnection.reason(answer.status))\r\n" }
        for h in answer.headers { text += "\(h.name): \(h.value)\r\n" }
        text += "\r\n"
        writer.stdout(text)
        if !head { writer.stdout(answer.body) }
        writer.end()
        output.append(contentsOf: writer.bytes)
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
