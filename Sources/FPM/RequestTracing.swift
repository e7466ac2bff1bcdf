import FPMServer
import FastCGI
import Tracing

/// Server spans (swift-distributed-tracing) around each request, when the app bootstrapped a
/// tracer (`InstrumentationSystem.bootstrap`) or runs under `withTracer`.
///
/// The span is a `.server` span named after the method (a router renames it to `GET /users/:id`
/// through ``routeMatched(_:method:)``), whose parent is what the tracer's `extract` reads from
/// the request's headers (`traceparent` for a W3C tracer), ended with the response's status.
/// The handler runs with the span's context as `InstrumentationContext.current`, so its own
/// spans and outgoing calls are children of it.
///
/// Without a tracer the wrapper costs a read-locked load of the bootstrapped instrument and a
/// type check: no allocation, no span, no header read.
package enum RequestTracing {
    /// The server span of the request in hand.
    @TaskLocal static var span: (any Span)?

    /// The tracer in force, nil when it is the no-op default.
    @inline(__always)
    static var activeTracer: (any Tracer)? {
        // The metatype compared, not `is` (a dynamic cast, ~250 instructions a request): a
        // struct's dynamic type is NoOpInstrument exactly when the cast would succeed.
        if type(of: InstrumentationSystem.instrument) == NoOpInstrument.self { return nil }
        let tracer = InstrumentationSystem.tracer
        return tracer is NoOpTracer ? nil : tracer
    }

    /// Runs `handle` in a server span when a tracer is in force, else just runs it.
    @inline(__always)
    static func traced(_ request: ServerRequest, _ response: ServerResponse, _ handle: () throws -> Void) throws {
        guard let tracer = activeTracer else { return try handle() }
        try traced(request, response, tracer: tracer, handle)
    }

    static func traced(_ request: ServerRequest, _ response: ServerResponse, tracer: any Tracer,
                       _ handle: () throws -> Void) throws {
        let span = startSpan(request, tracer: tracer)
        defer { span.end() }
        do {
            try InstrumentationContext.withValue(span.context) {
                try $span.withValue(span) { try handle() }
            }
        } catch {
            end(span, response, error: error)
            throw error
        }
        end(span, response, error: nil)
    }

    /// A `.server` span named after the method, its parent extracted from the headers.
    static func startSpan(_ request: ServerRequest, tracer: any Tracer) -> any Span {
        var context = InstrumentationContext.current ?? .topLevel
        tracer.extract(request.params, into: &context, using: ParamsExtractor())
        let method = request.method
        let span = tracer.startSpan(method, context: context, ofKind: .server)
        span.attributes["http.request.method"] = method
        span.attributes["url.path"] = request.scriptName + (request.pathInfo ?? "")
        span.attributes["fpm.request_id"] = request.identity.requestID
        return span
    }

    /// The response's status on the span; an error status for a thrown error or a 5xx
    /// (a 4xx is the client's error, not the server's: OpenTelemetry's rule for server spans).
    static func end(_ span: any Span, _ response: ServerResponse, error: (any Error)?) {
        if let error {
            span.recordError(error)
            // The worker answers 500 for an error that left nothing sent.
            span.attributes["http.response.status_code"] = response.headSent ? response.status : 500
            span.setStatus(SpanStatus(code: .error))
            return
        }
        span.attributes["http.response.status_code"] = response.status
        if response.status >= 500 { span.setStatus(SpanStatus(code: .error)) }
    }

    /// As ``traced(_:_:_:)`` for an async handler; runs on the caller's executor (the request's
    /// state is not Sendable and never leaves it).
    nonisolated(nonsending) static func tracedAsync(_ request: ServerRequest, _ response: ServerResponse,
                                                    _ handle: nonisolated(nonsending) () async throws -> Void) async throws {
        guard let tracer = activeTracer else { return try await handle() }
        let span = startSpan(request, tracer: tracer)
        defer { span.end() }
        do {
            try await InstrumentationContext.withValue(span.context) {
                try await $span.withValue(span) { try await handle() }
            }
        } catch {
            end(span, response, error: error)
            throw error
        }
        end(span, response, error: nil)
    }

    /// For a router: the route that matched, so the span is named `GET /users/:id` (one name
    /// per route, not per URL). Nothing happens without a span.
    package static func routeMatched(_ pattern: String, method: String) {
        guard let span else { return }
        span.operationName = "\(method) \(pattern)"
        span.attributes["http.route"] = pattern
    }
}

/// Reads a propagation header (`traceparent`, `tracestate`, `baggage`, …) from the CGI params:
/// `traceparent` is `HTTP_TRACEPARENT`.
struct ParamsExtractor: Extractor {
    func extract(key: String, from carrier: FastCGIParams) -> String? {
        carrier[CGIHeaderName.param(forHeader: key)]
    }
}
