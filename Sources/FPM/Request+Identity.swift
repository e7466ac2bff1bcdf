import FPMServer

extension Request {
    /// The request's id, for logs and for passing on: the client's (or the proxy's)
    /// `X-Request-Id` when it is safe to log (1 to 128 letters, digits and `-_.:+/=@`), else the
    /// W3C trace id (32 hex digits) of ``traceContext``.
    ///
    /// The same id the server writes in the access log (`%I`), the slowlog entry
    /// (`request_id =`) and the status page's per-worker view (`request id:`). Resolved from the
    /// headers on first use, once per request; a request nothing asks about resolves nothing.
    /// Middleware that sets `X-Request-Id` on the response reads it here, so there is one id.
    public var id: String { base.identity.requestID }

    /// The request's W3C trace context: the client's `traceparent` continued when it is valid,
    /// else a new trace. See <doc:RequestIdentityAndTracing>.
    public var traceContext: RequestTraceContext { RequestTraceContext(base.identity) }
}

/// A request's place in a distributed trace (W3C Trace Context), as the server resolved it.
///
/// The request has its own span id, so ``traceparent`` — the header to send on a call this
/// request makes — names this request as the caller. With a tracer bootstrapped
/// (swift-distributed-tracing), prefer the tracer's `inject`: its span is the parent then.
public struct RequestTraceContext: Sendable, Hashable {
    /// 32 lowercase hex digits, shared by every request of the trace.
    public let traceID: String
    /// This request's span id, 16 lowercase hex digits.
    public let spanID: String
    /// The caller's span id from the request's `traceparent`; nil when the trace starts here.
    public let parentSpanID: String?
    /// The trace flags (bit 0: sampled).
    public let flags: UInt8

    init(_ identity: RequestIdentity) {
        traceID = identity.traceID
        spanID = identity.spanIDHex
        var parent: [UInt8] = []
        if identity.parentID != 0 { TraceParent.appendHex(identity.parentID, digits: 16, to: &parent) }
        parentSpanID = identity.parentID != 0 ? String(decoding: parent, as: UTF8.self) : nil
        flags = identity.flags
    }

    /// Whether the caller sampled the trace (flag bit 0).
    public var isSampled: Bool { flags & 1 != 0 }

    /// The `traceparent` header for an outgoing call: version 00, this trace, this request's
    /// span as the parent.
    public var traceparent: String {
        "00-\(traceID)-\(spanID)-\(flags < 16 ? "0" : "")\(String(flags, radix: 16))"
    }
}
