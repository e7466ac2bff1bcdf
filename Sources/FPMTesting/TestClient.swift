import FPM
import FPMConfiguration
import FPMServer
import FPMStatus
import FPMSystem
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
/// A request takes the worker's path around the handler: the front-end quirks are put right
/// (`FrontEndQuirks`), the pool's `ping.path` page answers, an `HTTPError` is answered with its
/// status, any other error gets the worker's 500 (and is kept in ``TestResponse/error``), and
/// ``TestResponse/accessLogLine`` is the line the pool's `access.format` would log. Cookies a
/// response sets are kept in ``cookies`` and sent back, as a browser would.
///
/// The client runs the handler's `setUp` once when made (with a ``FPM/WorkerInfo`` for pool
/// `test`), and `tearDown` on ``close()``. ``live(executable:pool:arguments:timeout:)`` makes a
/// client of the app's real binary instead.
public final class TestClient {
    /// The handler under test (nil for a live client).
    public let handler: (any Handler)?
    let adapter: AppHandler?
    /// The live server, for a client of a real binary.
    let server: LiveServer?
    /// The pool settings requests are served with (`ping.path`, `access.format`…).
    public let configuration: PoolConfiguration
    let accessFormat: AccessLogFormat
    let worker: WorkerInfo
    /// Cookies kept between calls: read them, set one, or ``TestCookieJar/clear()`` them.
    public var cookies = TestCookieJar()
    /// Whether responses' `Set-Cookie` go into ``cookies`` and ``cookies`` into requests.
    public var keepsCookies = true
    /// CGI params every request gets before its own (`SERVER_NAME`, `REMOTE_ADDR`…); a test
    /// of what a given web server sends replaces them.
    public var defaultParams: [(String, String)] = [
        ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_SOFTWARE", "FPMTesting"), ("SERVER_PROTOCOL", "HTTP/1.1"),
        ("SERVER_NAME", "localhost"), ("SERVER_ADDR", "127.0.0.1"), ("SERVER_PORT", "80"),
        ("REMOTE_ADDR", "127.0.0.1"), ("REMOTE_PORT", "50000"),
    ]
    var closed = false

    /// A client for `handler`, served as pool `configuration` is (`PoolConfiguration(name:
    /// "test")`: no ping page, the default access format); runs its `setUp(worker)` now.
    public init(_ handler: any Handler, worker: WorkerInfo = WorkerInfo(pool: "test", pid: 1, slot: 0, environment: []),
                configuration: PoolConfiguration = PoolConfiguration(name: "test")) throws {
        self.handler = handler
        self.adapter = AppHandler(app: handler)
        self.server = nil
        self.configuration = configuration
        self.accessFormat = try AccessLogFormat(parsing: configuration.accessFormat)
        self.worker = worker
        try handler.setUp(worker)
    }

    /// A client for `handler` served as a pool with these directives is (pool-file lines:
    /// `ping.path = /ping`, `access.format = "%m %r %s"`), the same text ``live(executable:pool:arguments:timeout:)``
    /// takes. Throws the configuration's diagnostics when a line is wrong.
    public convenience init(_ handler: any Handler, worker: WorkerInfo = WorkerInfo(pool: "test", pid: 1, slot: 0, environment: []),
                            pool directives: String) throws {
        let text = "[global]\nerror_log = /dev/null\n[\(worker.pool)]\nlisten = /run/fpmtesting-unused.sock\npm = static\npm.max_children = 1\nhandler = info\n\(directives)\n"
        let loaded = try ConfigurationLoader.load(text: text, path: nil, environment: [:],
                                                  accessFormatValidator: AccessLogFormat.validate)
        guard let pool = loaded.pools.first else { throw LiveServerError("no pool in \(text)") }
        try self.init(handler, worker: worker, configuration: pool)
    }

    init(server: LiveServer) {
        self.handler = nil
        self.adapter = nil
        self.server = server
        self.configuration = server.configuration
        self.accessFormat = (try? AccessLogFormat(parsing: AccessLogFormat.defaultFormat))!
        self.worker = WorkerInfo(pool: server.configuration.name, pid: server.pid, slot: 0, environment: [])
    }

    /// Runs the handler's `tearDown`, or stops a live server (once).
    public func close() {
        guard !closed else { return }
        closed = true
        handler?.tearDown()
        server?.stop()
    }

    deinit { server?.stop() }

    /// Sends one request. `uri` is the path and query (`/todos/3?full=1`); the path becomes
    /// SCRIPT_NAME (as nginx sends it with `fastcgi_param SCRIPT_NAME $uri`), the rest
    /// QUERY_STRING. `params` are added last and win (`[("SCRIPT_NAME", ""), ("PATH_INFO",
    /// "/hello")]` is lighttpd with `fix-root-scriptname`). The kept ``cookies`` for the path
    /// go in `Cookie` unless `headers` has one.
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
                pairs.append((CGIHeaderName.param(forHeader: name), field.value))
            }
        }
        if keepsCookies, headers[.cookie] == nil, let cookie = cookies.header(for: path) {
            pairs.append(("HTTP_COOKIE", cookie))
        }
        for (name, value) in params {
            pairs.removeAll { $0.0 == name }
            pairs.append((name, value))
        }
        return execute(params: pairs, body: body)
    }

    /// Sends one request made of exactly these CGI params and body, as a web server would.
    /// The ``cookies`` are not added here (``execute(_:_:headers:body:params:)`` adds them),
    /// but a response's `Set-Cookie` is kept.
    public func execute(params: [(String, String)], body: [UInt8] = []) -> TestResponse {
        let response = server.map { $0.send(params: params, body: body) } ?? serveInProcess(params: params, body: body)
        if keepsCookies {
            func param(_ name: String) -> String? { params.last { $0.0 == name }?.1 }
            let path = RequestPath.path(scriptName: param("SCRIPT_NAME"), pathInfo: param("PATH_INFO"),
                                        requestURI: param("REQUEST_URI"))
            for field in response.headers where field.name == .setCookie {
                cookies.receive(field.value, requestPath: path)
            }
        }
        return response
    }

    /// What the worker does for one request (Worker.respond), minus the socket and scoreboard.
    func serveInProcess(params pairs: [(String, String)], body: [UInt8]) -> TestResponse {
        let started = SystemClock.monotonicNanos(), startWall = SystemClock.wallClock()
        let params = FrontEndQuirks.normalized(FastCGIParams(pairs))
        let sink = BufferResponseSink()
        let request = ServerRequest(params: params, body: BufferBodySource(body))
        let response = ServerResponse(sink: sink)
        if params["REQUEST_METHOD"] == "HEAD" { response.sendsBody = false }
        var caught: (any Error)? = nil
        do {
            // The status page needs the pool's scoreboard: served by a live client only.
            if try !BuiltInPages.serve(config: configuration, request: request, response: response, statusPage: nil) {
                try adapter?.handle(request, response)
            }
        } catch {
            caught = error
            HandlerFailure.answer(response)
        }
        request.end()
        try? response.finish()
        var line: [UInt8] = []
        let logged = AccessLogWriter.render(
            accessFormat, suppressPaths: Set(configuration.accessSuppressPaths), request: request, response: response,
            peer: TestClient.peer, pool: configuration.name, pid: worker.pid, masterPID: 0, startWall: startWall,
            durationMicros: (SystemClock.monotonicNanos() - started) / 1000, cpuUserMicros: 0, cpuSystemMicros: 0,
            memory: 0, into: &line)
        return TestResponse(output: sink.output, errors: sink.errors, error: caught,
                            accessLogLine: logged ? String(decoding: line, as: UTF8.self) : nil)
    }

    /// The web server as the worker would see it: on the loopback, over TCP.
    static let peer = PeerAddress(literal: "127.0.0.1")!

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
