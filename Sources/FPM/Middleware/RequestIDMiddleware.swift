import HTTPTypes

/// Sends each request's id back as `X-Request-Id` (or another header), so a line in the app's
/// log, the client's report and the front end's log can be matched.
///
/// The id is ``Request/id``, the one the server also writes in the access log (`%I`), the
/// slowlog and the status page: the request's `X-Request-Id` when it is safe to log, else the
/// trace id of its W3C `traceparent`, else a new trace id. One id, computed in one place.
public final class RequestIDMiddleware: Middleware {
    /// The response header the id is sent in.
    public let header: HTTPField.Name

    /// A middleware that sends the id in `header`.
    public init(header: HTTPField.Name = HTTPField.Name("X-Request-Id")!) { self.header = header }

    /// Sets the response header, then runs the rest of the chain.
    public func handle(_ request: Request, _ response: Response, next: Router.Responder) throws {
        try response.setHeader(header, request.id)
        try next(request, response)
    }
}
