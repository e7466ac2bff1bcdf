import FPM
import FPMServer
import FastCGI
import HTTPTypes

/// Calls a ``FPM/Handler`` (a ``FPM/Router`` or an app's own) in-process, as the worker would:
/// a built request in, the status, header fields and body out. No socket, no fork: a test runs
/// in microseconds and can inspect what a handler did.
///
/// ```swift
/// let client = try TestClient(router)
/// let response = try client.get("/hello?name=swift")
/// #expect(response.status == .ok)
/// #expect(response.text == "Hello, swift!\n")
/// ```
///
/// The client runs the handler's `setUp` once when made (with a ``FPM/WorkerInfo`` for pool
/// `test`), and `tearDown` on ``close()``. An ``FPM/HTTPError`` is answered with its status as
/// the server would; any other error is answered 500 and kept in ``TestResponse/error``.
public final class TestClient {
    /// The handler under test.
    public let handler: any Handler
    let adapter: AppHandler
    /// CGI params every request gets before its own (`SERVER_NAME`, `REMOTE_ADDR`…); a test
    /// of what a given web server sends replaces them.
    public var defaultParams: [(String, String)] = [
        ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "FPMTesting"), ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_NAME", "localhost"), ("SERVER_ADDR", "127.0.0.1"), ("SERVER_PORT", "80"),
        ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "50000"),
    ]
    var closed = false

    /// A client for `handler`; runs its `setUp(worker)` now.
    public init(_ handler: any Handler, worker: WorkerInfo = WorkerInfo(pool: "test", pid: 1, slot: 0, environment: [])) throws {
        self.handler = handler
        self.adapter = AppHandler(app: handler)
        try handler.setUp(worker)
    }

    /// Runs the handler's `tearDown` (once).
    public func close() {
        guard !closed else { return }
        closed = true
        handler.tearDown()
    }

    /// Sends one request. `uri` is the path and query (`/todos/3?full=1`); the path becomes
    /// SCRIPT_NAME (as nginx sends it with `fastcgi_param SCRIPT_NAME $uri`), the rest
    /// QUERY_STRING. `params` are added last and win (`[("SCRIPT_NAME", ""), ("PATH_INFO",
    /// "/hello")]` is lighttpd with `fix-root-scriptname`).
    public func execute(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: [UInt8] = [],
                        params: [(String, String)] = []) -> TestResponse {
        let question = uri.firstIndex(of: "?")
        let path = question.map { String(uri[..<$0]) } ?? uri
        let query = question.map { String(uri[uri.index(after: $0)...]) } ?? ""
        var pairs = defaultParams
        pairs += [("REQUEST_METHOD", method.rawValue), ("REQUEST_URI", uri), ("SCRIPT_NAME", path),
                  ("SCRIPT_FILENAME", path), ("QUERY_STRING", query), ("DOCUMENT_URI", path)]
        if !body.isEmpty || method == .post || method == .put || method == .patch {
            pairs.append(("CONTENT_LENGTH", String(body.count)))
        }
        for field in headers {
            let name = field.name.canonicalName
            if name == "content-type" {
                pairs.append(("CONTENT_TYPE", field.value))
            } else if name == "content-length" {
                pairs.append(("CONTENT_LENGTH", field.value))
            } else {
                pairs.append(("HTTP_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 }), field.value))
            }
        }
        for (name, value) in params {
            pairs.removeAll { $0.0 == name }
            pairs.append((name, value))
        }
        return execute(params: pairs, body: body)
    }

    /// Sends one request made of exactly these CGI params and body, as a web server would.
    public func execute(params: [(String, String)], body: [UInt8] = []) -> TestResponse {
        let sink = BufferResponseSink()
        let request = ServerRequest(params: FastCGIParams(params), body: BufferBodySource(body))
        let response = ServerResponse(sink: sink)
        if params.last(where: { $0.0 == "REQUEST_METHOD" })?.1 == "HEAD" { response.sendsBody = false }
        var caught: (any Error)? = nil
        do {
            try adapter.handle(request, response)
        } catch {
            // What the worker does with an error that is not an HTTPError.
            caught = error
            if !response.headSent {
                response.status = 500
                try? response.setHeader("Content-Type", "text/plain; charset=utf-8")
                try? response.write("Internal Server Error\n")
            }
        }
        try? response.finish()
        return TestResponse(output: sink.output, errors: sink.errors, error: caught)
    }

    /// A GET request.
    public func get(_ uri: String, headers: HTTPFields = [:]) -> TestResponse { execute(.get, uri, headers: headers) }
    /// A HEAD request.
    public func head(_ uri: String, headers: HTTPFields = [:]) -> TestResponse { execute(.head, uri, headers: headers) }
    /// A DELETE request.
    public func delete(_ uri: String, headers: HTTPFields = [:]) -> TestResponse { execute(.delete, uri, headers: headers) }
    /// A POST request with a body.
    public func post(_ uri: String, body: [UInt8] = [], headers: HTTPFields = [:]) -> TestResponse {
        execute(.post, uri, headers: headers, body: body)
    }
    /// A POST of text (`contentType` `text/plain` unless given).
    public func post(_ uri: String, text: String, contentType: String = "text/plain; charset=utf-8", headers: HTTPFields = [:]) -> TestResponse {
        var fields = headers
        fields[.contentType] = contentType
        return execute(.post, uri, headers: fields, body: Array(text.utf8))
    }
    /// A POST of a URL-encoded form.
    public func post(_ uri: String, form: [(String, String)], headers: HTTPFields = [:]) -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/x-www-form-urlencoded"
        let text = form.map { "\(TestClient.formEscape($0.0))=\(TestClient.formEscape($0.1))" }.joined(separator: "&")
        return execute(.post, uri, headers: fields, body: Array(text.utf8))
    }
    /// A PUT request with a body.
    public func put(_ uri: String, body: [UInt8] = [], headers: HTTPFields = [:]) -> TestResponse {
        execute(.put, uri, headers: headers, body: body)
    }

    static func formEscape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            case UInt8(ascii: " "): out += "+"
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 15)]))
            }
        }
        return out
    }
}

/// A request body held in memory, read as the worker's connection would be.
final class BufferBodySource: RequestBodySource {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func readBody(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + n]))
        }
        offset += n
        return n
    }
}
