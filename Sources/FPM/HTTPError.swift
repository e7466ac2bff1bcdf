import HTTPTypes

/// An error an app throws to answer with a given status: `throw HTTPError(.notFound)`,
/// `throw HTTPError(.badRequest, "name is required")`.
///
/// The worker answers it with `status`, `headers` and `message` (as `text/plain`), and logs
/// nothing: it is the answer the app chose, not a fault. Any other error thrown from a handler
/// is a fault: it is logged and answered 500. Thrown after the response head was sent, an
/// `HTTPError` can no longer change the status, and is then handled like any other error.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    /// The status to answer with.
    public var status: HTTPResponse.Status
    /// The body, sent as `text/plain; charset=utf-8` followed by a newline; the status's reason
    /// phrase when none was given.
    public var message: String
    /// Header fields to send with the answer (`Allow` with a 405, `WWW-Authenticate` with a 401).
    public var headers: HTTPFields

    /// An error answered with `status`, and `message` (or the reason phrase) as its body.
    public init(_ status: HTTPResponse.Status, _ message: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message ?? status.reasonPhrase
        self.headers = headers
    }

    /// `404 no route for /x`: the status code and the message.
    public var description: String { "\(status.code) \(message)" }
}
