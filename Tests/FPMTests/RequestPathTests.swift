@testable import FPM
import FPMServer
import FastCGI
import Testing

/// `Request.path` from what each web server really sends for `GET /hello/world?a=1&a=2`
/// (SCRIPT_NAME, PATH_INFO and REQUEST_URI captured from nginx 1.22, Apache 2.4.71 with
/// mod_proxy_fcgi and lighttpd 1.4.69 with mod_fastcgi, each in front of a FastCGI server that
/// printed its params).
@Suite struct RequestPathTests {
    struct Capture: Sendable, CustomTestStringConvertible {
        var server: String
        var params: [(String, String)]
        var path: String
        var testDescription: String { server }
    }

    static let captures: [Capture] = [
        Capture(server: "nginx, fastcgi_param SCRIPT_NAME $uri (after fastcgi_params)",
                params: [("QUERY_STRING", "a=1&a=2"), ("REQUEST_METHOD", "GET"), ("SCRIPT_NAME", "/hello/w x"),
                         ("REQUEST_URI", "/hello/w%20x?a=1&a=2"), ("DOCUMENT_URI", "/hello/w x"), ("SCRIPT_NAME", "/hello/w x")],
                path: "/hello/w x"),
        Capture(server: "nginx, fastcgi_split_path_info ^(/index)(/.*)$",
                params: [("QUERY_STRING", "a=1"), ("SCRIPT_NAME", "/index"), ("REQUEST_URI", "/index/hello/world?a=1"),
                         ("PATH_INFO", "/hello/world")],
                path: "/index/hello/world"),
        Capture(server: "Apache, SetHandler proxy:fcgi",
                params: [("SCRIPT_FILENAME", "proxy:fcgi://127.0.0.1:19150/tmp/api-capture/hello"), ("QUERY_STRING", "a=1&a=2"),
                         ("REQUEST_URI", "/hello/world?a=1&a=2"), ("SCRIPT_NAME", "/hello"), ("PATH_INFO", "/world")],
                path: "/hello/world"),
        Capture(server: "Apache, ProxyPass / fcgi://",
                params: [("SCRIPT_FILENAME", "proxy:fcgi://127.0.0.1:19150/hello/world"), ("QUERY_STRING", "a=1&a=2"),
                         ("REQUEST_URI", "/hello/world?a=1&a=2"), ("SCRIPT_NAME", "/hello/world")],
                path: "/hello/world"),
        Capture(server: "Apache, ProxyPass /app/ fcgi://…/",
                params: [("SCRIPT_FILENAME", "proxy:fcgi://127.0.0.1:19150/hello/world"), ("QUERY_STRING", "a=1"),
                         ("REQUEST_URI", "/app/hello/world?a=1"), ("SCRIPT_NAME", "/app/hello/world")],
                path: "/app/hello/world"),
        Capture(server: "lighttpd, \"/\" check-local disable",
                params: [("QUERY_STRING", "a=1&a=2"), ("REQUEST_URI", "/hello/world?a=1&a=2"), ("SCRIPT_NAME", "/hello"),
                         ("PATH_INFO", "/world"), ("SCRIPT_FILENAME", "/tmp/api-capture/hello")],
                path: "/hello/world"),
        Capture(server: "lighttpd, fix-root-scriptname enable",
                params: [("QUERY_STRING", "a=1&a=2"), ("REQUEST_URI", "/hello/world?a=1&a=2"), ("SCRIPT_NAME", ""),
                         ("PATH_INFO", "/hello/world"), ("SCRIPT_FILENAME", "/tmp/api-capture/")],
                path: "/hello/world"),
    ]

    @Test(arguments: captures)
    func pathBehindEachServer(capture: Capture) {
        let request = Request(ServerRequest(params: FastCGIParams(capture.params), body: nil))
        #expect(request.path == capture.path)
        #expect(request.query.values(for: "a") == (capture.params.first { $0.0 == "QUERY_STRING" }!.1 == "a=1" ? ["1"] : ["1", "2"]))
    }

    @Test func fallbacksWhenTheServerSendsNeither() {
        #expect(RequestPath.path(scriptName: nil, pathInfo: nil, requestURI: "/from/uri?x=1") == "/from/uri")
        #expect(RequestPath.path(scriptName: "", pathInfo: "", requestURI: nil) == "/")
        #expect(RequestPath.path(scriptName: "/app/", pathInfo: "/x", requestURI: nil) == "/app/x")
        #expect(RequestPath.path(scriptName: "relative", pathInfo: nil, requestURI: nil) == "/relative")
    }

    /// A router behind lighttpd's fix-root-scriptname answers its routes, not 404 (the bug the
    /// issue found: routing on SCRIPT_NAME alone).
    @Test func aRouterRoutesBehindFixRootScriptname() throws {
        let router = Router()
        router.get("/hello/:who") { request, response in try response.send("hi \(request.parameters["who"]!)") }
        let sink = BufferResponseSink()
        let response = ServerResponse(sink: sink)
        try AppHandler(app: router).handle(ServerRequest(params: FastCGIParams(Self.captures.last!.params), body: nil), response)
        #expect(String(decoding: sink.output, as: UTF8.self).hasSuffix("\r\n\r\nhi world"))
    }
}
