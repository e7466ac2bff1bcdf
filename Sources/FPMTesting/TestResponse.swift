import FPMServer
import HTTPTypes

/// What a handler answered in a ``TestClient`` call: the CGI output the worker would have sent
/// the web server, parsed back into a status, header fields and a body.
public struct TestResponse: Sendable {
    /// The status (`Status:` of the CGI head; 200 without one, as web servers read it).
    public let status: HTTPResponse.Status
    /// The header fields, in order (`Location` included; `Status` is ``status``).
    public let headers: HTTPFields
    /// The body bytes.
    public let body: [UInt8]
    /// What the handler wrote to FCGI_STDERR with `Response.log`.
    public let log: String
    /// The error the handler threw, when it was not an `HTTPError` (the server would log it and
    /// answer 500); its description.
    public let error: String?
    /// The whole CGI output as sent (head and body).
    public let output: [UInt8]
    /// The line the pool's `access.format` logs for this request, as the worker writes it (with
    /// its newline); nil when `access.suppress_path` leaves it out, and for a live client.
    /// CPU and memory placeholders read 0 in-process.
    public let accessLogLine: String?

    init(output: [UInt8], errors: [UInt8], error: (any Error)?, accessLogLine: String? = nil) {
        self.output = output
        self.accessLogLine = accessLogLine
        self.log = String(decoding: errors, as: UTF8.self)
        self.error = error.map { "\($0)" }
        var parser = CGIResponseHeadParser()
        if let (head, body) = try? parser.feed(output) {
            status = HTTPResponse.Status(code: head.effectiveStatus)
            var fields = HTTPFields()
            if let location = head.location { fields[.location] = location }
            for field in head.fields {
                if let name = HTTPField.Name(field.name) { fields.append(HTTPField(name: name, value: field.value)) }
            }
            headers = fields
            self.body = body
        } else {
            status = .internalServerError
            headers = [:]
            body = output
        }
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// A header's first value.
    public func header(_ name: HTTPField.Name) -> String? { headers[name] }
}
