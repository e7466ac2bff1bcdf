@testable import FPM
import FPMServer
import FastCGI
import FPMTesting
import HTTPTypes
import Synchronization
import Testing
import Tracing

/// The incoming `traceparent`, as the test tracer's `extract` read it.
private enum IncomingTraceparent: InstrumentationContextKey { typealias Value = String }

/// A small tracer that keeps its finished spans: what was started, with which parent, how it ended.
final class RecordingTracer: Tracer {
    let finished = Mutex<[RecordingSpan.Record]>([])

    func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> RecordingSpan {
        let context = context()
        return RecordingSpan(Record(name: operationName, kind: kind, parent: context[IncomingTraceparent.self]),
                             context: context, tracer: self)
    }

    func forceFlush() {}

    func inject<Carrier, Inject: Injector>(_ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {}

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        context[IncomingTraceparent.self] = extractor.extract(key: "traceparent", from: carrier)
    }

    typealias Record = RecordingSpan.Record
}

final class RecordingSpan: Span {
    struct Record: Sendable {
        var name: String
        var kind: SpanKind
        var parent: String?
        var attributes: SpanAttributes = [:]
        var status: SpanStatus?
        var errors = 0
    }

    let state: Mutex<Record>
    let context: InstrumentationContext
    let tracer: RecordingTracer

    init(_ record: Record, context: InstrumentationContext, tracer: RecordingTracer) {
        state = Mutex(record)
        self.context = context
        self.tracer = tracer
    }

    var isRecording: Bool { true }
    var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }
    var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }
    func setStatus(_ status: SpanStatus) { state.withLock { $0.status = status } }
    func addEvent(_ event: SpanEvent) {}
    func addLink(_ link: SpanLink) {}
    func recordError<Instant: TracerInstant>(_ error: Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        state.withLock { $0.errors += 1 }
    }
    func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let record = state.withLock { $0 }
        tracer.finished.withLock { $0.append(record) }
    }
}

private struct Boom: Error {}

@Suite struct RequestTracingTests {
    func app() -> Router {
        let router = Router()
        router.get("/id") { request, response in
            // The span's context is current while the handler runs.
            let inSpan = InstrumentationContext.current != nil
            try response.send("\(request.id) \(request.traceContext.traceID) \(inSpan)\n")
        }
        router.get("/missing") { _, _ in throw HTTPError(.notFound) }
        router.get("/boom") { _, _ in throw Boom() }
        return router
    }

    static let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test func eachRequestRunsInAServerSpanWhoseParentIsTheIncomingTraceparent() throws {
        let tracer = RecordingTracer()
        let client = try TestClient(app())
        let response = withTracer(tracer) {
            client.get("/id", headers: [HTTPField.Name("traceparent")!: Self.traceparent])
        }
        #expect(response.text == "4bf92f3577b34da6a3ce929d0e0e4736 4bf92f3577b34da6a3ce929d0e0e4736 true\n")
        let spans = tracer.finished.withLock { $0 }
        try #require(spans.count == 1)
        #expect(spans[0].kind == .server)
        #expect(spans[0].name == "GET /id", "named after the matched route")
        #expect(spans[0].parent == Self.traceparent)
        #expect(spans[0].attributes["http.response.status_code"]?.toSpanAttribute() == .int64(200))
        #expect(spans[0].attributes["fpm.request_id"]?.toSpanAttribute() == .string("4bf92f3577b34da6a3ce929d0e0e4736"))
        #expect(spans[0].status == nil)
    }

    @Test func theSpanEndsWithTheStatusAnErrorAnswered() throws {
        let tracer = RecordingTracer()
        let client = try TestClient(app())
        withTracer(tracer) {
            _ = client.get("/missing")
            _ = client.get("/boom")
        }
        let spans = tracer.finished.withLock { $0 }
        try #require(spans.count == 2)
        #expect(spans[0].parent == nil)
        #expect(spans[0].attributes["http.response.status_code"]?.toSpanAttribute() == .int64(404))
        #expect(spans[0].status == nil)  // a 4xx is not the server's error
        #expect(spans[1].attributes["http.response.status_code"]?.toSpanAttribute() == .int64(500))
        #expect(spans[1].status?.code == .error)
        #expect(spans[1].errors == 1)
    }

    @Test func withoutATracerTheHandlerRunsOutsideAnySpan() throws {
        let response = try TestClient(app()).get("/id", headers: [HTTPField.Name("x-request-id")!: "edge-7"])
        #expect(response.text.hasPrefix("edge-7 "))
        #expect(response.text.hasSuffix(" false\n"))
    }

    @Test func anAsyncHandlerRunsInTheSameSpan() async throws {
        let tracer = RecordingTracer()
        let request = ServerRequest(params: FastCGIParams([("REQUEST_METHOD", "POST"), ("HTTP_TRACEPARENT", Self.traceparent)]),
                                    body: nil)
        let response = ServerResponse(sink: BufferResponseSink())
        try await withTracer(tracer) {
            try await RequestTracing.tracedAsync(request, response) {
                RequestTracing.routeMatched("/orders/:id", method: "POST")
                response.status = 503
            }
        }
        let spans = tracer.finished.withLock { $0 }
        try #require(spans.count == 1)
        #expect(spans[0].name == "POST /orders/:id")
        #expect(spans[0].parent == Self.traceparent)
        #expect(spans[0].attributes["http.response.status_code"]?.toSpanAttribute() == .int64(503))
        #expect(spans[0].status?.code == .error)
    }

    @Test func theTraceContextGivesTheHeaderToPassOn() throws {
        let router = Router()
        router.get("/") { request, response in
            let trace = request.traceContext
            try response.send("\(trace.parentSpanID ?? "-") \(trace.isSampled) \(trace.traceparent)\n")
        }
        let text = try TestClient(router).get("/", headers: [HTTPField.Name("traceparent")!: Self.traceparent]).text
        let parts = text.dropLast().split(separator: " ")
        #expect(parts[0] == "00f067aa0ba902b7")
        #expect(parts[1] == "true")
        #expect(parts[2].hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") && parts[2].hasSuffix("-01"))
        #expect(!parts[2].contains("00f067aa0ba902b7"))  // this request is the parent downstream
    }
}
