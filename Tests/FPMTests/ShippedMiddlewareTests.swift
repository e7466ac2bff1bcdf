@testable import FPM
import FPMTesting
import Logging
import MetricsTestKit
import Testing

/// The middleware FPM ships: request id, CORS, request log, metrics.
@Suite struct ShippedMiddlewareTests {
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let traceparent = HTTPField.Name("traceparent")!

    func idRouter() -> Router {
        let router = Router()
        router.use(RequestIDMiddleware())
        router.get("/id") { request, response in try response.send(request.id) }
        return router
    }

    @Test func aGivenRequestIdIsKeptAndSentBack() throws {
        var headers = HTTPFields()
        headers[Self.requestID] = "abc-123"
        headers[Self.traceparent] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let response = try TestClient(idRouter()).get("/id", headers: headers)
        #expect(response.text == "abc-123")
        #expect(response.headers[Self.requestID] == "abc-123")
    }

    @Test func theTraceIdOfATraceparentIsTheIdWhenNoneIsGiven() throws {
        var headers = HTTPFields()
        headers[Self.traceparent] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let response = try TestClient(idRouter()).get("/id", headers: headers)
        #expect(response.text == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(response.headers[Self.requestID] == "4bf92f3577b34da6a3ce929d0e0e4736")
    }

    @Test func anInvalidTraceparentOrIdGetsANewId() throws {
        let client = try TestClient(idRouter())
        var seen: Set<String> = []
        for bad in ["", "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                    "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                    "00-4bf92f3577b34da6a3ce929d0e0e473x-00f067aa0ba902b7-01"] {
            var headers = HTTPFields()
            headers[Self.traceparent] = bad
            headers[Self.requestID] = "has space"
            let response = client.get("/id", headers: headers)
            #expect(response.text.count == 32, "\(bad)")
            #expect(response.text.allSatisfy { $0.isHexDigit && !$0.isUppercase })
            #expect(response.headers[Self.requestID] == response.text)
            seen.insert(response.text)
        }
        #expect(seen.count == 5)
    }

    @Test func withoutTheMiddlewareTheIdIsNotSentBack() throws {
        let router = Router()
        router.get("/id") { request, response in try response.send(request.id) }
        let response = try TestClient(router).get("/id")
        #expect(response.text.count == 32, "the request still has its id: \(response.text)")
        #expect(response.headers[Self.requestID] == nil)
    }

    func corsRouter(_ cors: CORSMiddleware) -> (Router, Counter) {
        let calls = Counter()
        let router = Router()
        router.use(cors)
        router.get("/data") { _, response in calls.value += 1; try response.send("data") }
        return (router, calls)
    }

    final class Counter { var value = 0 }

    @Test func aPreflightIsAnsweredWithoutTheRoute() throws {
        let (router, calls) = corsRouter(CORSMiddleware(allowOrigin: .origins(["https://app.example"]), maxAge: 60))
        var headers = HTTPFields()
        headers[.origin] = "https://app.example"
        headers[.accessControlRequestMethod] = "PUT"
        let client = try TestClient(router)
        let preflight = client.execute(.options, "/data", headers: headers)
        #expect(preflight.status == .noContent)
        #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.example")
        #expect(preflight.headers[.accessControlAllowMethods] == "GET, HEAD, POST, PUT, PATCH, DELETE")
        #expect(preflight.headers[.accessControlAllowHeaders] == "Accept, Authorization, Content-Type, X-Request-Id")
        #expect(preflight.headers[.accessControlMaxAge] == "60")
        #expect(preflight.headers[.vary] == "Origin")
        #expect(calls.value == 0)
        // From an origin not allowed: no CORS header, and the router's own answer (405).
        headers[.origin] = "https://evil.example"
        let refused = client.execute(.options, "/data", headers: headers)
        #expect(refused.status == .methodNotAllowed)
        #expect(refused.headers[.accessControlAllowOrigin] == nil)
        #expect(refused.headers[.vary] == "Origin")
    }

    @Test func aCrossOriginRequestGetsTheHeadersAndTheRoute() throws {
        let (router, calls) = corsRouter(CORSMiddleware(allowCredentials: true))
        let client = try TestClient(router)
        var headers = HTTPFields()
        headers[.origin] = "http://localhost:3000"
        let response = client.get("/data", headers: headers)
        #expect(response.text == "data")
        #expect(response.headers[.accessControlAllowOrigin] == "http://localhost:3000")
        #expect(response.headers[.accessControlAllowCredentials] == "true")
        #expect(response.headers[.vary] == "Origin")
        // CORS headers on the router's 404 too, so the page can read it.
        #expect(client.get("/nope", headers: headers).headers[.accessControlAllowOrigin] == "http://localhost:3000")
        #expect(calls.value == 1)
        // Any origin without credentials: `*`, and nothing varies by origin.
        let (open, _) = corsRouter(CORSMiddleware())
        let star = try TestClient(open).get("/data", headers: headers)
        #expect(star.headers[.accessControlAllowOrigin] == "*")
        #expect(star.headers[.vary] == nil)
        #expect(try TestClient(open).get("/data").headers[.accessControlAllowOrigin] == nil)
    }

    /// Collects swift-log lines.
    final class Lines: @unchecked Sendable { var lines: [String] = [] }
    struct Collecting: LogHandler {
        let lines: Lines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let extra = (event.metadata ?? [:]).map { " \($0.key)=\($0.value)" }.joined()
            lines.lines.append("\(event.level) \(event.message)\(extra)")
        }
    }

    @Test func eachRequestIsLoggedWithStatusAndDuration() throws {
        let lines = Lines()
        let router = Router()
        router.use(RequestIDMiddleware())
        router.use(RequestLoggingMiddleware(logger: Logger(label: "t") { _ in Collecting(lines: lines) }))
        router.get("/ok/:id") { _, response in try response.send("ok", status: .accepted) }
        router.get("/boom") { _, _ in throw CancellationError() }
        var headers = HTTPFields()
        headers[Self.requestID] = "r1"
        let client = try TestClient(router)
        _ = client.get("/ok/1", headers: headers)
        _ = client.get("/missing", headers: headers)
        #expect(client.get("/boom", headers: headers).status == .internalServerError)
        #expect(lines.lines.count == 3)
        let pattern = /info (GET \S+ \d{3}) \d+\.\d{3}ms request-id=r1/
        #expect(lines.lines.compactMap { try? pattern.wholeMatch(in: $0)?.1 }.map(String.init)
                == ["GET /ok/1 202", "GET /missing 404", "GET /boom 500"])
    }

    @Test func millisecondsAreFormattedWithThreeDecimals() {
        #expect(RequestLoggingMiddleware.milliseconds(.microseconds(1234)) == "1.234ms")
        #expect(RequestLoggingMiddleware.milliseconds(.microseconds(5)) == "0.005ms")
        #expect(RequestLoggingMiddleware.milliseconds(.seconds(2)) == "2000.000ms")
    }

    @Test func metricsAreRecordedByRoutePatternMethodAndStatus() throws {
        let metrics = TestMetrics()
        let router = Router()
        router.use(MetricsMiddleware(factory: metrics))
        router.group("/api") { api in
            api.get("/todos/:id") { request, response in
                if request.parameters["id"] == "0" { throw HTTPError(.notFound) }
                try response.send("todo")
            }
        }
        let client = try TestClient(router)
        for id in ["1", "2", "0"] { _ = client.get("/api/todos/\(id)") }
        _ = client.get("/api/other")
        let ok = [("http.route", "/api/todos/:id"), ("http.request.method", "GET"), ("http.response.status_code", "200")]
        #expect(try metrics.expectCounter("http.server.requests", ok).totalValue == 2)
        #expect(try metrics.expectTimer("http.server.request.duration", ok).values.count == 2)
        let missing = [("http.route", "/api/todos/:id"), ("http.request.method", "GET"), ("http.response.status_code", "404")]
        #expect(try metrics.expectCounter("http.server.requests", missing).totalValue == 1)
        let unmatched = [("http.route", "unmatched"), ("http.request.method", "GET"), ("http.response.status_code", "404")]
        #expect(try metrics.expectCounter("http.server.requests", unmatched).totalValue == 1)
        #expect(metrics.counters.count == 3)
    }
}
