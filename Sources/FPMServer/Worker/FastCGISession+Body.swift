import FPMSystem
import FastCGI

/// The request body as the handler reads it: exactly CONTENT_LENGTH bytes of STDIN (see
/// `RequestBody` for each case). Bytes beyond the length are dropped as they arrive; a stream
/// that ends short, an ABORT_REQUEST or a closed connection make the read throw
/// `RequestBodyError` instead of returning a short body as if it were whole.
extension FastCGISession: RequestBodySource {
    func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        // Bounded: every pass either returns or takes one parser event for the body.
        while true {
            if let n = try takeBody(into: buffer) { return n }
            try pumpBody(wait: true)
        }
    }

    func readBodyAvailable(into buffer: UnsafeMutableRawBufferPointer) throws -> Int? {
        if let n = try takeBody(into: buffer) { return n }
        guard try pumpBody(wait: false) else { return nil }
        return try takeBody(into: buffer)
    }

    var bodyDescriptor: Int32? { socket }

    /// What the request's body turned out to be so far: nil while nothing is wrong with it.
    var bodyFailure: RequestBodyError? { body.failure }
    /// STDIN bytes beyond CONTENT_LENGTH this request received (and dropped).
    var bodyExcess: Int { body.excess }
    var bodyLength: ContentLength { body.length }

    /// Body bytes for the handler without reading the socket: a count, 0 at the end, nil when
    /// the socket must be read first. Throws once the body is known to be broken.
    private func takeBody(into buffer: UnsafeMutableRawBufferPointer) throws(RequestBodyError) -> Int? {
        if case .invalid = body.length { throw .invalidLength }
        if body.remaining == 0 {
            pendingBody = []
            return 0
        }
        if !pendingBody.isEmpty {
            let n = body.take(available: pendingBody.count, room: buffer.count)
            pendingBody.withUnsafeBytes { src in
                buffer.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n)
            }
            body.delivered(n)
            // What is left past the length is excess: dropped here, counted by `body`. An empty
            // slice is replaced, not kept: it would still share the parser's buffer, and the
            // next append would copy that buffer (copy-on-write) for every chunk.
            pendingBody = body.remaining == 0 || n == pendingBody.count ? [] : pendingBody.dropFirst(n)
            return n
        }
        if let failure = body.failure { throw failure }
        return body.stream == .open ? nil : 0
    }

    /// Takes parser events until one for the body arrives, reading the socket when the parser
    /// needs bytes; `wait` false: returns false instead of waiting for the socket. The body may
    /// pause for request_read_timeout at most between its bytes (a total would cut slow uploads
    /// nginx streams with `fastcgi_request_buffering off`).
    @discardableResult
    func pumpBody(wait: Bool) throws -> Bool {
        while true {
            guard let event = try nextEvent() else {
                switch try receive(wait: false) {
                case .bytes:
                    bodyIdleSince = 0
                    continue
                case .wouldBlock:
                    if !wait {
                        try checkBodyIdle()
                        return false
                    }
                    let deadline = readTimeout > 0 ? SystemClock.monotonicNanos() + readTimeout * 1_000_000_000 : 0
                    try waitForInput(until: deadline, stage: .readingBody)
                    continue
                case .endOfStream:
                    body.disconnected()
                    return true
                }
            }
            switch event {
            case .stdin(let chunk):
                body.arrived(chunk.count)
                // Past the length (or after the handler stopped reading): nothing to keep.
                pendingBody = body.remaining == 0 ? [] : chunk
                return true
            case .stdinEnd:
                body.ended()
                return true
            case .abort:
                body.aborted()
                return true
            case .data, .dataEnd, .reply:
                continue
            case .begin, .params:
                throw FastCGIError.unexpectedRecordType(type: RecordType.beginRequest.rawValue, requestID: requestID)
            }
        }
    }

    /// request_read_timeout for a caller that does not block (the cgi handler's poll loop):
    /// the body has had no bytes since its first wait more than that long ago.
    private func checkBodyIdle() throws {
        guard readTimeout > 0 else { return }
        let now = SystemClock.monotonicNanos()
        if bodyIdleSince == 0 {
            bodyIdleSince = now
        } else if now - bodyIdleSince > readTimeout * 1_000_000_000 {
            throw ClientTimeout(stage: .readingBody, seconds: readTimeout)
        }
    }

    /// Reads the rest of the body to its end (what the handler did not read, or the bytes past
    /// CONTENT_LENGTH), so a kept connection stays in step.
    func drainBody() throws {
        while body.stream == .open {
            pendingBody = []
            try pumpBody(wait: true)
        }
        pendingBody = []
    }
}
