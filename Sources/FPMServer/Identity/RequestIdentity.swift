import FastCGI

/// Who a request is, for logs and traces: its id and its W3C trace context.
///
/// Resolved from the request's headers on first use (``ServerRequest/identity``), once per
/// request, and only when something asks: a handler, an access log format with `%I`, or a pool
/// whose slowlog or status page shows the worker's request (``PoolRuntime/recordsRequestIdentity``).
/// A pool that uses none of these resolves nothing.
///
/// * The **trace** continues the client's `traceparent` when it is valid (``TraceParent``),
///   else starts a new one. Either way the request has its own span id, so the header it
///   passes on (``outgoingTraceparent``) names this request as the parent.
/// * The **request id** is the client's `X-Request-Id` when it is safe to log
///   (``isValidRequestID(_:)``), else the trace id in hex: an id sent by a client or a proxy
///   in front is kept, and one trace id can otherwise be followed from nginx to the app.
package struct RequestIdentity: Sendable, Equatable {
    package var traceIDHigh: UInt64
    package var traceIDLow: UInt64
    /// This request's own span id.
    package var spanID: UInt64
    /// The caller's span from `traceparent`; 0 when the trace starts here.
    package var parentID: UInt64
    package var flags: UInt8
    /// The client's `X-Request-Id`, when valid.
    package var clientRequestID: String?

    /// The longest `X-Request-Id` kept.
    package static let maxRequestIDLength = 128

    package init(traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, parentID: UInt64 = 0, flags: UInt8 = 0,
                 clientRequestID: String? = nil) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanID = spanID
        self.parentID = parentID
        self.flags = flags
        self.clientRequestID = clientRequestID
    }

    /// Reads `HTTP_TRACEPARENT` and `HTTP_X_REQUEST_ID` in place; draws new ids from
    /// ``RequestIDGenerator`` for what they do not give.
    package init(params: FastCGIParams) {
        let incoming = params.withValue("HTTP_TRACEPARENT" as StaticString) { $0.flatMap(TraceParent.parse) }
        let clientID = params.withValue("HTTP_X_REQUEST_ID" as StaticString) { raw -> String? in
            guard let raw, RequestIdentity.isValidRequestID(raw) else { return nil }
            return String(decoding: raw, as: UTF8.self)
        }
        if let incoming {
            self.init(traceIDHigh: incoming.traceIDHigh, traceIDLow: incoming.traceIDLow,
                      spanID: RequestIDGenerator.nextNonZero(), parentID: incoming.parentID, flags: incoming.flags,
                      clientRequestID: clientID)
        } else {
            let high = RequestIDGenerator.next(), low = RequestIDGenerator.nextNonZero()
            self.init(traceIDHigh: high, traceIDLow: low, spanID: RequestIDGenerator.nextNonZero(),
                      clientRequestID: clientID)
        }
    }

    /// Whether an `X-Request-Id` value may be kept: 1 to ``maxRequestIDLength`` bytes of
    /// letters, digits and `-_.:+/=@` (UUIDs, hex, base64 ids and the usual prefixes). It goes
    /// into log lines as is, so no space, quote, backslash, control byte or non-ASCII.
    package static func isValidRequestID(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty, bytes.count <= maxRequestIDLength else { return false }
        for c in bytes {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"),
                 UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="), UInt8(ascii: "@"):
                continue
            default:
                return false
            }
        }
        return true
    }

    package static func isValidRequestID(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { isValidRequestID(UnsafeRawBufferPointer($0)) }
    }

    /// Whether the trace came from the client's `traceparent`.
    package var continuesTrace: Bool { parentID != 0 }

    /// The request id: the client's `X-Request-Id`, else the trace id.
    package var requestID: String { clientRequestID ?? traceID }
    /// 32 lowercase hex digits.
    package var traceID: String { hexString { appendTraceID(to: &$0) } }
    /// 16 lowercase hex digits.
    package var spanIDHex: String { hexString { TraceParent.appendHex(spanID, digits: 16, to: &$0) } }
    /// The `traceparent` to send downstream: this trace, this request's span as the parent.
    package var outgoingTraceparent: String {
        TraceParent(traceIDHigh: traceIDHigh, traceIDLow: traceIDLow, parentID: spanID, flags: flags).header
    }

    package func appendRequestID(to out: inout [UInt8]) {
        if let clientRequestID { out.append(contentsOf: clientRequestID.utf8) } else { appendTraceID(to: &out) }
    }

    package func appendTraceID(to out: inout [UInt8]) {
        TraceParent.appendHex(traceIDHigh, digits: 16, to: &out)
        TraceParent.appendHex(traceIDLow, digits: 16, to: &out)
    }

    /// Calls `body` with the request id's bytes: the client's in place, or the trace id in
    /// hex on the stack (no allocation either way).
    package func withRequestIDBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        if var id = clientRequestID { return id.withUTF8 { body(UnsafeRawBufferPointer($0)) } }
        return withTraceIDBytes(body)
    }

    /// Calls `body` with the 32 hex digits of the trace id, written on the stack.
    package func withTraceIDBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 1) { buffer in
            TraceParent.writeHex(traceIDHigh, digits: 16, to: buffer.baseAddress!)
            TraceParent.writeHex(traceIDLow, digits: 16, to: buffer.baseAddress! + 16)
            return body(UnsafeRawBufferPointer(buffer))
        }
    }

    private func hexString(_ fill: (inout [UInt8]) -> Void) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        fill(&out)
        return String(decoding: out, as: UTF8.self)
    }
}

extension ServerRequest {
    /// The request's id and trace context, resolved from its headers on first use and kept for
    /// the rest of the request (see ``RequestIdentity``).
    package var identity: RequestIdentity {
        if let resolved = resolvedIdentity { return resolved }
        let resolved = RequestIdentity(params: params)
        resolvedIdentity = resolved
        return resolved
    }
}
