import FPMServer
import FastCGI
import HTTPTypes

/// One request as a handler sees it: method, path, query, headers, cookies and body, over the
/// CGI environment the web server sent (still reachable through ``params`` and
/// ``subscript(param:)``).
///
/// A view over the worker's request state, valid during `handle`. Nothing is parsed until it is
/// asked for: the query string and the `Cookie` header are scanned on each lookup, so an app
/// that never reads them pays nothing.
public struct Request {
    let unchecked: ServerRequest
    /// The values a ``Router`` route's `:name` segments captured (empty outside a router).
    public internal(set) var parameters: RouteParameters
    /// The matched route's pattern, its group's prefix included (`/api/todos/:id`): a name for
    /// the route in logs and metrics that does not vary with the path. nil outside a router and
    /// for a request no route matched.
    public internal(set) var route: String? = nil

    /// The worker's request. Debug builds check on every use that `handle` has not returned
    /// (a `Request` kept past it reads the next request's state): a clear trap instead.
    @inline(__always) var base: ServerRequest {
        #if DEBUG
        assert(unchecked.isLive, "FPM.Request used after its handler returned: a Request is valid only during handle(_:_:); copy the values you need out of it")
        #endif
        return unchecked
    }

    init(_ base: ServerRequest) {
        self.unchecked = base
        self.parameters = RouteParameters()
    }

    // MARK: CGI

    /// Every CGI param, in the order the web server sent them.
    public var params: FastCGIParams { base.params }
    /// A CGI param by name (`SERVER_NAME`, `HTTPS`, anything a `fastcgi_param` set).
    public subscript(param name: String) -> String? { base.params[name] }

    /// The method (`REQUEST_METHOD`); GET when the web server sent none or one that is not a
    /// token.
    public var method: HTTPRequest.Method {
        base.params.withValue(.requestMethod) { raw in
            guard let raw else { return .get }
            // The common ones without building a String.
            if raw.elementsEqual("GET".utf8) { return .get }
            if raw.elementsEqual("POST".utf8) { return .post }
            if raw.elementsEqual("HEAD".utf8) { return .head }
            return HTTPRequest.Method(String(decoding: raw, as: UTF8.self)) ?? .get
        }
    }

    /// The request's path, as routes see it: `SCRIPT_NAME` + `PATH_INFO`, which is the path
    /// whatever the web server in front (see ``RequestPath``).
    public var path: String {
        // The usual case (nginx: SCRIPT_NAME is the path, no PATH_INFO) is SCRIPT_NAME as it
        // is: one String from its bytes, nothing joined or looked up twice.
        if base.params.withValue(.pathInfo, { ($0?.count ?? 0) == 0 }),
           let script = base.params.withValue(.scriptName, { bytes -> String? in
               guard let bytes, bytes.first == UInt8(ascii: "/") else { return nil }
               return String(decoding: bytes, as: UTF8.self)
           }) {
            return script
        }
        return RequestPath.path(scriptName: base.params["SCRIPT_NAME"], pathInfo: base.params["PATH_INFO"],
                         requestURI: base.params["REQUEST_URI"])
    }

    /// `REQUEST_URI` as the web server sent it (path and query, not decoded).
    public var uri: String { base.uri }
    /// `SCRIPT_NAME`.
    public var scriptName: String { base.scriptName }
    /// `PATH_INFO`, when the web server sent one.
    public var pathInfo: String? { base.pathInfo }
    /// `QUERY_STRING`, not decoded ("" when none).
    public var queryString: String { base.queryString }
    /// `SCRIPT_FILENAME`.
    public var scriptFilename: String? { base.scriptFilename }
    /// `DOCUMENT_ROOT`.
    public var documentRoot: String? { base.documentRoot }
    /// `REMOTE_ADDR`: the client's address as the web server saw it.
    public var remoteAddress: String? { base.remoteAddress }
    /// `REMOTE_PORT`.
    public var remotePort: Int? { base.params["REMOTE_PORT"].flatMap { Int($0) } }
    /// `SERVER_NAME`.
    public var serverName: String? { base.params["SERVER_NAME"] }
    /// `SERVER_ADDR`.
    public var serverAddress: String? { base.params["SERVER_ADDR"] }
    /// `SERVER_PORT`.
    public var serverPort: Int? { base.params["SERVER_PORT"].flatMap { Int($0) } }
    /// `SERVER_PROTOCOL` (`HTTP/1.1`).
    public var serverProtocol: String? { base.params["SERVER_PROTOCOL"] }
    /// `https` when the web server says the client used TLS (`HTTPS` set and not `off`),
    /// else `http`.
    public var scheme: String {
        guard let https = base.params["HTTPS"], !https.isEmpty, https.lowercased() != "off" else { return "http" }
        return "https"
    }

    // MARK: query, headers, cookies

    /// The query string's parameters: `query["name"]` is the first value of `name`,
    /// `query.values(for: "tag")` every value of a repeated key.
    public var query: URLEncodedParameters { URLEncodedParameters(base.queryString) }

    /// A request header by name (`Accept-Language` is the CGI param HTTP_ACCEPT_LANGUAGE;
    /// `Content-Type` and `Content-Length` are CONTENT_TYPE and CONTENT_LENGTH).
    public func header(_ name: HTTPField.Name) -> String? { base.header(name.rawName) }
    /// A request header by its name as a string, case-insensitively.
    public func header(_ name: String) -> String? { base.header(name) }

    /// Every request header the web server passed on, built when asked for. CGI turns `-` into
    /// `_` in names, so a name comes back in lowercase with dashes.
    public var headers: HTTPFields {
        var fields = HTTPFields()
        for (name, value) in base.params {
            let fieldName: String
            if let header = CGIHeaderName.header(forParam: name) {
                fieldName = header
            } else if name == "CONTENT_TYPE" {
                fieldName = "content-type"
            } else if name == "CONTENT_LENGTH" {
                fieldName = "content-length"
            } else {
                continue
            }
            guard let n = HTTPField.Name(fieldName), HTTPField.isValidValue(value) else { continue }
            fields.append(HTTPField(name: n, value: value))
        }
        return fields
    }

    /// The `Cookie` header's cookies: `cookies["session"]`.
    public var cookies: Cookies { Cookies(base.params["HTTP_COOKIE"] ?? "") }

    /// `CONTENT_TYPE`.
    public var contentType: String? { base.contentType }
    /// `CONTENT_LENGTH`, when the web server sent one.
    public var contentLength: Int? { base.contentLength }
}
