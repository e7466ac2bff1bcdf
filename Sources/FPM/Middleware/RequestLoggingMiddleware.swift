import Logging

/// One line per request in the pool's error log: method, path, status and duration
/// (`GET /todos/3 200 0.412ms`), with the request's id when ``RequestIDMiddleware`` runs
/// before it.
///
/// The lines go through swift-log; in a worker, swift-log writes to the pool's error log
/// (`[request] GET /todos/3 200 0.412ms` after the worker's prefix), at `level` (`.info`, which
/// the error log shows from `log_level = notice`). The logger is made at the first request,
/// after the server set swift-log up, unless one is given.
public final class RequestLoggingMiddleware: Middleware {
    private var logger: Logger?
    private let label: String
    /// The level lines are logged at.
    public let level: Logger.Level

    /// Logs through `logger`, or a logger labelled `label` made at the first request.
    public init(logger: Logger? = nil, label: String = "request", level: Logger.Level = .info) {
        self.logger = logger
        self.label = label
        self.level = level
    }

    /// Runs the rest of the chain, then logs the line (also when it threw).
    public func handle(_ request: Request, _ response: Response, next: Router.Responder) throws {
        let start = ContinuousClock.now
        var failure: (any Error)? = nil
        defer { log(request, response, start: start, error: failure) }
        do {
            try next(request, response)
        } catch {
            failure = error
            throw error
        }
    }

    private func log(_ request: Request, _ response: Response, start: ContinuousClock.Instant, error: (any Error)?) {
        if logger == nil { logger = Logger(label: label) }
        guard let logger, logger.logLevel <= level else { return }
        let status = ResponseOutcome.status(response, error: error)
        let line = "\(request.method.rawValue) \(request.path) \(status) \(Self.milliseconds(start.duration(to: .now)))"
        logger.log(level: level, "\(line)", metadata: ["request-id": "\(request.id)"])
    }

    /// `1.234ms`: milliseconds with three decimals, without Foundation's formatting.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        let fraction = String(micros % 1000)
        return "\(micros / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)ms"
    }
}
