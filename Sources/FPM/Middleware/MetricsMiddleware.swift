import CoreMetrics

/// Request count and duration through swift-metrics, by route pattern, method and status: a
/// counter `http.server.requests` and a timer `http.server.request.duration`, with dimensions
/// `http.route` (``Request/route``, `unmatched` for a 404 or 405: never the raw path, so the
/// number of series stays bounded), `http.request.method` and `http.response.status_code`.
///
/// The backend is the app's: `MetricsSystem.bootstrap(...)` (Prometheus, StatsD, OTel) in
/// `setUp` or before `FPMMain.run`. Without one (swift-metrics' no-op default) the middleware
/// only calls the next: it checks once, at its first request. The metric objects are made once
/// per route, method and status, then reused.
public final class MetricsMiddleware: Middleware {
    /// The counter's label.
    public let requestsLabel: String
    /// The timer's label.
    public let durationLabel: String
    private let givenFactory: (any MetricsFactory)?
    private var factory: (any MetricsFactory)? = nil
    private var enabled: Bool? = nil

    private struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private var metrics: [Key: (Counter, CoreMetrics.Timer)] = [:]

    /// Records through `factory`, or `MetricsSystem.factory` as it is at the first request.
    public init(requestsLabel: String = "http.server.requests", durationLabel: String = "http.server.request.duration",
                factory: (any MetricsFactory)? = nil) {
        self.requestsLabel = requestsLabel
        self.durationLabel = durationLabel
        self.givenFactory = factory
    }

    /// Runs the rest of the chain and records it (also when it threw).
    public func handle(_ request: Request, _ response: Response, next: Router.Responder) throws {
        if enabled == nil {
            let chosen = givenFactory ?? MetricsSystem.factory
            factory = chosen
            enabled = !(chosen is NOOPMetricsHandler)
        }
        guard enabled == true, let factory else { return try next(request, response) }
        let start = ContinuousClock.now
        var failure: (any Error)? = nil
        defer {
            let elapsed = start.duration(to: .now)
            let key = Key(route: request.route ?? "unmatched", method: request.method.rawValue,
                          status: ResponseOutcome.status(response, error: failure))
            let (counter, timer) = metrics[key] ?? make(key, factory)
            counter.increment()
            let (seconds, attoseconds) = elapsed.components
            timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        }
        do {
            try next(request, response)
        } catch {
            failure = error
            throw error
        }
    }

    private func make(_ key: Key, _ factory: any MetricsFactory) -> (Counter, CoreMetrics.Timer) {
        let dimensions = [("http.route", key.route), ("http.request.method", key.method),
                          ("http.response.status_code", String(key.status))]
        let made = (Counter(label: requestsLabel, dimensions: dimensions, factory: factory),
                    CoreMetrics.Timer(label: durationLabel, dimensions: dimensions, factory: factory))
        metrics[key] = made
        return made
    }
}
